package reconcile

import (
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/apply"
)

// eventLog records events as "Type Reason".
type eventLog struct{ events []string }

func (l *eventLog) Eventf(_, _ runtime.Object, eventtype, reason, _, _ string, _ ...any) {
	l.events = append(l.events, eventtype+" "+reason)
}

func TestReportDrift(t *testing.T) {
	cm := func(name string, fields ...string) apply.Change {
		return apply.Change{Ref: apply.ObjectRef{Kind: "ConfigMap", Namespace: "apps", Name: name}, Kind: apply.ChangeDrifted, Fields: fields}
	}
	cases := map[string]struct {
		mode       capstanv1.DriftDetectionMode
		before     *metav1.Condition
		changes    []apply.Change
		wantStatus metav1.ConditionStatus
		wantReason string
		wantEvents []string
	}{
		"drift appearing in warn mode is reported once": {
			mode: capstanv1.DriftDetectionWarn, changes: []apply.Change{cm("a", "/data/x")},
			before:     &metav1.Condition{Type: capstanv1.DriftedCondition, Status: metav1.ConditionFalse, Reason: capstanv1.NoDriftDetectedReason},
			wantStatus: metav1.ConditionTrue, wantReason: capstanv1.DriftDetectedReason, wantEvents: []string{"Warning DriftDetected"},
		},
		"the same drift again is not reported again": {
			mode: capstanv1.DriftDetectionWarn, changes: []apply.Change{cm("a", "/data/x")},
			before: &metav1.Condition{Type: capstanv1.DriftedCondition, Status: metav1.ConditionTrue, Reason: capstanv1.DriftDetectedReason,
				Message: driftMessage([]apply.Change{cm("a", "/data/x")})},
			wantStatus: metav1.ConditionTrue, wantReason: capstanv1.DriftDetectedReason,
		},
		"drift gone clears the condition": {
			mode:       capstanv1.DriftDetectionWarn,
			before:     &metav1.Condition{Type: capstanv1.DriftedCondition, Status: metav1.ConditionTrue, Reason: capstanv1.DriftDetectedReason},
			wantStatus: metav1.ConditionFalse, wantReason: capstanv1.NoDriftDetectedReason,
		},
		"a corrected drift stays corrected while there is none": {
			mode:       capstanv1.DriftDetectionEnabled,
			before:     &metav1.Condition{Type: capstanv1.DriftedCondition, Status: metav1.ConditionFalse, Reason: capstanv1.DriftCorrectedReason},
			wantStatus: metav1.ConditionFalse, wantReason: capstanv1.DriftCorrectedReason,
		},
		"enabled mode leaves reporting to the correction": {
			mode: capstanv1.DriftDetectionEnabled, changes: []apply.Change{cm("a")},
			wantStatus: "", wantReason: "",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			rel := releaseAt(1)
			rel.Spec.DriftDetection = &capstanv1.DriftDetection{Mode: tc.mode}
			if tc.before != nil {
				setCondition(rel, tc.before.Type, tc.before.Status, tc.before.Reason, tc.before.Message)
			}
			events := &eventLog{}
			s := &session{r: &Reconciler{Events: events}, rel: rel, driftChecked: true}
			s.reportDrift(tc.changes)
			got := findCondition(rel, capstanv1.DriftedCondition)
			if tc.wantStatus == "" {
				g.Expect(got).To(BeNil())
			} else {
				g.Expect(got.Status).To(Equal(tc.wantStatus))
				g.Expect(got.Reason).To(Equal(tc.wantReason))
			}
			g.Expect(events.events).To(Equal(tc.wantEvents))
		})
	}
}

func TestDriftMessage(t *testing.T) {
	g := NewWithT(t)
	var changes []apply.Change
	for i := 7; i > 0; i-- {
		changes = append(changes, apply.Change{Ref: apply.ObjectRef{Kind: "ConfigMap", Namespace: "apps", Name: fmt.Sprintf("cm%d", i)},
			Kind: apply.ChangeDrifted, Fields: []string{"/a", "/b", "/c", "/d"}})
	}
	changes = append(changes, apply.Change{Ref: apply.ObjectRef{Kind: "Service", Namespace: "apps", Name: "svc"}, Kind: apply.ChangeMissing})
	msg := driftMessage(changes)
	g.Expect(msg).To(HavePrefix("8 object(s) drifted from the deployed revision: ConfigMap/apps/cm1 (/a, /b, /c, ...); ConfigMap/apps/cm2"))
	g.Expect(msg).To(HaveSuffix(" and 3 more"))
	g.Expect(strings.Count(msg, "ConfigMap/")).To(Equal(5))
	g.Expect(driftMessage(changes[:1])).To(Equal("1 object(s) drifted from the deployed revision: ConfigMap/apps/cm7 (/a, /b, /c, ...)"))
	g.Expect(driftMessage(changes[7:])).To(Equal("1 object(s) drifted from the deployed revision: Service/apps/svc (missing)"))
}
