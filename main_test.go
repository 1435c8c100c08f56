package main

import (
	"runtime/debug"
	"testing"
)

// TestSetGCPercent applies the manager's target unless GOGC is set, in which case the runtime's
// reading of GOGC stays in force.
func TestSetGCPercent(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	cases := []struct {
		name string
		gogc string
		want int
	}{
		{name: "unset: the manager's target", gogc: "", want: gcPercent},
		{name: "set: left as the runtime read it", gogc: "200", want: 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			got := setGCPercent(func(k string) string {
				if k == "GOGC" {
					return tc.gogc
				}
				return ""
			})
			if got != tc.want {
				t.Fatalf("setGCPercent returned %d, want %d", got, tc.want)
			}
			if now := debug.SetGCPercent(100); now != tc.want {
				t.Fatalf("the runtime's target is %d, want %d", now, tc.want)
			}
		})
	}
}
