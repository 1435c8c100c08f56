package storage

import (
	"testing"

	. "github.com/onsi/gomega"
)

var allStatuses = []Status{
	StatusUnknown, StatusDeployed, StatusUninstalled, StatusSuperseded, StatusFailed,
	StatusUninstalling, StatusPendingInstall, StatusPendingUpgrade, StatusPendingRollback,
}

func TestCheckTransition(t *testing.T) {
	allowed := map[[2]Status]string{
		{StatusPendingInstall, StatusDeployed}:  "an install succeeds",
		{StatusPendingInstall, StatusFailed}:    "an install fails",
		{StatusPendingUpgrade, StatusDeployed}:  "an upgrade succeeds",
		{StatusPendingUpgrade, StatusFailed}:    "an upgrade fails",
		{StatusPendingRollback, StatusDeployed}: "a rollback succeeds",
		{StatusPendingRollback, StatusFailed}:   "a rollback fails",
		{StatusDeployed, StatusSuperseded}:      "a later revision is deployed",
		{StatusFailed, StatusSuperseded}:        "an upgrade of a release with nothing deployed succeeds",
		{StatusUninstalled, StatusSuperseded}:   "install --replace reuses the name",
		{StatusDeployed, StatusUninstalling}:    "uninstall starts",
		{StatusFailed, StatusUninstalling}:      "uninstall of a failed release starts",
		{StatusSuperseded, StatusUninstalling}:  "uninstall of a release whose latest is superseded starts",
		{StatusDeployed, StatusUninstalled}:     "uninstall with hooks disabled ends at once",
		{StatusFailed, StatusUninstalled}:       "uninstall of a failed release ends at once",
		{StatusSuperseded, StatusUninstalled}:   "uninstall of a superseded latest ends at once",
		{StatusUninstalling, StatusUninstalled}: "uninstall ends",
		{StatusUninstalling, StatusFailed}:      "uninstall fails",
	}
	for _, from := range allStatuses {
		for _, to := range allStatuses {
			why, ok := allowed[[2]Status{from, to}]
			name := string(from) + " to " + string(to)
			if ok {
				name += ": " + why
			} else {
				name += ": never"
			}
			t.Run(name, func(t *testing.T) {
				g := NewWithT(t)
				err := CheckTransition(from, to)
				if ok {
					g.Expect(err).NotTo(HaveOccurred())
					return
				}
				g.Expect(err).To(MatchError(ErrIllegalTransition))
			})
		}
	}
}

func TestStatus_predicates(t *testing.T) {
	g := NewWithT(t)
	var pending []Status
	for _, s := range allStatuses {
		g.Expect(s.IsKnown()).To(BeTrue(), string(s))
		if s.IsPending() {
			pending = append(pending, s)
		}
	}
	g.Expect(pending).To(ConsistOf(StatusPendingInstall, StatusPendingUpgrade, StatusPendingRollback))
	g.Expect(Status("").IsKnown()).To(BeFalse())
	g.Expect(Status("Deployed").IsKnown()).To(BeFalse())
}

func TestMarkInterrupted(t *testing.T) {
	cases := map[string]struct {
		status   Status
		describe func(*Release)
		want     Status
		wantOK   bool
	}{
		"a pending upgrade is read back":    {status: StatusPendingUpgrade, want: StatusPendingUpgrade, wantOK: true},
		"a pending rollback is read back":   {status: StatusPendingRollback, want: StatusPendingRollback, wantOK: true},
		"an ordinary failure is not one":    {status: StatusFailed, describe: func(r *Release) { r.Info.Description = "Upgrade failed: boom" }},
		"a changed status no longer is one": {status: StatusPendingInstall, describe: func(r *Release) { r.Info.Status = StatusSuperseded }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			r := &Release{Name: "web", Info: Info{Status: tc.status}}
			if tc.status.IsPending() {
				MarkInterrupted(r)
				g.Expect(r.Info.Status).To(Equal(StatusFailed))
				g.Expect(r.Info.Description).To(Equal(`Release "web" was left ` + string(tc.status) + " by an interrupted operation; marked failed"))
			}
			if tc.describe != nil {
				tc.describe(r)
			}
			was, ok := InterruptedFrom(r)
			g.Expect(ok).To(Equal(tc.wantOK))
			g.Expect(was).To(Equal(tc.want))
		})
	}
}
