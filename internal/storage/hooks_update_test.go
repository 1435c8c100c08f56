package storage

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// withTestHook returns a record carrying a test hook and a pre-install hook.
func withTestHook(rel *Release) *Release {
	rel.Hooks = []*Hook{
		{Name: "web-setup", Kind: "Job", Path: "demo/templates/setup.yaml", Events: []string{"pre-install"},
			LastRun: HookExecution{Phase: HookPhaseSucceeded}},
		{Name: "web-test", Kind: "Pod", Path: "demo/templates/tests/test.yaml", Events: []string{"test"}},
	}
	return rel
}

func TestStore_updateHooks(t *testing.T) {
	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]struct {
		status Status
		stale  bool
		err    error
	}{
		"a deployed revision records its test run":     {status: StatusDeployed},
		"a superseded revision records a run as well":  {status: StatusSuperseded},
		"a record changed since it was read conflicts": {status: StatusDeployed, stale: true, err: ErrConflict},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			f := newFixture(t)
			g.Expect(f.store.Create(f.ctx, withTestHook(record(f.ns, "web", 1, tc.status)))).To(Succeed())
			rel, err := f.store.Get(f.ctx, f.ns, "web", 1)
			g.Expect(err).NotTo(HaveOccurred())
			if tc.stale {
				f.touch(t, "web", 1)
			}
			rel.Hooks[1].LastRun = HookExecution{StartedAt: started, CompletedAt: started.Add(time.Second), Phase: HookPhaseFailed}
			rel.Info.Status, rel.Info.Description = StatusFailed, "a hook update must not carry this"
			rel.Manifest = "nor this"
			err = f.store.UpdateHooks(f.ctx, rel)

			got, gerr := f.store.Get(f.ctx, f.ns, "web", 1)
			g.Expect(gerr).NotTo(HaveOccurred())
			g.Expect(got.Info.Status).To(Equal(tc.status))
			g.Expect(got.Info.Description).To(Equal("test"))
			g.Expect(got.Manifest).To(Equal(record(f.ns, "web", 1, tc.status).Manifest))
			g.Expect(got.Hooks[0].LastRun.Phase).To(Equal(HookPhaseSucceeded))
			if tc.err != nil {
				g.Expect(err).To(MatchError(tc.err))
				g.Expect(got.Hooks[1].LastRun.Phase).To(BeEmpty())
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got.Hooks[1].LastRun.Phase).To(Equal(HookPhaseFailed))
			g.Expect(got.Hooks[1].LastRun.StartedAt.Equal(started)).To(BeTrue())
			g.Expect(rel.ResourceVersion()).To(Equal(got.ResourceVersion()))
			f.expectLabels(g, "web", 1, tc.status)
		})
	}
}

func TestStore_updateHooksErrors(t *testing.T) {
	g := NewWithT(t)
	f := newFixture(t)
	g.Expect(f.store.UpdateHooks(f.ctx, record(f.ns, "web", 1, StatusDeployed))).To(MatchError(ErrNotFound))
	g.Expect(f.store.UpdateHooks(f.ctx, nil)).To(MatchError(ErrInvalid))
}
