package hooks_test

import (
	"errors"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/capstan-dev/capstan/internal/apply"
	"github.com/capstan-dev/capstan/internal/hooks"
)

func annotated(kind, name string, ann map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind(kind)
	u.SetName(name)
	if ann != nil {
		u.SetAnnotations(ann)
	}
	return u
}

func TestFromObject(t *testing.T) {
	cases := map[string]struct {
		ann         map[string]string
		isHook      bool
		wantUnknown bool
		unknown     string
		want        hooks.Hook
	}{
		"an object without the hook annotation is not a hook": {
			ann: map[string]string{"helm.sh/hook-weight": "3"},
		},
		"events are trimmed, lower-cased, and listed once": {
			ann:    map[string]string{"helm.sh/hook": " Pre-Install ,post-upgrade,pre-install"},
			isHook: true,
			want:   hooks.Hook{Events: []hooks.Event{hooks.PreInstall, hooks.PostUpgrade}},
		},
		"test-success is Helm 2's spelling of test": {
			ann:    map[string]string{"helm.sh/hook": "test-success"},
			isHook: true,
			want:   hooks.Hook{Events: []hooks.Event{hooks.Test}},
		},
		"an unknown event makes the whole object one Helm drops": {
			ann:         map[string]string{"helm.sh/hook": "pre-install,crd-install"},
			isHook:      true,
			wantUnknown: true,
			unknown:     "crd-install",
		},
		"an empty item is an unknown event too": {
			ann:         map[string]string{"helm.sh/hook": "pre-install,"},
			isHook:      true,
			wantUnknown: true,
			unknown:     "",
		},
		"weight and delete policies are read; unknown policies are ignored": {
			ann: map[string]string{
				"helm.sh/hook":               "pre-upgrade",
				"helm.sh/hook-weight":        "-5",
				"helm.sh/hook-delete-policy": "Hook-Succeeded, sometimes ,hook-failed,hook-succeeded",
			},
			isHook: true,
			want: hooks.Hook{Events: []hooks.Event{hooks.PreUpgrade}, Weight: -5,
				DeletePolicies: []hooks.DeletePolicy{hooks.HookSucceeded, hooks.HookFailed}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			obj := annotated("Job", "migrate", tc.ann)
			h, isHook, err := hooks.FromObject("chart/templates/job.yaml", obj)
			g.Expect(isHook).To(Equal(tc.isHook))
			if tc.wantUnknown {
				var unknown *hooks.UnknownEventError
				g.Expect(errors.As(err, &unknown)).To(BeTrue(), "got %v", err)
				g.Expect(unknown.Event).To(Equal(tc.unknown))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			if !tc.isHook {
				g.Expect(h).To(Equal(hooks.Hook{}))
				return
			}
			tc.want.Name, tc.want.Kind, tc.want.Path, tc.want.Object = "migrate", "Job", "chart/templates/job.yaml", obj
			g.Expect(h).To(Equal(tc.want))
		})
	}
}

func TestParseWeight(t *testing.T) {
	cases := map[string]struct {
		in   string
		want int
	}{
		"a plain integer":                        {"10", 10},
		"a negative integer":                     {"-3", -3},
		"a sign and leading zeros, as Atoi does": {"+007", 7},
		"surrounding space does not parse":       {" 5", 0},
		"a fraction does not parse":              {"1.5", 0},
		"a word does not parse":                  {"first", 0},
		"nothing is zero":                        {"", 0},
		"an integer beyond int64 does not parse": {"99999999999999999999", 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(hooks.ParseWeight(tc.in)).To(Equal(tc.want))
		})
	}
}

func TestHook_HasDeletePolicy(t *testing.T) {
	cases := map[string]struct {
		policies []hooks.DeletePolicy
		yes, no  []hooks.DeletePolicy
	}{
		"no policy means before-hook-creation only": {
			yes: []hooks.DeletePolicy{hooks.BeforeHookCreation},
			no:  []hooks.DeletePolicy{hooks.HookSucceeded, hooks.HookFailed},
		},
		"an explicit policy replaces the default": {
			policies: []hooks.DeletePolicy{hooks.HookSucceeded},
			yes:      []hooks.DeletePolicy{hooks.HookSucceeded},
			no:       []hooks.DeletePolicy{hooks.BeforeHookCreation, hooks.HookFailed},
		},
		"several policies all hold": {
			policies: []hooks.DeletePolicy{hooks.BeforeHookCreation, hooks.HookFailed},
			yes:      []hooks.DeletePolicy{hooks.BeforeHookCreation, hooks.HookFailed},
			no:       []hooks.DeletePolicy{hooks.HookSucceeded},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			h := hooks.Hook{DeletePolicies: tc.policies}
			for _, p := range tc.yes {
				g.Expect(h.HasDeletePolicy(p)).To(BeTrue(), string(p))
			}
			for _, p := range tc.no {
				g.Expect(h.HasDeletePolicy(p)).To(BeFalse(), string(p))
			}
		})
	}
}

