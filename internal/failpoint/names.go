package failpoint

// The named points, in the order a revision passes them.
const (
	// AfterPendingRecord is right after the pending record was created.
	AfterPendingRecord = "after-pending-record"
	// AfterApplyFirstStage is after the CRDs and Namespaces were applied, before the rest.
	AfterApplyFirstStage = "after-apply-first-stage"
	// AfterApply is after every object was applied, before the wait.
	AfterApply = "after-apply"
	// DuringWait is once the wait for health has begun.
	DuringWait = "during-wait"
	// AfterPostHooks is after the post-install/upgrade/rollback hooks ran.
	AfterPostHooks = "after-post-hooks"
	// MidPrune is after the first stale object was deleted and before the others.
	MidPrune = "mid-prune"
	// BetweenDeployedAndSuperseded is after the new revision was marked deployed, before the
	// older one was superseded.
	BetweenDeployedAndSuperseded = "between-deployed-and-superseded"
	// MidUninstall is after an uninstall deleted the objects, before it removed the records.
	MidUninstall = "mid-uninstall"
)

// Names lists every point.
var Names = []string{
	AfterPendingRecord, AfterApplyFirstStage, AfterApply, DuringWait, AfterPostHooks, MidPrune,
	BetweenDeployedAndSuperseded, MidUninstall,
}

// EnvVar is the environment variable that arms points in a failpoints build, for example
// CAPSTAN_FAILPOINTS=after-pending-record=kill,mid-prune=kill.
const EnvVar = "CAPSTAN_FAILPOINTS"
