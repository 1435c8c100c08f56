package v1alpha1

const (
	// FieldManager is the server-side apply field manager under which Capstan writes every object
	// it manages, and its own status.
	FieldManager = "capstan"

	// Finalizer is the finalizer Capstan puts on a Release (so the release is uninstalled before the
	// object goes away) and on a ChartRepository.
	Finalizer = Group + "/finalizer"

	// ReconcileRequestAnnotation asks for an immediate reconcile when its value changes, whatever
	// the interval. Any value works; tools write the current time. The handled value is recorded
	// in status.lastHandledReconcileAt.
	ReconcileRequestAnnotation = Group + "/reconcile"

	// RollbackToAnnotation asks for a manual rollback of a Release to the revision in its value
	// (a positive decimal integer, as listed in status.history). The controller re-applies that
	// revision's stored manifest as a new revision and then holds there until the spec's
	// generation changes. The handled value is recorded in status.lastHandledRollbackTo.
	RollbackToAnnotation = Group + "/rollback-to"

	// ResetAnnotation asks the controller to reset a Release's failure counters (failures,
	// installFailures, upgradeFailures) so that remediation retries start again. The handled
	// value is recorded in status.lastHandledResetAt.
	ResetAnnotation = Group + "/reset"

	// TestAnnotation asks the controller to run the chart's test hooks against the current
	// revision. The handled value is recorded in status.lastHandledTestAt.
	TestAnnotation = Group + "/test"
)
