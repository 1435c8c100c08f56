package engine

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	k8sversion "k8s.io/apimachinery/pkg/util/version"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/engine/internal/common"
	"github.com/capstan-dev/capstan/internal/engine/internal/version"
)

// Capabilities is what .Capabilities shows a template: the Kubernetes version, the served API
// versions and the Helm version whose behaviour is followed.
type Capabilities = common.Capabilities

// KubeVersion is a Kubernetes version with String and GitVersion methods.
type KubeVersion = common.KubeVersion

// VersionSet is a list of API versions with a Has method.
type VersionSet = common.VersionSet

// HelmVersion is .Capabilities.HelmVersion: Version, GitCommit, GitTreeState, GoVersion and
// KubeClientVersion, with Helm v4's JSON keys.
type HelmVersion = version.BuildInfo

// Default versions reported when no cluster is consulted, as Helm v4.3.1 does.
const (
	// DefaultKubeVersion is the Kubernetes version Helm v4.3.1 assumes without a cluster.
	DefaultKubeVersion = "v1.37.0"
	// HelmCompatVersion is the Helm version whose rendering Capstan reproduces.
	HelmCompatVersion = "v4.3.1"
	defaultKubeMajor  = "1"
	defaultKubeMinor  = "37"
	defaultKubeClient = "v1.37"
)

// defaultAPIVersions is the group/version list Helm v4.3.1 reports without a cluster, in its order.
var defaultAPIVersions = []string{
	"v1",
	"admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1alpha1", "admissionregistration.k8s.io/v1beta1",
	"internal.apiserver.k8s.io/v1alpha1",
	"apps/v1", "apps/v1beta1", "apps/v1beta2",
	"authentication.k8s.io/v1", "authentication.k8s.io/v1alpha1", "authentication.k8s.io/v1beta1",
	"authorization.k8s.io/v1", "authorization.k8s.io/v1beta1",
	"autoscaling/v1", "autoscaling/v2",
	"batch/v1", "batch/v1beta1",
	"certificates.k8s.io/v1", "certificates.k8s.io/v1beta1", "certificates.k8s.io/v1alpha1",
	"coordination.k8s.io/v1alpha2", "coordination.k8s.io/v1beta1", "coordination.k8s.io/v1",
	"discovery.k8s.io/v1", "discovery.k8s.io/v1beta1",
	"events.k8s.io/v1", "events.k8s.io/v1beta1",
	"extensions/v1beta1",
	"flowcontrol.apiserver.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1beta1",
	"flowcontrol.apiserver.k8s.io/v1beta2", "flowcontrol.apiserver.k8s.io/v1beta3",
	"lifecycle.k8s.io/v1alpha1",
	"networking.k8s.io/v1", "networking.k8s.io/v1beta1",
	"node.k8s.io/v1", "node.k8s.io/v1alpha1", "node.k8s.io/v1beta1",
	"policy/v1", "policy/v1beta1",
	"rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1beta1", "rbac.authorization.k8s.io/v1alpha1",
	"resource.k8s.io/v1", "resource.k8s.io/v1beta2", "resource.k8s.io/v1beta1", "resource.k8s.io/v1alpha3",
	"scheduling.k8s.io/v1alpha3", "scheduling.k8s.io/v1beta1", "scheduling.k8s.io/v1",
	"storage.k8s.io/v1beta1", "storage.k8s.io/v1", "storage.k8s.io/v1alpha1",
	"storagemigration.k8s.io/v1", "storagemigration.k8s.io/v1beta1",
	"apiextensions.k8s.io/v1beta1", "apiextensions.k8s.io/v1",
}

// DefaultCapabilities returns a fresh copy of the capabilities Helm v4.3.1 reports when it does
// not talk to a cluster (helm template): Kubernetes v1.37.0 and the 57 default API versions.
func DefaultCapabilities() *Capabilities {
	return &Capabilities{
		KubeVersion: common.NewKubeVersion(DefaultKubeVersion, DefaultKubeVersion, defaultKubeMajor, defaultKubeMinor),
		APIVersions: slices.Clip(slices.Clone(VersionSet(defaultAPIVersions))),
		HelmVersion: HelmVersion{
			Version:           HelmCompatVersion,
			GoVersion:         runtime.Version(),
			KubeClientVersion: defaultKubeClient,
		},
	}
}

// ParseKubeVersion reads a version as helm template --kube-version does in v4: the full string
// (with a "v" prefix added when missing) is kept in Version, and String returns the numeric part
// only, which is also what kubeVersion constraints are checked against.
func ParseKubeVersion(s string) (KubeVersion, error) {
	v, err := k8sversion.ParseGeneric(s)
	if err != nil {
		return KubeVersion{}, fmt.Errorf("parse kube version %q: %w", s, err)
	}
	full := s
	if !strings.HasPrefix(full, "v") {
		full = "v" + full
	}
	major := strconv.FormatUint(uint64(v.Major()), 10)
	minor := strconv.FormatUint(uint64(v.Minor()), 10)
	return common.NewKubeVersion(full, "v"+v.String(), major, minor), nil
}

// CheckKubeVersion checks the root chart's kubeVersion constraint against caps, with Helm's
// message when the cluster does not satisfy it. A chart without a constraint always passes.
func CheckKubeVersion(c *chart.Chart, caps *Capabilities) error {
	if c == nil || c.Metadata == nil || c.Metadata.KubeVersion == "" {
		return nil
	}
	if caps == nil {
		caps = DefaultCapabilities()
	}
	if compatibleRange(c.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return nil
	}
	return &KubeVersionError{Constraint: c.Metadata.KubeVersion, Version: caps.KubeVersion.Version}
}

// KubeVersionError reports a chart whose kubeVersion constraint the cluster does not satisfy.
type KubeVersionError struct {
	// Constraint is the chart's kubeVersion.
	Constraint string
	// Version is the cluster's full Kubernetes version.
	Version string
}

// Error returns Helm's message.
func (e *KubeVersionError) Error() string {
	return fmt.Sprintf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", e.Constraint, e.Version)
}

// compatibleRange reports whether version satisfies constraint; anything unparsable fails.
func compatibleRange(constraint, ver string) bool {
	v, err := semver.NewVersion(ver)
	if err != nil {
		return false
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return false
	}
	return c.Check(v)
}
