package health

import (
	"fmt"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/capstan-dev/capstan/internal/apply"
)

// The kstatus statuses a Report uses, re-exported so callers need not import kstatus.
const (
	Current     = status.CurrentStatus
	InProgress  = status.InProgressStatus
	Failed      = status.FailedStatus
	Terminating = status.TerminatingStatus
	NotFound    = status.NotFoundStatus
	Unknown     = status.UnknownStatus
)

// maxMessageLength bounds one object's message, so a controller writing a long Ready message cannot
// blow up a condition.
const maxMessageLength = 160

var (
	jobKind = schema.GroupKind{Group: "batch", Kind: "Job"}
	podKind = schema.GroupKind{Kind: "Pod"}
)

// ObjectStatus is the health of one object.
type ObjectStatus struct {
	// Ref names the object.
	Ref apply.ObjectRef
	// Status is the object's kstatus status.
	Status status.Status
	// Message says why, in one line.
	Message string
}

// String renders the status the way summaries do: "Kind/ns/name: message", with the status word in
// front of the message unless the object is simply in progress.
func (s ObjectStatus) String() string {
	if s.Status == InProgress || s.Status == "" {
		return fmt.Sprintf("%s: %s", s.Ref, s.Message)
	}
	return fmt.Sprintf("%s: %s: %s", s.Ref, s.Status, s.Message)
}

// Compute returns the health of a live object: kstatus's verdict, tightened for Jobs (ready only once
// complete) and Pods (a failed Pod has failed). It never panics: an object whose status kstatus cannot
// read is Unknown.
func Compute(u *unstructured.Unstructured) (out ObjectStatus) {
	ref := apply.RefOf(u)
	defer func() {
		if recover() != nil {
			out = ObjectStatus{Ref: ref, Status: Unknown, Message: "status cannot be read: malformed status"}
		}
	}()
	res, err := status.Compute(u)
	if err != nil {
		return ObjectStatus{Ref: ref, Status: Unknown, Message: oneLine("status cannot be read: " + err.Error())}
	}
	st, msg := res.Status, res.Message
	switch u.GroupVersionKind().GroupKind() {
	case jobKind:
		st, msg = jobStatus(u, st, msg)
	case podKind:
		st, msg = podStatus(u, st, msg)
	}
	return ObjectStatus{Ref: ref, Status: st, Message: oneLine(msg)}
}

// jobStatus makes a Job Current only once its Complete condition is true (kstatus calls a running Job
// Current) and names the failure condition's reason when it failed.
func jobStatus(u *unstructured.Unstructured, st status.Status, msg string) (status.Status, string) {
	switch st {
	case Failed:
		if c, ok := condition(u, "Failed"); ok {
			return Failed, joinNonEmpty(": ", "Job failed", c.reason, c.message)
		}
	case Current:
		if _, ok := condition(u, "Complete"); ok {
			return st, msg
		}
		succeeded := nestedInt(u, "status", "succeeded")
		active := nestedInt(u, "status", "active")
		failed := nestedInt(u, "status", "failed")
		return InProgress, fmt.Sprintf("job in progress: %d succeeded, %d active, %d failed", succeeded, active, failed)
	}
	return st, msg
}

// podStatus makes a Pod that ended in phase Failed Failed (kstatus calls it Current).
func podStatus(u *unstructured.Unstructured, st status.Status, msg string) (status.Status, string) {
	phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
	if phase != "Failed" {
		return st, msg
	}
	reason, _, _ := unstructured.NestedString(u.Object, "status", "reason")
	message, _, _ := unstructured.NestedString(u.Object, "status", "message")
	return Failed, joinNonEmpty(": ", "Pod failed", reason, message)
}

type cond struct{ reason, message string }

// condition returns the condition of type t when its status is True.
func condition(u *unstructured.Unstructured, t string) (cond, bool) {
	list, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok || m["type"] != t || m["status"] != "True" {
			continue
		}
		reason, _ := m["reason"].(string)
		message, _ := m["message"].(string)
		return cond{reason: reason, message: message}, true
	}
	return cond{}, false
}

func nestedInt(u *unstructured.Unstructured, fields ...string) int64 {
	v, _, _ := unstructured.NestedInt64(u.Object, fields...)
	return v
}

func joinNonEmpty(sep string, parts ...string) string {
	kept := parts[:0:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, sep)
}

// oneLine collapses whitespace and bounds the length, so messages stay single-line and short.
func oneLine(s string) string {
	return truncate(strings.Join(strings.Fields(s), " "), maxMessageLength)
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !runeStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

func runeStart(b byte) bool { return b&0xC0 != 0x80 }
