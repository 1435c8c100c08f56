package version

// BuildInfo describes a Helm build, with Helm v4's JSON keys.
type BuildInfo struct {
	// Version is the Helm version.
	Version string `json:"version,omitempty"`
	// GitCommit is the commit Helm was built from.
	GitCommit string `json:"git_commit,omitempty"`
	// GitTreeState is the state of the git tree Helm was built from.
	GitTreeState string `json:"git_tree_state,omitempty"`
	// GoVersion is the Go version of the build.
	GoVersion string `json:"go_version,omitempty"`
	// KubeClientVersion is the Kubernetes client version of the build, for example v1.37.
	KubeClientVersion string `json:"kube_client_version"`
}
