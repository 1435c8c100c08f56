// Package v1alpha1 holds Capstan's API, group capstan.dev version v1alpha1: the ChartRepository
// kind (where charts come from) and the Release kind (which chart, which versions, which values,
// and the recorded state of the installed release). It owns the schema users write, its
// validation and defaults (as kubebuilder markers and as getters on the types), the condition
// types and reasons the controllers report, and the history and inventory records kept in
// status. It imports only apimachinery, so the CLI and the controllers can share it cheaply.
//
// +kubebuilder:object:generate=true
// +groupName=capstan.dev
package v1alpha1
