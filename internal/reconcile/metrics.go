package reconcile

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// Release states of the capstan_releases gauge.
const (
	StateReady     = "ready"
	StateNotReady  = "not_ready"
	StateStalled   = "stalled"
	StateSuspended = "suspended"
)

var releaseStates = []string{StateReady, StateNotReady, StateStalled, StateSuspended}

// Metrics are the release metrics controller-runtime's own do not give: how many Releases are in
// each state, and how long each release action takes by result. (Reconcile counts and durations
// per controller come from controller-runtime.)
type Metrics struct {
	releases *prometheus.GaugeVec
	actions  *prometheus.HistogramVec

	mu     sync.Mutex
	states map[client.ObjectKey]string
}

// NewMetrics creates the metrics and registers them with reg (controller-runtime's
// metrics.Registry in the manager).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		releases: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "capstan_releases",
			Help: "Number of Release objects by state: ready, not_ready, stalled or suspended.",
		}, []string{"state"}),
		actions: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "capstan_release_reconcile_duration_seconds",
			Help:    "Duration of Release reconciles by the action decided and the result.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"action", "result"}),
		states: map[client.ObjectKey]string{},
	}
	var err error
	if m.releases, err = register(reg, m.releases); err != nil {
		return nil, err
	}
	if m.actions, err = register(reg, m.actions); err != nil {
		return nil, err
	}
	for _, s := range releaseStates {
		m.releases.WithLabelValues(s).Set(0)
	}
	return m, nil
}

// register registers c, or returns the collector of the same name registered before (a second
// manager in the same process shares it).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var already prometheus.AlreadyRegisteredError
	switch {
	case err == nil:
		return c, nil
	case errors.As(err, &already):
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// observe records the state a reconcile left a Release in and its duration.
func (m *Metrics) observe(rel *capstanv1.Release, action string, err error, d time.Duration) {
	if m == nil {
		return
	}
	if d > 0 {
		m.actions.WithLabelValues(action, resultOf(err)).Observe(d.Seconds())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[clientKey(rel)] = stateOf(rel)
	m.recount()
}

// forget drops a deleted Release.
func (m *Metrics) forget(key client.ObjectKey) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.states, key)
	m.recount()
}

func (m *Metrics) recount() {
	counts := map[string]int{}
	for _, s := range m.states {
		counts[s]++
	}
	for _, s := range releaseStates {
		m.releases.WithLabelValues(s).Set(float64(counts[s]))
	}
}

// stateOf reads a Release's state from its conditions.
func stateOf(rel *capstanv1.Release) string {
	ready := findCondition(rel, capstanv1.ReadyCondition)
	switch {
	case ready != nil && ready.Reason == capstanv1.SuspendedReason:
		return StateSuspended
	case findCondition(rel, capstanv1.StalledCondition) != nil:
		return StateStalled
	case ready != nil && ready.Status == metav1.ConditionTrue:
		return StateReady
	default:
		return StateNotReady
	}
}

// resultOf names a reconcile's result for the duration histogram.
func resultOf(err error) string {
	if err == nil {
		return "success"
	}
	switch classify(err).Class {
	case ClassStalling:
		return "stalled"
	case ClassWaiting:
		return "waiting"
	default:
		return "error"
	}
}

func clientKey(rel *capstanv1.Release) client.ObjectKey {
	return client.ObjectKey{Namespace: rel.Namespace, Name: rel.Name}
}
