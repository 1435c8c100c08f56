package reconcile

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// RepositoryMetrics say which state each ChartRepository is in, so that a repository whose
// fetches keep failing can be alerted on by name.
type RepositoryMetrics struct {
	status *prometheus.GaugeVec

	mu     sync.Mutex
	states map[client.ObjectKey][2]string
}

// NewRepositoryMetrics creates the metrics and registers them with reg (controller-runtime's
// metrics.Registry in the manager).
func NewRepositoryMetrics(reg prometheus.Registerer) (*RepositoryMetrics, error) {
	status, err := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "capstan_chartrepository_status",
		Help: "1 for each ChartRepository, labelled with its state (ready, not_ready, stalled, suspended) and the reason of its Ready condition.",
	}, []string{"namespace", "name", "state", "reason"}))
	if err != nil {
		return nil, err
	}
	return &RepositoryMetrics{status: status, states: map[client.ObjectKey][2]string{}}, nil
}

// observe records the state a reconcile left cr in.
func (m *RepositoryMetrics) observe(cr *capstanv1.ChartRepository) {
	if m == nil {
		return
	}
	ready := repoCondition(cr, capstanv1.ReadyCondition)
	next := [2]string{StateNotReady, ""}
	if ready != nil {
		next[1] = ready.Reason
	}
	switch {
	case ready != nil && ready.Reason == capstanv1.SuspendedReason:
		next[0] = StateSuspended
	case repoCondition(cr, capstanv1.StalledCondition) != nil:
		next[0] = StateStalled
	case ready != nil && ready.Status == metav1.ConditionTrue:
		next[0] = StateReady
	}
	key := client.ObjectKeyFromObject(cr)
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.states[key]; ok && prev != next {
		m.status.DeleteLabelValues(key.Namespace, key.Name, prev[0], prev[1])
	}
	m.states[key] = next
	m.status.WithLabelValues(key.Namespace, key.Name, next[0], next[1]).Set(1)
}

// forget drops a deleted ChartRepository.
func (m *RepositoryMetrics) forget(key client.ObjectKey) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.states[key]; ok {
		m.status.DeleteLabelValues(key.Namespace, key.Name, prev[0], prev[1])
	}
	delete(m.states, key)
}
