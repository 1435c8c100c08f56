package v1alpha1

// Condition types. Ready, Reconciling and Stalled follow kstatus, so `kubectl wait
// --for=condition=Ready`, Flux and Argo CD health checks understand both kinds. Only the
// controllers' summarize step sets Ready; the other types are facts it reads.
const (
	// ReadyCondition is True when the object's desired state is in effect: for a Release, the
	// requested chart and values are deployed and healthy; for a ChartRepository, its index or
	// registry was reached with the last fetch.
	ReadyCondition = "Ready"

	// ReconcilingCondition is True while the controller works towards the desired state (a fetch,
	// an install, an upgrade, a wait for health). It is removed when the work ends.
	ReconcilingCondition = "Reconciling"

	// StalledCondition is True when the controller cannot make progress until the spec or an
	// input changes (a bad chart, a render error, an ownership conflict, exhausted retries).
	// It is never set for transient errors.
	StalledCondition = "Stalled"

	// ReleasedCondition records the outcome of the last install, upgrade or rollback of a
	// Release: True on success, False on failure, with the action in the reason.
	ReleasedCondition = "Released"

	// RemediatedCondition is True when the controller rolled back or uninstalled a Release after
	// a failed action, per spec.install.remediation or spec.upgrade.remediation.
	RemediatedCondition = "Remediated"

	// DriftedCondition is True when the live objects of a Release differ from the last applied
	// manifest, and False when they match. It is only set when drift detection is not disabled.
	DriftedCondition = "Drifted"

	// FetchFailedCondition is a negative-polarity condition of a ChartRepository: True when the
	// last fetch of its index or tag list failed. It is removed after a successful fetch.
	FetchFailedCondition = "FetchFailed"

	// TestSuccessCondition records the outcome of the chart's test hooks for the current revision
	// of a Release when spec.test.enable is true or the capstan.dev/test annotation asked for it.
	TestSuccessCondition = "TestSuccess"

	// VerifiedCondition records the signature check of a Release's chart when spec.chart.verify
	// or the repository's spec.verify asks for one: True when the chart verified, False when it
	// did not (the Release is also Stalled in enforce mode).
	VerifiedCondition = "Verified"
)

// Reasons of chart verification, used on Verified (and Ready, Stalled in enforce mode).
const (
	// VerificationSucceededReason is used on Verified=True when the chart's signature verified.
	VerificationSucceededReason = "VerificationSucceeded"

	// VerificationFailedReason is used on Verified=False, and on Ready=False and Stalled=True in
	// enforce mode, when the signature is missing, does not verify or does not match the chart.
	VerificationFailedReason = "VerificationFailed"
)

// Reasons of the generic lifecycle.
const (
	// SucceededReason is used on Ready=True when everything the object asks for is in effect.
	SucceededReason = "Succeeded"

	// ProgressingReason is used on Reconciling=True (and Ready=Unknown) while work is under way.
	ProgressingReason = "Progressing"

	// SuspendedReason is used on Ready when spec.suspend is true and nothing is reconciled.
	SuspendedReason = "Suspended"

	// DependencyNotReadyReason is used on Ready=False while a dependency is not Ready: a
	// Release in spec.dependsOn, or the ChartRepository the chart comes from. The controller
	// requeues after a fixed delay.
	DependencyNotReadyReason = "DependencyNotReady"

	// AccessDeniedReason is used on Ready=False (and Stalled=True when only a spec or RBAC
	// change can fix it) when the apiserver refused a read or write made for this object, for
	// example as spec.serviceAccountName.
	AccessDeniedReason = "AccessDenied"

	// ServiceAccountNotFoundReason is used on Ready=False when spec.serviceAccountName names a
	// ServiceAccount that does not exist. The controller retries.
	ServiceAccountNotFoundReason = "ServiceAccountNotFound"

	// CrossNamespaceRefDeniedReason is used on Ready=False and Stalled=True when a reference
	// names another namespace and the manager does not allow cross-namespace references.
	CrossNamespaceRefDeniedReason = "CrossNamespaceRefDenied"

	// AddressNotAllowedReason is used on Ready=False and Stalled=True when a repository, chart or
	// token URL (or a redirect) leads to an address the manager refuses: a link-local or cloud
	// metadata address always, a private one under --deny-private-networks. The message names
	// the host, the address and the rule.
	AddressNotAllowedReason = "AddressNotAllowed"
)

