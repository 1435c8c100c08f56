package manifest

import (
	"log/slog"
	"testing"
)

// FuzzSort feeds arbitrary rendered text through classification: it never panics, every hook and
// manifest is a document of the input, and manifests come out in kind order.
func FuzzSort(f *testing.F) {
	f.Add("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\nkind: Namespace\n")
	f.Add("metadata:\n  annotations:\n    helm.sh/hook: pre-install, Test-Success\n    helm.sh/hook-weight: '-1'\n")
	f.Add("metadata:\n  annotations:\n    helm.sh/hook: crd-install\n---\n- list\n")
	f.Add("a: &a [*a]\n")
	f.Add("kind: [\n---\nmetadata: {annotations: {helm.sh/hook: 5}}\n")
	f.Fuzz(func(t *testing.T, text string) {
		docs := map[string]bool{}
		for _, d := range Split(text) {
			docs[d] = true
		}
		hooks, manifests, err := Sorter{Logger: slog.New(slog.DiscardHandler)}.Sort(map[string]string{"c/templates/x.yaml": text})
		if err != nil {
			return
		}
		for _, h := range hooks {
			if !docs[h.Manifest] || len(h.Events) == 0 {
				t.Fatalf("hook %+v is not an input document with events", h)
			}
		}
		for i, m := range manifests {
			if !docs[m.Content] || m.Head == nil {
				t.Fatalf("manifest %q is not an input document", m.Content)
			}
			if i > 0 && InstallOrder.Less(m.Head.Kind, manifests[i-1].Head.Kind) {
				t.Fatalf("manifests out of kind order: %q before %q", manifests[i-1].Head.Kind, m.Head.Kind)
			}
		}
	})
}
