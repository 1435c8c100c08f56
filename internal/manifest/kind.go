package manifest

import "slices"

// KindOrder lists resource kinds in the order Helm creates (or deletes) them. Kinds that are not
// listed come after every listed kind, ordered by name.
type KindOrder []string

// InstallOrder is Helm v4's install order: cluster-wide and configuration objects first, then
// RBAC, services, workloads, and the webhook configurations last.
var InstallOrder = KindOrder{
	"PriorityClass",
	"Namespace",
	"NetworkPolicy",
	"ResourceQuota",
	"LimitRange",
	"PodSecurityPolicy",
	"PodDisruptionBudget",
	"ServiceAccount",
	"Secret",
	"SecretList",
	"ConfigMap",
	"StorageClass",
	"PersistentVolume",
	"PersistentVolumeClaim",
	"CustomResourceDefinition",
	"ClusterRole",
	"ClusterRoleList",
	"ClusterRoleBinding",
	"ClusterRoleBindingList",
	"Role",
	"RoleList",
	"RoleBinding",
	"RoleBindingList",
	"Service",
	"DaemonSet",
	"Pod",
	"ReplicationController",
	"ReplicaSet",
	"Deployment",
	"HorizontalPodAutoscaler",
	"StatefulSet",
	"Job",
	"CronJob",
	"IngressClass",
	"Ingress",
	"APIService",
	"MutatingWebhookConfiguration",
	"ValidatingWebhookConfiguration",
}

// UninstallOrder is Helm v4's uninstall order: the webhook configurations first, so that no
// webhook blocks the deletions that follow, then roughly the install order reversed.
var UninstallOrder = KindOrder{
	"ValidatingWebhookConfiguration",
	"MutatingWebhookConfiguration",
	"APIService",
	"Ingress",
	"IngressClass",
	"Service",
	"CronJob",
	"Job",
	"StatefulSet",
	"HorizontalPodAutoscaler",
	"Deployment",
	"ReplicaSet",
	"ReplicationController",
	"Pod",
	"DaemonSet",
	"RoleBindingList",
	"RoleBinding",
	"RoleList",
	"Role",
	"ClusterRoleBindingList",
	"ClusterRoleBinding",
	"ClusterRoleList",
	"ClusterRole",
	"CustomResourceDefinition",
	"PersistentVolumeClaim",
	"PersistentVolume",
	"StorageClass",
	"ConfigMap",
	"SecretList",
	"Secret",
	"ServiceAccount",
	"PodDisruptionBudget",
	"PodSecurityPolicy",
	"LimitRange",
	"ResourceQuota",
	"NetworkPolicy",
	"Namespace",
	"PriorityClass",
}

// Less reports whether kind a sorts before kind b: two listed kinds by their position, a listed
// kind before an unlisted one, two unlisted kinds by name.
func (o KindOrder) Less(a, b string) bool {
	ia, aok := o.index(a)
	ib, bok := o.index(b)
	switch {
	case aok && bok:
		return ia < ib
	case aok != bok:
		return aok
	default:
		return a < b
	}
}

func (o KindOrder) index(kind string) (int, bool) {
	i := slices.Index(o, kind)
	return i, i >= 0
}

// SortManifests orders manifests by kind with a stable sort, so that documents of the same kind
// keep their input order (template name, then position in the file).
func (o KindOrder) SortManifests(ms []Manifest) {
	slices.SortStableFunc(ms, func(a, b Manifest) int { return o.compare(a.Head.kind(), b.Head.kind()) })
}

// SortHooks orders hooks by kind with a stable sort, as Helm does before printing them.
func (o KindOrder) SortHooks(hs []Hook) {
	slices.SortStableFunc(hs, func(a, b Hook) int { return o.compare(a.Kind, b.Kind) })
}

func (o KindOrder) compare(a, b string) int {
	switch {
	case o.Less(a, b):
		return -1
	case o.Less(b, a):
		return 1
	default:
		return 0
	}
}