// Reasons of a ChartRepository.
const (
	// IndexFetchFailedReason is used on FetchFailed=True and Ready=False when index.yaml (or an
	// OCI tag list) could not be downloaded: network error, HTTP status, size limit or timeout.
	IndexFetchFailedReason = "IndexFetchFailed"

	// IndexParseFailedReason is used on FetchFailed=True and Ready=False when the downloaded
	// index.yaml is not a valid Helm repository index.
	IndexParseFailedReason = "IndexParseFailed"

	// AuthenticationFailedReason is used on FetchFailed=True and Ready=False when the repository
	// refused the credentials from spec.secretRef, or that Secret lacks the expected keys.
	AuthenticationFailedReason = "AuthenticationFailed"

	// SecretNotFoundReason is used on Ready=False when spec.secretRef or spec.certSecretRef names
	// a Secret that does not exist. The controller requeues after a fixed delay.
	SecretNotFoundReason = "SecretNotFound"

	// TLSConfigInvalidReason is used on Ready=False and Stalled=True when the Secret in
	// spec.certSecretRef holds unusable TLS material (bad PEM, key without certificate).
	TLSConfigInvalidReason = "TLSConfigInvalid"

	// KubeConfigInvalidReason is used on Ready=False and Stalled=True when the Secret in a
	// Release's spec.kubeConfig.secretRef holds a kubeconfig Capstan refuses (not parseable, or
	// asking for an exec or auth-provider plugin or a file); nothing is applied.
	KubeConfigInvalidReason = "KubeConfigInvalid"
)

// Reasons of a Release's chart and values stages.
const (
	// ChartNotFoundReason is used on Ready=False when the repository has no chart of the
	// requested name.
	ChartNotFoundReason = "ChartNotFound"

	// ChartVersionNotFoundReason is used on Ready=False when the chart exists but no version
	// satisfies spec.chart.version. The current release stays untouched.
	ChartVersionNotFoundReason = "ChartVersionNotFound"

	// ChartPullFailedReason is used on Ready=False when the chart archive could not be downloaded
	// or its digest did not match the index or the OCI descriptor.
	ChartPullFailedReason = "ChartPullFailed"

	// ChartLoadFailedReason is used on Ready=False and Stalled=True when the chart archive is
	// not a valid chart: bad Chart.yaml, limits exceeded, entries escaping the chart, a library
	// chart, missing dependencies.
	ChartLoadFailedReason = "ChartLoadFailed"

	// ValuesFromNotFoundReason is used on Ready=False when a non-optional spec.valuesFrom entry
	// names a ConfigMap, Secret or key that does not exist. The controller requeues.
	ValuesFromNotFoundReason = "ValuesFromNotFound"

	// ValuesInvalidReason is used on Ready=False and Stalled=True when spec.values or a
	// spec.valuesFrom document cannot be used: not YAML, not a map, a bad targetPath, too large.
	ValuesInvalidReason = "ValuesInvalid"

	// SchemaInvalidReason is used on Ready=False and Stalled=True when the composed values fail
	// the chart's values.schema.json.
	SchemaInvalidReason = "SchemaInvalid"

	// RenderFailedReason is used on Ready=False and Stalled=True when a template fails to
	// render (including `required` and `fail`).
	RenderFailedReason = "RenderFailed"

	// RenderBudgetExceededReason is used on Ready=False and Stalled=True when rendering went past
	// its memory budget (bytes built and still held by the templates, or output size). The
	// chart is not rendered again until the generation, the values or the chart changes.
	RenderBudgetExceededReason = "RenderBudgetExceeded"

	// ManifestParseFailedReason is used on Ready=False and Stalled=True when the rendered output
	// is not valid Kubernetes objects: bad YAML, missing apiVersion or kind, duplicates.
	ManifestParseFailedReason = "ManifestParseFailed"

	// PostRenderFailedReason is used on Ready=False and Stalled=True when spec.postRenderers or
	// spec.commonMetadata cannot be applied to the rendered objects: a patch that does not parse,
	// a patch whose target matches nothing and is not optional, a kustomize error.
	PostRenderFailedReason = "PostRenderFailed"

	// HealthCheckInvalidReason is used on Ready=False and Stalled=True when an expression of
	// spec.healthChecks does not compile.
	HealthCheckInvalidReason = "HealthCheckInvalid"
)

