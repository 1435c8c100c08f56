package hooks

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	jobKind = schema.GroupKind{Group: "batch", Kind: "Job"}
	podKind = schema.GroupKind{Kind: "Pod"}
)

// maxMessageLength bounds a hook's failure message, which ends up in a condition.
const maxMessageLength = 240

// state is where a hook's object stands: still running, or done (well or not), with a one-line message.
type state struct {
	done    bool
	failed  bool
	message string
}

// waits reports whether a hook of this kind is followed until it finishes: Jobs and Pods are, every other
// kind is done once created.
func waits(gk schema.GroupKind) bool { return gk == jobKind || gk == podKind }

// stateOf reads a live hook object.
func stateOf(u *unstructured.Unstructured) state {
	switch u.GroupVersionKind().GroupKind() {
	case jobKind:
		return jobState(u)
	case podKind:
		return podState(u)
	}
	return state{done: true, message: "created"}
}

// jobState: a Job is done when its Complete condition is true and has failed when its Failed condition is.
func jobState(u *unstructured.Unstructured) state {
	for _, c := range conditions(u) {
		if c["status"] != "True" {
			continue
		}
		switch c["type"] {
		case "Complete":
			return state{done: true, message: "job complete"}
		case "Failed":
			return state{done: true, failed: true, message: oneLine(join("job failed", c["reason"], c["message"]))}
		}
	}
	return state{message: fmt.Sprintf("job running: %d succeeded, %d active, %d failed",
		nestedInt(u, "status", "succeeded"), nestedInt(u, "status", "active"), nestedInt(u, "status", "failed"))}
}

// podState: a Pod is done in phase Succeeded and has failed in phase Failed.
func podState(u *unstructured.Unstructured) state {
	phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
	switch phase {
	case "Succeeded":
		return state{done: true, message: "pod succeeded"}
	case "Failed":
		reason, _, _ := unstructured.NestedString(u.Object, "status", "reason")
		message, _, _ := unstructured.NestedString(u.Object, "status", "message")
		return state{done: true, failed: true, message: oneLine(join("pod failed", reason, message, terminated(u)))}
	case "":
		return state{message: "pod not observed yet"}
	}
	return state{message: "pod " + strings.ToLower(phase)}
}

// terminated describes the first container that exited with a non-zero code, if any.
func terminated(u *unstructured.Unstructured) string {
	list, _, _ := unstructured.NestedSlice(u.Object, "status", "containerStatuses")
	for _, item := range list {
		cs, ok := item.(map[string]any)
		if !ok {
			continue
		}
		code, found, _ := unstructured.NestedInt64(cs, "state", "terminated", "exitCode")
		if !found || code == 0 {
			continue
		}
		name, _ := cs["name"].(string)
		reason, _, _ := unstructured.NestedString(cs, "state", "terminated", "reason")
		return strings.TrimSpace(fmt.Sprintf("container %s exited with code %d %s", name, code, reason))
	}
	return ""
}

func conditions(u *unstructured.Unstructured) []map[string]string {
	list, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	out := make([]map[string]string, 0, len(list))
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		c := map[string]string{}
		for _, k := range []string{"type", "status", "reason", "message"} {
			c[k], _ = m[k].(string)
		}
		out = append(out, c)
	}
	return out
}

func nestedInt(u *unstructured.Unstructured, fields ...string) int64 {
	v, _, _ := unstructured.NestedInt64(u.Object, fields...)
	return v
}

// join joins the non-empty parts with ": ".
func join(parts ...string) string {
	kept := make([]string, 0, len(parts))
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ": ")
}

// oneLine collapses whitespace and bounds the length on a rune boundary.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxMessageLength {
		return s
	}
	cut := maxMessageLength - len("…")
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
