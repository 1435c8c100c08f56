package reconcile

import (
	"strconv"
	"testing"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
)

// FuzzDecide checks the state machine's invariants over arbitrary facts: it never panics; only a
// Nothing stalls, and a stall has a reason; a rollback names a positive revision that the
// annotation asked for; a remediation only follows exhausted retries of the same desired state;
// an in-sync release is never written to unless drift is corrected in enabled mode.
func FuzzDecide(f *testing.F) {
	f.Add(false, "1", "", int64(1), int64(1), "1.0.0", "1.0.0", uint8(3), uint8(3), true, int64(0), int64(1), 0, "rollback", false, true, false)
	f.Add(false, "", "", int64(2), int64(2), "1.1.0", "1.1.0", uint8(5), uint8(3), true, int64(0), int64(2), 1, "uninstall", false, false, true)
	f.Add(true, "x", "x", int64(1), int64(0), "", "2", uint8(0), uint8(0), false, int64(3), int64(0), 0, "none", true, true, false)
	f.Fuzz(func(t *testing.T, deleting bool, rollbackTo, handled string, gen, attemptGen int64, desiredVer, attemptVer string,
		last, deployed uint8, ours bool, installFailures, upgradeFailures int64, retries int, strategy string,
		remediated, drifted, enabled bool) {
		facts := Facts{
			Deleting: deleting,
			Desired:  Desired{Generation: gen, ChartName: "demo", ChartVersion: desiredVer, ValuesDigest: "v"},
			LastAttempt: Attempt{Generation: attemptGen, ChartVersion: attemptVer, ValuesDigest: "v",
				Action: capstanv1.ActionRollback},
			InstallFailures: installFailures, UpgradeFailures: upgradeFailures,
			InstallRemediation: capstanv1.Remediation{Retries: retries, Strategy: capstanv1.RemediationStrategy(strategy)},
			UpgradeRemediation: capstanv1.Remediation{Retries: retries, Strategy: capstanv1.RemediationStrategy(strategy)},
			Remediated:         remediated, RollbackTo: rollbackTo, LastHandledRollbackTo: handled,
			DriftMode: capstanv1.DriftDetectionWarn,
		}
		if enabled {
			facts.DriftMode = capstanv1.DriftDetectionEnabled
		}
		if drifted {
			facts.Drift = []apply.Change{{Kind: apply.ChangeMissing}}
		}
		if last > 0 {
			facts.Last = &Record{Revision: int(last), Status: "failed", ChartName: "demo", ChartVersion: desiredVer, ValuesDigest: "v", Ours: ours}
		}
		if deployed > 0 && deployed <= last {
			facts.Deployed = &Record{Revision: int(deployed), Status: "deployed", ChartName: "demo", ChartVersion: "1.0.0", ValuesDigest: "v", Ours: true}
		}
		checkDecision(t, facts, Decide(facts))
	})
}

func checkDecision(t *testing.T, f Facts, a Action) {
	t.Helper()
	if a.Stall && (a.Kind != ActionNothing || a.Reason == "") {
		t.Fatalf("a stall must be a Nothing with a reason: %+v", a)
	}
	if f.Deleting != (a.Kind == ActionUninstall) {
		t.Fatalf("uninstall exactly when deleting: %+v", a)
	}
	switch a.Kind {
	case ActionRollback:
		if n, err := strconv.Atoi(f.RollbackTo); err != nil && a.Revision < 1 || err == nil && n != a.Revision {
			t.Fatalf("rollback to %d, annotation %q", a.Revision, f.RollbackTo)
		}
	case ActionRemediate:
		if !sameAttempt(f) || f.Remediated {
			t.Fatalf("remediation without exhausted retries of the same attempt: %+v", f)
		}
		if a.Strategy == capstanv1.RemediationRollback && (f.Deployed == nil || a.Revision != f.Deployed.Revision) {
			t.Fatalf("a rollback remediation must return to the deployed revision: %+v", a)
		}
	case ActionCorrectDrift:
		if f.DriftMode != capstanv1.DriftDetectionEnabled || len(f.Drift) == 0 {
			t.Fatalf("drift corrected without enabled mode and drift: %+v", f)
		}
	case ActionUpgrade:
		if f.Deployed == nil {
			t.Fatalf("an upgrade needs a deployed revision: %+v", f)
		}
	}
}
