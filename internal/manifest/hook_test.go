package manifest

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestForEvent(t *testing.T) {
	hooks := []Hook{
		{Name: "b", Kind: "ServiceAccount", Events: []string{EventPreInstall}, Weight: 0},
		{Name: "z", Kind: "ConfigMap", Events: []string{EventPreInstall}, Weight: -5},
		{Name: "a", Kind: "ConfigMap", Events: []string{EventPreInstall, EventPostUpgrade}, Weight: 0},
		{Name: "a", Kind: "Job", Events: []string{EventPreInstall}, Weight: 0},
		{Name: "t", Kind: "Pod", Events: []string{EventTest}},
	}
	cases := map[string]struct {
		event string
		want  []string
	}{
		"weight first, then name, then input order": {EventPreInstall, []string{"ConfigMap/z", "ConfigMap/a", "Job/a", "ServiceAccount/b"}},
		"only hooks listing the event":              {EventPostUpgrade, []string{"ConfigMap/a"}},
		"no hook for an event gives nothing":        {EventPreDelete, []string{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := []string{}
			for _, h := range ForEvent(hooks, tc.event) {
				got = append(got, h.Kind+"/"+h.Name)
			}
			NewWithT(t).Expect(got).To(Equal(tc.want))
		})
	}
}

func TestParseWeight(t *testing.T) {
	cases := map[string]struct {
		in   string
		want int
	}{
		"a positive integer":              {"5", 5},
		"a negative integer":              {"-5", -5},
		"surrounding spaces do not parse": {" 5", 0},
		"a float does not parse":          {"1.5", 0},
		"text does not parse":             {"heavy", 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { NewWithT(t).Expect(ParseHookWeight(tc.in)).To(Equal(tc.want)) })
	}
}

func TestHook_HasDeletePolicy(t *testing.T) {
	g := NewWithT(t)
	g.Expect(Hook{}.HasDeletePolicy(PolicyBeforeHookCreation)).To(BeTrue(), "no policy means before-hook-creation")
	g.Expect(Hook{}.HasDeletePolicy(PolicyHookSucceeded)).To(BeFalse())
	h := Hook{DeletePolicies: []string{PolicyHookSucceeded}}
	g.Expect(h.HasDeletePolicy(PolicyHookSucceeded)).To(BeTrue())
	g.Expect(h.HasDeletePolicy(PolicyBeforeHookCreation)).To(BeFalse())
	g.Expect(Hook{Events: []string{EventTest}}.IsTest()).To(BeTrue())
}

func TestHook_AsManifest(t *testing.T) {
	g := NewWithT(t)
	h := Hook{Name: "j", Kind: "Job", Path: "c/templates/j.yaml", Manifest: "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n"}
	objs, err := ParseObjects([]Manifest{h.AsManifest()})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(objs).To(HaveLen(1))
	g.Expect(objs[0].Source).To(Equal("c/templates/j.yaml"))
	g.Expect(objs[0].ID("ns")).To(Equal(ObjectID{Group: "batch", Kind: "Job", Namespace: "ns", Name: "j"}))
}
