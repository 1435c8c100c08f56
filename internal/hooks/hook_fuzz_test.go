package hooks_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/capstan-dev/capstan/internal/hooks"
)

// FuzzFromObject feeds arbitrary annotation values to the hook parser: it must never panic, an object is
// a hook exactly when it has the hook annotation, events and policies come out normalised and without
// repeats, and an error is always an *UnknownEventError.
func FuzzFromObject(f *testing.F) {
	f.Add("pre-install", "5", "hook-succeeded")
	f.Add(" Pre-Upgrade , POST-UPGRADE", "-10", "before-hook-creation,hook-failed")
	f.Add("test-success,test", "x", "")
	f.Add("crd-install", "", "hook-succeeded,,")
	f.Add(",", "+3", " , ")
	f.Add("pre-delete,post-delete,pre-rollback,post-rollback,post-install", "9223372036854775808", "HOOK-FAILED")
	f.Fuzz(func(t *testing.T, events, weight, policies string) {
		obj := annotated("Job", "j", map[string]string{
			hooks.AnnotationHook: events, hooks.AnnotationWeight: weight, hooks.AnnotationDeletePolicy: policies,
		})
		h, isHook, err := hooks.FromObject("t.yaml", obj)
		if !isHook {
			t.Fatal("an object with the hook annotation is a hook")
		}
		if err != nil {
			var unknown *hooks.UnknownEventError
			if !errors.As(err, &unknown) {
				t.Fatalf("unexpected error type %T", err)
			}
			return
		}
		if len(h.Events) == 0 {
			t.Fatal("a hook that parses has at least one event")
		}
		for i, ev := range h.Events {
			if slices.Contains(h.Events[:i], ev) || len(hooks.ForEvent([]hooks.Hook{h}, ev)) != 1 {
				t.Fatalf("event %q repeated or not runnable", ev)
			}
		}
		for i, p := range h.DeletePolicies {
			if slices.Contains(h.DeletePolicies[:i], p) || !h.HasDeletePolicy(p) {
				t.Fatalf("policy %q repeated or not held", p)
			}
		}
	})
}