func TestForEvent(t *testing.T) {
	hook := func(name, kind string, weight int, evs ...hooks.Event) hooks.Hook {
		return hooks.Hook{Name: name, Kind: kind, Weight: weight, Events: evs}
	}
	names := func(hs []hooks.Hook) []string {
		out := []string{}
		for _, h := range hs {
			out = append(out, h.Kind+"/"+h.Name)
		}
		return out
	}
	cases := map[string]struct {
		in   []hooks.Hook
		ev   hooks.Event
		want []string
	}{
		"lower weights run first, whatever the input order": {
			in: []hooks.Hook{
				hook("c", "Job", 5, hooks.PreInstall), hook("a", "Job", 10, hooks.PreInstall), hook("b", "Job", -1, hooks.PreInstall),
			},
			ev:   hooks.PreInstall,
			want: []string{"Job/b", "Job/c", "Job/a"},
		},
		"equal weights run by name": {
			in: []hooks.Hook{
				hook("zeta", "Job", 0, hooks.PreUpgrade), hook("alpha", "Pod", 0, hooks.PreUpgrade), hook("mid", "ConfigMap", 0, hooks.PreUpgrade),
			},
			ev:   hooks.PreUpgrade,
			want: []string{"Pod/alpha", "ConfigMap/mid", "Job/zeta"},
		},
		"equal weight and name keep the input (kind) order": {
			in: []hooks.Hook{
				hook("same", "ServiceAccount", 0, hooks.PreInstall), hook("same", "Job", 0, hooks.PreInstall),
			},
			ev:   hooks.PreInstall,
			want: []string{"ServiceAccount/same", "Job/same"},
		},
		"only hooks of the event run": {
			in: []hooks.Hook{
				hook("install", "Job", 0, hooks.PreInstall), hook("both", "Job", 0, hooks.PreInstall, hooks.PreUpgrade),
				hook("test", "Pod", 0, hooks.Test),
			},
			ev:   hooks.PreUpgrade,
			want: []string{"Job/both"},
		},
		"no hooks of the event is an empty run": {
			in:   []hooks.Hook{hook("install", "Job", 0, hooks.PreInstall)},
			ev:   hooks.PostDelete,
			want: []string{},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(names(hooks.ForEvent(tc.in, tc.ev))).To(Equal(tc.want))
		})
	}
}

func TestError(t *testing.T) {
	g := NewWithT(t)
	cause := errors.New("boom")
	var err error = &hooks.Error{Event: hooks.PreUpgrade, Hook: "migrate", Reason: hooks.ReasonFailed,
		Ref:     apply.ObjectRef{Group: "batch", Version: "v1", Kind: "Job", Namespace: "ns", Name: "migrate"},
		Message: "job failed: BackoffLimitExceeded", Err: cause}
	g.Expect(err.Error()).To(Equal("pre-upgrade hook Job/ns/migrate failed: HookFailed: job failed: BackoffLimitExceeded"))
	g.Expect(errors.Is(err, cause)).To(BeTrue())
}

func TestHook_Timeout(t *testing.T) {
	const release = 5 * time.Minute
	cases := map[string]struct {
		ann     map[string]string
		want    time.Duration
		invalid bool
	}{
		"no annotation: the Release's timeout":         {want: release},
		"a shorter one wins":                           {ann: map[string]string{hooks.AnnotationTimeout: "30s"}, want: 30 * time.Second},
		"a longer one wins too":                        {ann: map[string]string{hooks.AnnotationTimeout: "1h30m"}, want: 90 * time.Minute},
		"surrounding space is trimmed":                 {ann: map[string]string{hooks.AnnotationTimeout: " 2m "}, want: 2 * time.Minute},
		"a bare number has no unit and is invalid":     {ann: map[string]string{hooks.AnnotationTimeout: "30"}, invalid: true},
		"zero would mean no bound and is invalid":      {ann: map[string]string{hooks.AnnotationTimeout: "0s"}, invalid: true},
		"a negative duration is invalid":               {ann: map[string]string{hooks.AnnotationTimeout: "-1m"}, invalid: true},
		"an empty value is invalid, not ignored":       {ann: map[string]string{hooks.AnnotationTimeout: ""}, invalid: true},
		"a Kubernetes-style day unit is not Go syntax": {ann: map[string]string{hooks.AnnotationTimeout: "1d"}, invalid: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			h := hooks.Hook{Name: "migrate", Kind: "Job", Object: annotated("Job", "migrate", tc.ann)}
			got, err := h.Timeout(release)
			if tc.invalid {
				g.Expect(err).To(MatchError(hooks.ErrInvalidTimeout))
				g.Expect(err.Error()).To(HavePrefix("the capstan.dev/hook-timeout annotation %q is not a positive duration", tc.ann[hooks.AnnotationTimeout]))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
	g := NewWithT(t)
	got, err := hooks.Hook{Name: "x"}.Timeout(release)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(got).To(Equal(release), "a hook without an object has no annotation")
}
