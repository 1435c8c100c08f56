package hooks

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/capstan-dev/capstan/internal/manifest"
	"github.com/capstan-dev/capstan/internal/redact"
)

// AnnotationOutputLogPolicy lists when a hook Pod's or Job's container log is reported.
const AnnotationOutputLogPolicy = "helm.sh/hook-output-log-policy"

// OutputLogPolicy says when a hook's container log is reported.
type OutputLogPolicy string

// The output-log policies Helm defines.
const (
	// LogOnFailed reports the log of a hook that failed or timed out, in its Error (and so in the
	// Release's condition message and Warning event). Capstan reports that log whatever the
	// policy says, so a failed hook always explains itself.
	LogOnFailed OutputLogPolicy = "hook-failed"
	// LogOnSucceeded reports the log of a hook that succeeded, in its Result.
	LogOnSucceeded OutputLogPolicy = "hook-succeeded"
)

// Bounds of a reported log: the last MaxLogLines lines, at most MaxLogBytes read from the server,
// of which the last maxLogExcerpt bytes are kept, so that the excerpt fits in a condition message.
const (
	MaxLogLines   = 20
	MaxLogBytes   = 2048
	maxLogExcerpt = 512
	// logTimeout bounds the reads of one hook's log.
	logTimeout = 5 * time.Second
)

// PodLogs reads the end of one container's log. The controller's implementation reads the pods/log
// subresource as the Release's identity; a nil PodLogs reports no logs.
type PodLogs interface {
	TailLogs(ctx context.Context, namespace, pod, container string, lines, limitBytes int64) ([]byte, error)
}

// ParseOutputLogPolicies reads a helm.sh/hook-output-log-policy value: the known policies, trimmed
// and lower-cased, in order and without repeats.
func ParseOutputLogPolicies(value string) []OutputLogPolicy {
	var out []OutputLogPolicy
	for _, p := range manifest.ParseHookOutputLogPolicies(value) {
		out = append(out, OutputLogPolicy(p))
	}
	return out
}

// HasOutputLogPolicy reports whether the hook's log is reported on p.
func (h Hook) HasOutputLogPolicy(p OutputLogPolicy) bool {
	return slices.Contains(h.OutputLogPolicies, p)
}

// hookLogs returns the excerpt of the log of a hook's Pod, or of its Job's newest failed (else
// newest) Pod, passed through the Redactor ctx carries; "" when the hook is not a Pod or Job, or
// the log cannot be read (a missing log never hides the hook's own outcome). A failed hook's log is
// always read; a successful one's only when its helm.sh/hook-output-log-policy names
// hook-succeeded (the caller decides).
func (r *Runner) hookLogs(ctx context.Context, run *hookRun) string {
	if r.logs == nil || !run.created || !waits(run.res.Ref.GroupVersionKind().GroupKind()) {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, logTimeout)
	defer cancel()
	pod, err := r.hookPod(ctx, run)
	if err != nil || pod == nil {
		return ""
	}
	container := logContainer(pod)
	if container == "" {
		return ""
	}
	data, err := r.logs.TailLogs(ctx, pod.GetNamespace(), pod.GetName(), container, MaxLogLines, MaxLogBytes)
	if err != nil {
		return ""
	}
	red := redact.FromContext(ctx)
	excerpt := red.Redact(logExcerpt([]byte(red.Redact(string(data)))))
	if excerpt == "" {
		return ""
	}
	return fmt.Sprintf("last log lines of pod %s container %s: %s", pod.GetName(), container, excerpt)
}

// hookPod reads the hook's Pod, or picks its Job's newest failed Pod (else its newest Pod).
func (r *Runner) hookPod(ctx context.Context, run *hookRun) (*unstructured.Unstructured, error) {
	ref := run.res.Ref
	if ref.GroupVersionKind().GroupKind() == podKind {
		pod := &unstructured.Unstructured{}
		pod.SetAPIVersion("v1")
		pod.SetKind("Pod")
		return pod, r.client.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, pod)
	}
	list := &unstructured.UnstructuredList{}
	list.SetAPIVersion("v1")
	list.SetKind("PodList")
	if err := r.client.List(ctx, list, client.InNamespace(ref.Namespace),
		client.MatchingLabels{"batch.kubernetes.io/job-name": ref.Name}); err != nil {
		return nil, err
	}
	var best *unstructured.Unstructured
	for i := range list.Items {
		pod := &list.Items[i]
		if !controlledBy(pod, run.uid) {
			continue
		}
		if best == nil || betterLogPod(pod, best) {
			best = pod
		}
	}
	return best, nil
}

// controlledBy reports whether a Pod belongs to the Job with this UID (any Job when uid is empty).
func controlledBy(pod *unstructured.Unstructured, uid string) bool {
	if uid == "" {
		return true
	}
	for _, o := range pod.GetOwnerReferences() {
		if string(o.UID) == uid {
			return true
		}
	}
	return false
}

// betterLogPod prefers a failed Pod, then the newer one, then the name.
func betterLogPod(a, b *unstructured.Unstructured) bool {
	af, bf := podPhase(a) == "Failed", podPhase(b) == "Failed"
	if af != bf {
		return af
	}
	at, bt := a.GetCreationTimestamp(), b.GetCreationTimestamp()
	if !at.Equal(&bt) {
		return bt.Before(&at)
	}
	return a.GetName() > b.GetName()
}

func podPhase(pod *unstructured.Unstructured) string {
	phase, _, _ := unstructured.NestedString(pod.Object, "status", "phase")
	return phase
}

// logContainer is the container whose log explains the Pod: the first that exited non-zero, else
// the first of the spec.
func logContainer(pod *unstructured.Unstructured) string {
	statuses, _, _ := unstructured.NestedSlice(pod.Object, "status", "containerStatuses")
	for _, item := range statuses {
		cs, ok := item.(map[string]any)
		if !ok {
			continue
		}
		if code, found, _ := unstructured.NestedInt64(cs, "state", "terminated", "exitCode"); found && code != 0 {
			if name, _ := cs["name"].(string); name != "" {
				return name
			}
		}
	}
	containers, _, _ := unstructured.NestedSlice(pod.Object, "spec", "containers")
	if len(containers) == 0 {
		return ""
	}
	first, _ := containers[0].(map[string]any)
	name, _ := first["name"].(string)
	return name
}

// logExcerpt turns the end of a log into one line: control characters (terminal escapes among
// them) dropped, each line's whitespace collapsed, empty lines left out, lines joined with " | ",
// and at most the last maxLogExcerpt bytes kept (cut on a character boundary, marked with "…").
func logExcerpt(data []byte) string {
	lines := strings.Split(strings.TrimRight(string(data), "\r\n"), "\n")
	if len(lines) > MaxLogLines {
		lines = lines[len(lines)-MaxLogLines:]
	}
	kept := make([]string, 0, len(lines))
	for _, l := range lines {
		l = strings.Join(strings.Fields(strings.Map(printable, l)), " ")
		if l != "" {
			kept = append(kept, l)
		}
	}
	s := strings.Join(kept, " | ")
	if len(s) <= maxLogExcerpt {
		return s
	}
	cut := len(s) - (maxLogExcerpt - len("…"))
	for cut < len(s) && s[cut]&0xC0 == 0x80 {
		cut++
	}
	return "…" + s[cut:]
}

// printable drops control characters and invalid bytes, and keeps tabs as spaces.
func printable(r rune) rune {
	switch {
	case r == '\t':
		return ' '
	case r == unicode.ReplacementChar || unicode.IsControl(r) || !unicode.IsPrint(r) && !unicode.IsSpace(r):
		return -1
	}
	return r
}
