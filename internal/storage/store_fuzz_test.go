package storage

import (
	"context"
	"errors"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// opsModel drives a store through a sequence of lifecycle operations and checks the history
// invariants after each one. The fake client stands in for the apiserver only to explore many
// sequences quickly; the envtest tests cover the apiserver's real behaviour.
type opsModel struct {
	t       *testing.T
	ctx     context.Context
	store   *Store
	maxEver int
}

const fuzzNS, fuzzName = "fuzz", "web"

func (m *opsModel) list() []*Release {
	rels, err := m.store.List(m.ctx, fuzzNS, fuzzName)
	if err != nil {
		m.t.Fatalf("list: %v", err)
	}
	return rels
}

func (m *opsModel) latest() *Release {
	rels := m.list()
	if len(rels) == 0 {
		return nil
	}
	return rels[len(rels)-1]
}

// begin starts an install or upgrade unless an operation is pending, as the reconciler does.
func (m *opsModel) begin() {
	last := m.latest()
	rel := record(fuzzNS, fuzzName, 1, StatusPendingInstall)
	if last != nil {
		if last.Info.Status.IsPending() {
			return
		}
		rel.Version, rel.Info.Status = last.Version+1, StatusPendingUpgrade
	}
	if err := m.store.Create(m.ctx, rel); err != nil {
		m.t.Fatalf("create v%d: %v", rel.Version, err)
	}
	if rel.Version <= m.maxEver {
		m.t.Fatalf("revision %d reused (highest ever %d)", rel.Version, m.maxEver)
	}
	m.maxEver = rel.Version
}

// finish ends the pending operation, if any, as deployed or failed.
func (m *opsModel) finish(to Status) {
	last := m.latest()
	if last == nil || !last.Info.Status.IsPending() {
		return
	}
	last.Info.Status = to
	if err := m.store.UpdateStatus(m.ctx, last); err != nil {
		m.t.Fatalf("finish v%d: %v", last.Version, err)
	}
	if to == StatusDeployed {
		if _, err := m.store.Supersede(m.ctx, fuzzNS, fuzzName, last.Version); err != nil {
			m.t.Fatalf("supersede: %v", err)
		}
	}
}

// collide writes the latest revision again, as a second writer would.
func (m *opsModel) collide() {
	last := m.latest()
	if last == nil {
		return
	}
	dup := record(fuzzNS, fuzzName, last.Version, StatusPendingUpgrade)
	if err := m.store.Create(m.ctx, dup); !errors.Is(err, ErrConflict) {
		m.t.Fatalf("duplicate create of v%d: got %v, want ErrConflict", last.Version, err)
	}
	if now := m.latest(); now.Info.Status != last.Info.Status {
		m.t.Fatalf("duplicate create changed v%d", last.Version)
	}
}

func (m *opsModel) prune(maxHistory int) {
	before := m.list()
	keep, newest := lastDeployed(before), before[len(before)-1:]
	if _, err := m.store.Prune(m.ctx, fuzzNS, fuzzName, maxHistory); err != nil {
		m.t.Fatalf("prune: %v", err)
	}
	after := m.list()
	if maxHistory > 0 && len(after) > max(maxHistory, 2) {
		m.t.Fatalf("prune to %d left %d revisions", maxHistory, len(after))
	}
	if keep != nil && !hasVersion(after, keep.Version) {
		m.t.Fatalf("prune removed the last deployed revision %d", keep.Version)
	}
	if !hasVersion(after, newest[0].Version) {
		m.t.Fatalf("prune removed the newest revision %d", newest[0].Version)
	}
}

func hasVersion(rels []*Release, v int) bool {
	for _, r := range rels {
		if r.Version == v {
			return true
		}
	}
	return false
}

func (m *opsModel) recover() {
	if _, err := m.store.RecoverPending(m.ctx, fuzzNS, fuzzName); err != nil {
		m.t.Fatalf("recover: %v", err)
	}
	for _, r := range m.list() {
		if r.Info.Status.IsPending() {
			m.t.Fatalf("v%d still %s after recovery", r.Version, r.Info.Status)
		}
	}
}

// check asserts the invariants that hold after every operation.
func (m *opsModel) check() {
	rels := m.list()
	deployed := 0
	for i, r := range rels {
		if i > 0 && r.Version <= rels[i-1].Version {
			m.t.Fatalf("versions not strictly increasing: %v", versionsAndStatuses(rels))
		}
		if r.Info.Status == StatusDeployed {
			deployed++
		}
	}
	if deployed > 1 {
		m.t.Fatalf("%d deployed revisions: %v", deployed, versionsAndStatuses(rels))
	}
	if len(rels) > 0 && rels[len(rels)-1].Version != m.maxEver {
		m.t.Fatalf("newest revision %d, highest ever created %d", rels[len(rels)-1].Version, m.maxEver)
	}
}

// FuzzRevisionStoreOps runs random sequences of begin, deploy, fail, crash, recover, prune and
// colliding writes, and checks the history invariants (I1, I2 of the hardening plan) after each.
func FuzzRevisionStoreOps(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 0, 2, 0, 1, 5, 2})
	f.Add([]byte{0, 3, 4, 0, 1, 6, 0, 4, 5, 1})
	f.Add([]byte{0, 1, 0, 2, 0, 2, 0, 2, 0, 2, 5, 3, 6})
	f.Add([]byte{0, 0, 2, 0, 1, 0, 1, 5, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		m := &opsModel{t: t, ctx: context.Background(), store: NewStore(fake.NewClientBuilder().Build())}
		for i := 0; i < len(ops); i++ {
			switch ops[i] % 7 {
			case 0:
				m.begin()
			case 1:
				m.finish(StatusDeployed)
			case 2:
				m.finish(StatusFailed)
			case 3: // a crash: the pending revision stays as it is
			case 4:
				m.recover()
			case 5:
				if i+1 < len(ops) && m.latest() != nil {
					i++
					m.prune(int(ops[i] % 5))
				}
			case 6:
				m.collide()
			}
			m.check()
		}
	})
}
