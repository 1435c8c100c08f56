package common

import (
	"slices"

	"github.com/capstan-dev/capstan/internal/engine/internal/version"
)

// Capabilities describes what the target cluster offers, as .Capabilities shows it.
type Capabilities struct {
	// KubeVersion is the Kubernetes version.
	KubeVersion KubeVersion
	// APIVersions are the group/versions (and, from a live cluster, group/version/kinds) served.
	APIVersions VersionSet
	// HelmVersion describes the Helm release whose behaviour Capstan follows.
	HelmVersion version.BuildInfo
}

// Copy returns a copy whose APIVersions can be appended to without touching the original.
func (c *Capabilities) Copy() *Capabilities {
	return &Capabilities{
		KubeVersion: c.KubeVersion,
		APIVersions: slices.Clip(slices.Clone(c.APIVersions)),
		HelmVersion: c.HelmVersion,
	}
}

// KubeVersion is a Kubernetes version as .Capabilities.KubeVersion shows it.
type KubeVersion struct {
	// Version is the full version, suffix included (for example v1.33.4-gke.1245000).
	Version string
	// Major is the major version number.
	Major string
	// Minor is the minor version number.
	Minor string

	// normalized is the version without suffix, used by String and constraint checks when set.
	normalized string
}

// NewKubeVersion returns a KubeVersion whose String form is normalized rather than the full version.
func NewKubeVersion(full, normalized, major, minor string) KubeVersion {
	return KubeVersion{Version: full, Major: major, Minor: minor, normalized: normalized}
}

// String returns the normalized version when one is known, else the full version. It has a value
// receiver so that the version prints the same whether or not the template reached it through a
// pointer.
func (kv KubeVersion) String() string {
	if kv.normalized != "" {
		return kv.normalized
	}
	return kv.Version
}

// GitVersion returns the full version.
func (kv KubeVersion) GitVersion() string { return kv.Version }

// VersionSet is a list of API versions with a membership test.
type VersionSet []string

// Has reports whether apiVersion is in the set (exact string match).
func (v VersionSet) Has(apiVersion string) bool {
	return slices.Contains(v, apiVersion)
}
