package reconcile

import (
	"testing"

	. "github.com/onsi/gomega"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
)

// base is a release whose deployed revision 3 is what the spec asks for.
func base() Facts {
	rec := &Record{Revision: 3, Status: "deployed", ChartName: "demo", ChartVersion: "1.0.0", ChartDigest: "abc",
		ValuesDigest: "sha256:v", Ours: true}
	return Facts{
		Desired:            Desired{Generation: 2, ChartName: "demo", ChartVersion: "1.0.0", ChartDigest: "abc", ValuesDigest: "sha256:v"},
		Last:               rec,
		Deployed:           rec,
		LastAttempt:        Attempt{Generation: 2, ChartVersion: "1.0.0", ValuesDigest: "sha256:v", Action: capstanv1.ActionUpgrade},
		InstallRemediation: capstanv1.Remediation{Strategy: capstanv1.RemediationNone},
		UpgradeRemediation: capstanv1.Remediation{Strategy: capstanv1.RemediationRollback},
		DriftMode:          capstanv1.DriftDetectionWarn,
	}
}

func with(change func(*Facts)) Facts {
	f := base()
	change(&f)
	return f
}

// failedUpgrade is an upgrade to 1.1.0 that failed n times; revision 3 is still deployed.
func failedUpgrade(n int64) Facts {
	return with(func(f *Facts) {
		f.Desired.ChartVersion = "1.1.0"
		f.LastAttempt.ChartVersion = "1.1.0"
		f.Last = &Record{Revision: 3 + int(n), Status: "failed", ChartName: "demo", ChartVersion: "1.1.0", Ours: true}
		f.UpgradeFailures = n
	})
}

