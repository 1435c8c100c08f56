// Package version owns the build identity of Capstan's binaries: the version, git commit and
// build date the release build stamps in with -ldflags -X, falling back to the VCS settings the Go
// toolchain records (runtime/debug.ReadBuildInfo) when a plain `go build` left them unset.
package version
