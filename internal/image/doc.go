// Package image builds Capstan's container images without a container engine: it compiles the
// manager and the CLI as static binaries for each platform, lays them on a base built in process
// (a non-root user, /tmp, CA certificates), writes multi-arch OCI indexes with OCI labels, attaches
// an SPDX 2.3 SBOM to every platform image as an OCI 1.1 referrer, and writes the result to an OCI
// image layout or pushes it to a registry. Everything it writes is derived from its inputs and a
// fixed timestamp, so the same commit gives the same digests.
package image
