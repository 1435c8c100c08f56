package reconcile

import (
	"errors"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/engine"
)

// renderBudgetMemo remembers, per Release, the desired state (generation, chart name, version
// and digest, values digest) whose render went over its budget, with the error it gave. A
// Release reconciled again for the same state (a watch event, the repository's interval) stalls
// with that error at once instead of rendering the chart again: a chart that exhausts its budget
// costs one render per change of its inputs, not one per reconcile. The memo lives in the
// process; after a restart the chart is rendered once more, which the budget keeps bounded.
type renderBudgetMemo struct {
	mu     sync.Mutex
	failed map[types.UID]budgetFailure
}

type budgetFailure struct {
	desired Desired
	err     error
}

// check returns the remembered stall of uid when its desired state is still d.
func (m *renderBudgetMemo) check(uid types.UID, d Desired) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.failed[uid]
	if !ok {
		return nil
	}
	if f.desired != d {
		delete(m.failed, uid)
		return nil
	}
	return f.err
}

// remember keeps err for uid and d when it is a render that went over its budget.
func (m *renderBudgetMemo) remember(uid types.UID, d Desired, err error) {
	if classify(err).Reason != capstanv1.RenderBudgetExceededReason {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failed == nil {
		m.failed = map[types.UID]budgetFailure{}
	}
	m.failed[uid] = budgetFailure{desired: d, err: err}
}

// isBudgetError reports a render stopped by one of its limits (memory held, output size, bytes
// built, list length, steps, nesting) or by its deadline.
func isBudgetError(err error) bool {
	return errors.Is(err, engine.ErrLimit) || errors.Is(err, engine.ErrTimeout)
}
