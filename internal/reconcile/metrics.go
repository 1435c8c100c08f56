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

// Results of the remediation counter.
const (
	resultSuccess = "success"
	resultFailure = "failure"
)

// Metrics are the release metrics controller-runtime's own do not give: how many Releases are in
// each state and which state each one is in, how long each release action and each render takes,
// how remediations end, and which Releases drifted. (Reconcile counts and durations per
// controller, work queues and API requests come from controller-runtime.)
type Metrics struct {
	releases     *prometheus.GaugeVec
	actions      *prometheus.HistogramVec
	status       *prometheus.GaugeVec
	drifted      *prometheus.GaugeVec
	remediations *prometheus.CounterVec
	renders      *prometheus.HistogramVec

	mu     sync.Mutex
	states map[client.ObjectKey]releaseState
}

// releaseState is what the per-Release series of one Release say.
type releaseState struct {
	state, reason string
	drifted       bool
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
			Help:    "Duration of Release reconciles by the action decided and the result (success, progressing: applied and waiting for health, waiting, stalled, error).",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"action", "result"}),
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "capstan_release_status",
			Help: "1 for each Release, labelled with its state (ready, not_ready, stalled, suspended) and the reason of its Ready condition.",
		}, []string{"namespace", "name", "state", "reason"}),
		drifted: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "capstan_release_drifted",
			Help: "1 while a Release's live objects differ from its deployed revision and are not corrected (Drifted=True, driftDetection.mode warn), else 0.",
		}, []string{"namespace", "name"}),
		remediations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "capstan_release_remediations_total",
			Help: "Remediations run after the retries of a failed install or upgrade ran out, by strategy (rollback, uninstall) and result (success, failure).",
		}, []string{"strategy", "result"}),
		renders: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "capstan_render_duration_seconds",
			Help:    "Duration of chart renders (values, templates, manifest split) by result (success, error).",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"result"}),
		states: map[client.ObjectKey]releaseState{},
	}
	var err error
	if m.releases, err = register(reg, m.releases); err != nil {
		return nil, err
	}
	if m.actions, err = register(reg, m.actions); err != nil {
		return nil, err
	}
	if m.status, err = register(reg, m.status); err != nil {
		return nil, err
	}
	if m.drifted, err = register(reg, m.drifted); err != nil {
		return nil, err
	}
	if m.remediations, err = register(reg, m.remediations); err != nil {
		return nil, err
	}
	if m.renders, err = register(reg, m.renders); err != nil {
		return nil, err
	}
	for _, s := range releaseStates {
		m.releases.WithLabelValues(s).Set(0)
	}
	for _, strategy := range []capstanv1.RemediationStrategy{capstanv1.RemediationRollback, capstanv1.RemediationUninstall} {
		for _, result := range []string{resultSuccess, resultFailure} {
			m.remediations.WithLabelValues(string(strategy), result)
		}
	}
	for _, result := range []string{"success", "error"} {
		m.renders.WithLabelValues(result)
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

// observe records the state a reconcile left a Release in, its duration, and the end of a
// remediation.
func (m *Metrics) observe(rel *capstanv1.Release, action Action, err error, d time.Duration) {
	if m == nil {
		return
	}
	if d > 0 {
		m.actions.WithLabelValues(string(action.Kind), resultOf(err)).Observe(d.Seconds())
	}
	// A remediation whose rollback is still waiting for health ends in a later reconcile.
	if action.Kind == ActionRemediate && !isProgressing(err) {
		m.remediations.WithLabelValues(string(action.Strategy), remediationResult(rel)).Inc()
	}
	next := releaseState{state: stateOf(rel), drifted: isDrifted(rel)}
	if ready := findCondition(rel, capstanv1.ReadyCondition); ready != nil {
		next.reason = ready.Reason
	}
	key := clientKey(rel)
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.states[key]; ok && (prev.state != next.state || prev.reason != next.reason) {
		m.status.DeleteLabelValues(key.Namespace, key.Name, prev.state, prev.reason)
	}
	m.states[key] = next
	m.status.WithLabelValues(key.Namespace, key.Name, next.state, next.reason).Set(1)
	m.drifted.WithLabelValues(key.Namespace, key.Name).Set(boolValue(next.drifted))
	m.recount()
}

// observeRender records one render's duration.
func (m *Metrics) observeRender(d time.Duration, err error) {
	if m == nil {
		return
	}
	result := "success"
	if err != nil {
		result = "error"
	}
	m.renders.WithLabelValues(result).Observe(d.Seconds())
}

// forget drops a deleted Release.
func (m *Metrics) forget(key client.ObjectKey) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if prev, ok := m.states[key]; ok {
		m.status.DeleteLabelValues(key.Namespace, key.Name, prev.state, prev.reason)
		m.drifted.DeleteLabelValues(key.Namespace, key.Name)
	}
	delete(m.states, key)
	m.recount()
}

func (m *Metrics) recount() {
	counts := map[string]int{}
	for _, s := range m.states {
		counts[s.state]++
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

// isDrifted reports whether drift was found and left in place.
func isDrifted(rel *capstanv1.Release) bool {
	c := findCondition(rel, capstanv1.DriftedCondition)
	return c != nil && c.Status == metav1.ConditionTrue
}

// remediationResult reads how a remediation ended from the Remediated condition it set.
func remediationResult(rel *capstanv1.Release) string {
	if c := findCondition(rel, capstanv1.RemediatedCondition); c != nil && c.Status == metav1.ConditionTrue {
		return resultSuccess
	}
	return resultFailure
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
	case ClassProgressing:
		return "progressing"
	default:
		return "error"
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func clientKey(rel *capstanv1.Release) client.ObjectKey {
	return client.ObjectKey{Namespace: rel.Namespace, Name: rel.Name}
}
