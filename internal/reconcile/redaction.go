package reconcile

import (
	"context"
	"encoding/base64"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	crlog "sigs.k8s.io/controller-runtime/pkg/log"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/redact"
)

// startRedaction gives one reconcile its Redactor: the one ctx already carries (a CLI command's),
// else a new one. The returned ctx carries it, for the code that reads Secrets (valuesFrom,
// lookup, repository credentials), and a logger that redacts with it, for everything logged
// during the reconcile. docs/redaction.md lists the choke points.
func startRedaction(ctx context.Context) (context.Context, *redact.Redactor) {
	red := redact.FromContext(ctx)
	if red == nil {
		red = redact.New()
		ctx = redact.NewContext(ctx, red)
	}
	return crlog.IntoContext(ctx, redact.Logger(crlog.FromContext(ctx), red)), red
}

// redactStatus scrubs every message a Release's status holds (conditions and history) just
// before it is written: the last line of defence behind the errors-to-condition mapping.
func redactStatus(rel *capstanv1.Release, red *redact.Redactor) {
	if red.Len() == 0 {
		return
	}
	redactConditions(rel.Status.Conditions, red)
	for i := range rel.Status.History {
		rel.Status.History[i].Message = red.RedactCut(rel.Status.History[i].Message, cutMarker)
	}
}

// redactConditions scrubs condition messages in place, also a value oneLine cut in half.
func redactConditions(conds []metav1.Condition, red *redact.Redactor) {
	for i := range conds {
		conds[i].Message = red.RedactCut(conds[i].Message, cutMarker)
	}
}

// cutMarker ends a message oneLine cut short.
const cutMarker = "..."

// registerSecretObject registers the data of a Secret read as an unstructured object (data
// values are base64 there) or of every Secret of a list.
func registerSecretObject(red *redact.Redactor, obj map[string]any) {
	if items, ok := obj["items"].([]any); ok {
		for _, item := range items {
			if m, ok := item.(map[string]any); ok {
				registerSecretObject(red, m)
			}
		}
	}
	if data, ok := obj["data"].(map[string]any); ok {
		for _, v := range data {
			s, _ := v.(string)
			if raw, err := base64.StdEncoding.DecodeString(s); err == nil {
				red.AddSecret(map[string][]byte{"": raw}, nil)
			} else {
				red.Add(s)
			}
		}
	}
	if data, ok := obj["stringData"].(map[string]any); ok {
		red.AddLeaves(data)
	}
}
