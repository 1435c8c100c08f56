package chaos

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/testsupport"
)

// maxHistory is the Releases' spec.maxHistory: small, so that history pruning runs often.
const maxHistory = 4

// The operations a cycle carries out.
const (
	opInstall   = "install"
	opValues    = "values"
	opVersion   = "version"
	opRollback  = "rollback"
	opUninstall = "uninstall"
)

// expected is what the deployed revision of the Release must hold.
type expected struct {
	version, color string
	extras         []string
}

// model is the suite's one Release at a time: what its spec asks, and what must be deployed.
type model struct {
	installs int
	name     string
	exists   bool
	spec     expected
	want     expected
	// rollbackTo is the last rollback-to annotation value set, which a settled Release has handled.
	rollbackTo string
	colors     int
}

var extraSets = [][]string{{"a", "b", "c"}, {"d", "e", "f"}}

// values is spec.values for the spec.
func (e expected) values() map[string]any {
	extras := make([]any, 0, len(e.extras))
	for _, x := range e.extras {
		extras = append(extras, x)
	}
	return map[string]any{"color": e.color, "extras": extras}
}

// operate carries out op on the model's Release and returns a description. An operation that
// cannot run (no Release to change, nothing to roll back to) becomes an install or a values
// change.
func (h *harness) operate(ctx context.Context, m *model, op string) string {
	if !m.exists {
		op = opInstall
	}
	if op == opInstall && m.exists {
		op = opValues
	}
	switch op {
	case opInstall:
		m.installs++
		m.name, m.exists, m.rollbackTo = fmt.Sprintf("rel-%d", m.installs), true, ""
		m.spec = expected{version: chartVersions[0], color: "blue", extras: extraSets[0]}
		m.want = m.spec
		// Retries, so that an API server restart failing an action is retried rather than remediated.
		retries := &capstanv1.Remediation{Retries: 5}
		rel := testsupport.MakeRelease(m.name, namespace).Chart("charts", "chaos", m.spec.version).
			Values(m.spec.values()).MaxHistory(maxHistory).
			Install(capstanv1.Install{Remediation: retries}).Upgrade(capstanv1.Upgrade{Remediation: retries}).Obj()
		must(h.t, h.c.Create(ctx, rel))
		return "install " + m.name
	case opValues:
		m.colors++
		m.spec.color = fmt.Sprintf("color-%d", m.colors)
		m.spec.extras = extraSets[m.colors%2]
		m.want = m.spec
		h.update(ctx, m.name, func(r *capstanv1.Release) { r.Spec.Values = rawValues(m.spec.values()) })
		return "upgrade values of " + m.name
	case opVersion:
		m.spec.version = chartVersions[(slices.Index(chartVersions, m.spec.version)+1)%len(chartVersions)]
		m.want = m.spec
		h.update(ctx, m.name, func(r *capstanv1.Release) { r.Spec.Chart.Version = m.spec.version })
		return "upgrade " + m.name + " to chart " + m.spec.version
	case opRollback:
		target := h.rollbackTarget(ctx, m)
		if target == nil {
			return h.operate(ctx, m, opValues)
		}
		m.rollbackTo = strconv.Itoa(target.Version)
		m.want = expectedOf(target)
		h.update(ctx, m.name, func(r *capstanv1.Release) {
			if r.Annotations == nil {
				r.Annotations = map[string]string{}
			}
			r.Annotations[capstanv1.RollbackToAnnotation] = m.rollbackTo
		})
		return "roll " + m.name + " back to revision " + m.rollbackTo
	default:
		rel, err := h.release(ctx, m.name)
		must(h.t, err)
		must(h.t, h.c.Delete(ctx, rel))
		m.exists = false
		return "uninstall " + m.name
	}
}

// rollbackTarget picks the newest superseded revision whose content differs from the deployed one.
func (h *harness) rollbackTarget(ctx context.Context, m *model) *storage.Release {
	recs, err := storage.NewStore(h.c).List(ctx, namespace, m.name)
	must(h.t, err)
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.Info.Status == storage.StatusSuperseded && expectedOf(r).String() != m.want.String() &&
			strconv.Itoa(r.Version) != m.rollbackTo {
			return r
		}
	}
	return nil
}

// expectedOf reads what a record holds.
func expectedOf(r *storage.Release) expected {
	e := expected{}
	if r.Chart.Metadata != nil {
		e.version = r.Chart.Metadata.Version
	}
	e.color, _ = r.Config["color"].(string)
	if xs, ok := r.Config["extras"].([]any); ok {
		for _, x := range xs {
			s, _ := x.(string)
			e.extras = append(e.extras, s)
		}
	}
	return e
}

// String formats the expectation for messages.
func (e expected) String() string {
	return fmt.Sprintf("chart %s, color %s, extras %v", e.version, e.color, e.extras)
}
