// Command imagebuild builds Capstan's container images without a container engine (internal/image):
// the manager image (capstan) and the CLI image (capstan-cli), each a multi-arch OCI index with an
// SPDX SBOM attached to every platform image, written as OCI image layouts under --out.
//
//	go run ./hack/imagebuild --out bin/image --version V --commit SHA --created 2026-12-07T10:00:00Z
//
// --repo PREFIX names the images PREFIX/capstan and PREFIX/capstan-cli; --push pushes them there
// (tag TAG, and the SBOMs), and --pin FILE points the `images:` entry named capstan of the
// kustomization FILE at PREFIX/capstan by digest — the content's digest, the same before and
// after a push. `make image` and `make release` run it; docs/image.md says why it works
// the way it does.
package main