// Reasons of a Release's apply and storage stages.
const (
	// DryRunFailedReason is used on Ready=False when the server-side dry-run of the rendered
	// objects failed; nothing was written.
	DryRunFailedReason = "DryRunFailed"

	// ApplyFailedReason is used on Ready=False when server-side apply of an object failed after
	// the dry-run passed.
	ApplyFailedReason = "ApplyFailed"

	// HealthCheckFailedReason is used on Ready=False when the applied objects did not become
	// healthy within spec.timeout.
	HealthCheckFailedReason = "HealthCheckFailed"

	// OwnershipConflictReason is used on Ready=False and Stalled=True when an object in the
	// manifest already exists and belongs to another release, or to no release and
	// takeOwnership is false. Nothing was written.
	OwnershipConflictReason = "OwnershipConflict"

	// FieldConflictReason is used on Ready=False and Stalled=True when applying the release's
	// objects would take fields another field manager owns and spec.upgrade.conflicts does not
	// allow it. status.conflicts lists the fields. Nothing was written.
	FieldConflictReason = "FieldConflict"

	// ReleaseNameConflictReason is used on Ready=False and Stalled=True when another Release
	// already manages the same release name in the same storage namespace. Nothing was written.
	ReleaseNameConflictReason = "ReleaseNameConflict"

	// ImmutableFieldChangedReason is used on Ready=False and Stalled=True when the new manifest
	// changes an immutable field of a live object and force is not set.
	ImmutableFieldChangedReason = "ImmutableFieldChanged"

	// StorageFailedReason is used on Ready=False when a revision record could not be read or
	// written.
	StorageFailedReason = "StorageFailed"

	// RecordTooLargeReason is used on Ready=False and Stalled=True when the revision record
	// would exceed the size a Secret can hold. Nothing was applied.
	RecordTooLargeReason = "RecordTooLarge"

	// ReleaseUnmanagedReason is used on Ready=False and Stalled=True when the stored release
	// record does not match what this Release recorded in status (it was changed out of band
	// or belongs to someone else). The controller does not upgrade over it.
	ReleaseUnmanagedReason = "ReleaseUnmanaged"

	// PendingRecoveredReason is used on Released=False when a revision left pending by an
	// interrupted controller was marked failed so that the release can move on.
	PendingRecoveredReason = "PendingRecovered"

	// OperationInProgressReason is used while another tool's (helm's) operation on the release
	// is pending and not yet stale: the controller waits for it rather than writing over it.
	OperationInProgressReason = "OperationInProgress"
)

// Reasons of a Release's actions, used on Released, Remediated and Ready.
const (
	// InstallSucceededReason is used on Released=True after a successful install.
	InstallSucceededReason = "InstallSucceeded"

	// InstallFailedReason is used on Released=False after a failed install.
	InstallFailedReason = "InstallFailed"

	// UpgradeSucceededReason is used on Released=True after a successful upgrade.
	UpgradeSucceededReason = "UpgradeSucceeded"

	// UpgradeFailedReason is used on Released=False after a failed upgrade.
	UpgradeFailedReason = "UpgradeFailed"

	// RollbackSucceededReason is used on Released=True after a manual rollback, and on
	// Remediated=True after a rollback that remediated a failed upgrade.
	RollbackSucceededReason = "RollbackSucceeded"

	// RollbackFailedReason is used on Released=False or Remediated=False when a rollback failed.
	RollbackFailedReason = "RollbackFailed"

	// UninstallSucceededReason is used on Remediated=True after an uninstall that remediated a
	// failed action, and on Ready while the Release is being deleted.
	UninstallSucceededReason = "UninstallSucceeded"

	// UninstallFailedReason is used on Ready=False or Remediated=False when an uninstall failed.
	UninstallFailedReason = "UninstallFailed"

	// TestSucceededReason is used on TestSuccess=True when every test hook passed.
	TestSucceededReason = "TestSucceeded"

	// TestFailedReason is used on TestSuccess=False when a test hook failed or timed out.
	TestFailedReason = "TestFailed"

	// RetriesExhaustedReason is used on Stalled=True when a failed action was retried
	// spec.install.remediation.retries (or spec.upgrade.remediation.retries) times without
	// success. A spec change or the capstan.dev/reset annotation starts over.
	RetriesExhaustedReason = "RetriesExhausted"
)

// Reasons of drift detection, used on Drifted.
const (
	// DriftDetectedReason is used on Drifted=True when live objects differ from the last applied
	// manifest (in warn mode, or before a correction in enabled mode).
	DriftDetectedReason = "DriftDetected"

	// DriftCorrectedReason is used on Drifted=False after the controller re-applied the drifted
	// objects in enabled mode.
	DriftCorrectedReason = "DriftCorrected"

	// NoDriftDetectedReason is used on Drifted=False when the live objects match the manifest.
	NoDriftDetectedReason = "NoDriftDetected"
)
