// Command imagebuild builds Capstan's container images without a container engine (internal/image):
// the manager image (capstan) and the CLI image (capstan-cli), each a multi-arch OCI index with an
// SPDX SBOM attached to every platform image, written as OCI image layouts under --out.
//
//	go run ./hack/imagebuild --out bin/image --version V --commit SHA --created 2026-12-07T10:00:00Z
//
// With --repo PREFIX it also pushes PREFIX/capstan:TAG and PREFIX/capstan-cli:TAG (and the SBOMs),
// and with --pin FILE it points the `images:` entry named capstan of the kustomization FILE at
// PREFIX/capstan by digest. `make image` and `make release` run it; docs/image.md says why it works
// the way it does.
package main