func TestDecide(t *testing.T) {
	drift := []apply.Change{{Ref: apply.ObjectRef{Kind: "ConfigMap", Name: "x"}, Kind: apply.ChangeDrifted}}
	cases := map[string]struct {
		facts Facts
		want  Action
	}{
		"a release in sync does nothing": {
			facts: base(),
			want:  Action{Kind: ActionNothing, Reason: "InSync"},
		},
		"a deleted release is uninstalled whatever else is true": {
			facts: with(func(f *Facts) { f.Deleting = true; f.RollbackTo = "1" }),
			want:  Action{Kind: ActionUninstall, Reason: "Deleted", Message: "the Release is being deleted"},
		},
		"a release without records is installed": {
			facts: with(func(f *Facts) { f.Last, f.Deployed = nil, nil }),
			want:  Action{Kind: ActionInstall, Reason: "NotInstalled", Message: "no revision is deployed"},
		},
		"a release uninstalled with its history kept is installed again": {
			facts: with(func(f *Facts) { f.Last = &Record{Revision: 4, Status: "uninstalled", Ours: true}; f.Deployed = nil }),
			want:  Action{Kind: ActionInstall, Reason: "NotInstalled", Message: "no revision is deployed"},
		},
		"a new chart version upgrades": {
			facts: with(func(f *Facts) { f.Desired.ChartVersion = "1.1.0" }),
			want:  Action{Kind: ActionUpgrade, Reason: "Changed", Message: "chart version 1.1.0 replaces 1.0.0"},
		},
		"new values upgrade": {
			facts: with(func(f *Facts) { f.Desired.ValuesDigest = "sha256:w" }),
			want:  Action{Kind: ActionUpgrade, Reason: "Changed", Message: "the values changed"},
		},
		"new post-renderers upgrade": {
			facts: with(func(f *Facts) { f.Desired.PostRenderDigest = "abc" }),
			want:  Action{Kind: ActionUpgrade, Reason: "Changed", Message: "the post-renderers changed"},
		},
		"post-renderers removed upgrade": {
			facts: with(func(f *Facts) { f.Deployed.PostRenderDigest = "abc" }),
			want:  Action{Kind: ActionUpgrade, Reason: "Changed", Message: "the post-renderers changed"},
		},
		"a republished archive of the same version upgrades": {
			facts: with(func(f *Facts) { f.Desired.ChartDigest = "def" }),
			want:  Action{Kind: ActionUpgrade, Reason: "Changed", Message: "the archive of chart version 1.0.0 changed"},
		},
		"a record without a digest does not count as a changed archive": {
			facts: with(func(f *Facts) { f.Deployed.ChartDigest = "" }),
			want:  Action{Kind: ActionNothing, Reason: "InSync"},
		},
		"another chart upgrades": {
			facts: with(func(f *Facts) { f.Desired.ChartName = "other" }),
			want:  Action{Kind: ActionUpgrade, Reason: "Changed", Message: "chart other replaces demo"},
		},
		"a release helm wrote is taken over": {
			facts: with(func(f *Facts) { f.Last = &Record{Revision: 3, Status: "deployed", Ours: false}; f.Deployed = f.Last }),
			want: Action{Kind: ActionUpgrade, Reason: "TakeOver",
				Message: "revision 3 was not written by this Release; taking the release over"},
		},
		"a newest revision that failed, with nothing counted, is upgraded over": {
			facts: with(func(f *Facts) { f.Last = &Record{Revision: 4, Status: "failed", Ours: true} }),
			want:  Action{Kind: ActionUpgrade, Reason: "LastFailed", Message: "the newest revision 4 is failed"},
		},
		"a rollback request rolls back": {
			facts: with(func(f *Facts) { f.RollbackTo = "2" }),
			want:  Action{Kind: ActionRollback, Revision: 2, Reason: "RollbackRequested", Message: "rollback to revision 2 requested"},
		},
		"a rollback request with spaces is read": {
			facts: with(func(f *Facts) { f.RollbackTo = " 1 " }),
			want:  Action{Kind: ActionRollback, Revision: 1, Reason: "RollbackRequested", Message: "rollback to revision 1 requested"},
		},
		"a rollback request that is not a number stalls": {
			facts: with(func(f *Facts) { f.RollbackTo = "latest" }),
			want: Action{Kind: ActionNothing, Stall: true, Reason: capstanv1.RollbackFailedReason,
				Message: `annotation capstan.dev/rollback-to="latest" is not a revision number`},
		},
		"a rollback request of revision zero stalls": {
			facts: with(func(f *Facts) { f.RollbackTo = "0" }),
			want: Action{Kind: ActionNothing, Stall: true, Reason: capstanv1.RollbackFailedReason,
				Message: `annotation capstan.dev/rollback-to="0" is not a revision number`},
		},
		"a handled rollback holds while the generation is the same": {
			facts: with(func(f *Facts) {
				f.RollbackTo, f.LastHandledRollbackTo = "1", "1"
				f.LastAttempt = Attempt{Generation: 2, ChartVersion: "0.9.0", Action: capstanv1.ActionRollback}
				f.Desired.ValuesDigest = "sha256:other"
			}),
			want: Action{Kind: ActionNothing, Reason: "InSync",
				Message: "held at the rollback requested by capstan.dev/rollback-to=1 until the generation changes"},
		},
		"a handled rollback stops holding when the generation changes": {
			facts: with(func(f *Facts) {
				f.RollbackTo, f.LastHandledRollbackTo = "1", "1"
				f.LastAttempt = Attempt{Generation: 1, ChartVersion: "0.9.0", Action: capstanv1.ActionRollback}
				f.Desired.ValuesDigest = "sha256:other"
			}),
			want: Action{Kind: ActionUpgrade, Reason: "Changed", Message: "the values changed"},
		},
		"drift in warn mode changes nothing": {
			facts: with(func(f *Facts) { f.Drift = drift }),
			want:  Action{Kind: ActionNothing, Reason: "InSync"},
		},
		"drift in enabled mode is corrected": {
			facts: with(func(f *Facts) { f.Drift = drift; f.DriftMode = capstanv1.DriftDetectionEnabled }),
			want: Action{Kind: ActionCorrectDrift, Reason: capstanv1.DriftDetectedReason,
				Message: "1 object(s) drifted from the deployed revision"},
		},
		"drift is not corrected while a change is pending": {
			facts: with(func(f *Facts) {
				f.Drift, f.DriftMode, f.Desired.ValuesDigest = drift, capstanv1.DriftDetectionEnabled, "sha256:w"
			}),
			want: Action{Kind: ActionUpgrade, Reason: "Changed", Message: "the values changed"},
		},
		"a failed upgrade with retries left is retried": {
			facts: with(func(f *Facts) {
				*f = failedUpgrade(1)
				f.UpgradeRemediation.Retries = 2
			}),
			want: Action{Kind: ActionUpgrade, Reason: "LastFailed", Message: "the newest revision 4 is failed"},
		},
		"a failed upgrade without retries left is rolled back to the deployed revision": {
			facts: failedUpgrade(1),
			want: Action{Kind: ActionRemediate, Strategy: capstanv1.RemediationRollback, Revision: 3,
				Reason: capstanv1.RetriesExhaustedReason, Message: "upgrade failed 1 time(s); rolling back to revision 3"},
		},
		"a remediated upgrade stalls": {
			facts: with(func(f *Facts) { *f = failedUpgrade(2); f.UpgradeRemediation.Retries = 1; f.Remediated = true }),
			want: Action{Kind: ActionNothing, Stall: true, Reason: capstanv1.RetriesExhaustedReason,
				Message: "upgrade failed 2 time(s) with 1 retries allowed; change the spec or an input, or set capstan.dev/reset"},
		},
		"a failed upgrade with strategy none stalls at once": {
			facts: with(func(f *Facts) { *f = failedUpgrade(1); f.UpgradeRemediation.Strategy = capstanv1.RemediationNone }),
			want: Action{Kind: ActionNothing, Stall: true, Reason: capstanv1.RetriesExhaustedReason,
				Message: "upgrade failed 1 time(s) with 0 retries allowed; change the spec or an input, or set capstan.dev/reset"},
		},
		"a failed upgrade with strategy uninstall is uninstalled": {
			facts: with(func(f *Facts) { *f = failedUpgrade(1); f.UpgradeRemediation.Strategy = capstanv1.RemediationUninstall }),
			want: Action{Kind: ActionRemediate, Strategy: capstanv1.RemediationUninstall, Reason: capstanv1.RetriesExhaustedReason,
				Message: "upgrade failed 1 time(s); uninstalling"},
		},
		"failures of an earlier desired state do not count": {
			facts: with(func(f *Facts) { *f = failedUpgrade(5); f.Desired.ChartVersion = "1.2.0" }),
			want:  Action{Kind: ActionUpgrade, Reason: "LastFailed", Message: "the newest revision 8 is failed"},
		},
		"failures of an earlier generation do not count": {
			facts: with(func(f *Facts) { *f = failedUpgrade(5); f.Desired.Generation = 3 }),
			want:  Action{Kind: ActionUpgrade, Reason: "LastFailed", Message: "the newest revision 8 is failed"},
		},
		"a failed install with retries left is installed again": {
			facts: with(func(f *Facts) {
				f.Last, f.Deployed = &Record{Revision: 1, Status: "failed", Ours: true}, nil
				f.InstallFailures, f.InstallRemediation.Retries = 1, 1
			}),
			want: Action{Kind: ActionInstall, Reason: "NotInstalled", Message: "no revision is deployed"},
		},
		"a failed install out of retries with strategy none stalls": {
			facts: with(func(f *Facts) {
				f.Last, f.Deployed = &Record{Revision: 1, Status: "failed", Ours: true}, nil
				f.InstallFailures = 1
			}),
			want: Action{Kind: ActionNothing, Stall: true, Reason: capstanv1.RetriesExhaustedReason,
				Message: "install failed 1 time(s) with 0 retries allowed; change the spec or an input, or set capstan.dev/reset"},
		},
		"a failed install cannot be rolled back, so it stalls": {
			facts: with(func(f *Facts) {
				f.Last, f.Deployed = &Record{Revision: 1, Status: "failed", Ours: true}, nil
				f.InstallFailures, f.InstallRemediation.Strategy = 1, capstanv1.RemediationRollback
			}),
			want: Action{Kind: ActionNothing, Stall: true, Reason: capstanv1.RetriesExhaustedReason,
				Message: "install failed 1 time(s) with 0 retries allowed; change the spec or an input, or set capstan.dev/reset"},
		},
		"an install uninstalled by remediation is not installed again": {
			facts: with(func(f *Facts) {
				f.Last, f.Deployed = nil, nil
				f.InstallFailures, f.InstallRemediation.Strategy, f.Remediated = 1, capstanv1.RemediationUninstall, true
			}),
			want: Action{Kind: ActionNothing, Stall: true, Reason: capstanv1.RetriesExhaustedReason,
				Message: "install failed 1 time(s) with 0 retries allowed; change the spec or an input, or set capstan.dev/reset"},
		},
		"a rollback request wins over exhausted retries": {
			facts: with(func(f *Facts) { *f = failedUpgrade(3); f.Remediated = true; f.RollbackTo = "1" }),
			want:  Action{Kind: ActionRollback, Revision: 1, Reason: "RollbackRequested", Message: "rollback to revision 1 requested"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			g.Expect(Decide(tc.facts)).To(Equal(tc.want))
		})
	}
}
