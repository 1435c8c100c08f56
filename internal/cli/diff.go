package cli

import (
	"fmt"
	"io"
	"strings"
)

// Exit statuses of `capstan diff`, as diff(1) and `kubectl diff` use them.
const (
	// DiffExitNone means the cluster matches what the next reconcile would apply.
	DiffExitNone = 0
	// DiffExitChanges means the next reconcile would create, change or delete objects.
	DiffExitChanges = 2
)

// DiffReport is what `capstan diff` prints: the action the next reconcile would take and the
// objects it would create, change or delete. It names objects and JSON pointers only; no
// object content (and so no Secret data) is ever part of it.
type DiffReport struct {
	// Release and Namespace name the Release object.
	Release   string `json:"release"`
	Namespace string `json:"namespace"`
	// ReleaseName is the Helm release the Release manages.
	ReleaseName string `json:"releaseName"`
	// Action is what the next reconcile would do (Install, Upgrade, Nothing, …), with the
	// decision's reason and message.
	Action  string `json:"action"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// Revision is the number the next revision would get.
	Revision int `json:"revision"`
	// Chart and Version are the chart the spec resolves to now.
	Chart   string `json:"chart"`
	Version string `json:"version"`
	// Create, Change and Delete list the objects, in install order (create, change) and
	// uninstall order (delete).
	Create []DiffObject `json:"create"`
	Change []DiffObject `json:"change"`
	Delete []DiffObject `json:"delete"`
}

// DiffObject is one object of a diff and, for a change, the JSON pointers of its changed fields.
type DiffObject struct {
	// Object is Kind[.group]/namespace/name, or Kind[.group]/name for a cluster-scoped object.
	Object string `json:"object"`
	// Fields are the changed fields' JSON pointers, sorted.
	Fields []string `json:"fields,omitempty"`
}

// ObjectName formats an object for a diff: Kind[.group]/namespace/name.
func ObjectName(group, kind, namespace, name string) string {
	if group != "" {
		kind += "." + group
	}
	if namespace == "" {
		return kind + "/" + name
	}
	return kind + "/" + namespace + "/" + name
}

// Changed reports whether the next reconcile would change any object.
func (r *DiffReport) Changed() bool {
	return len(r.Create)+len(r.Change)+len(r.Delete) > 0
}

// ExitCode is the exit status for the report: DiffExitChanges when something would change.
func (r *DiffReport) ExitCode() int {
	if r.Changed() {
		return DiffExitChanges
	}
	return DiffExitNone
}

// WriteDiff prints the report: in table format a header line, one line per object ("create",
// "change" with its fields, "delete") and a summary; JSON or YAML otherwise. Empty lists are
// printed as [] in JSON, so scripts need no null checks.
func WriteDiff(w io.Writer, r *DiffReport, f Format) error {
	if f != FormatTable && f != "" {
		out := *r
		for _, l := range []*[]DiffObject{&out.Create, &out.Change, &out.Delete} {
			if *l == nil {
				*l = []DiffObject{}
			}
		}
		return Encode(w, f, &out)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Release %s/%s (release %q): the next reconcile would %s; chart %s %s as revision %d.\n",
		r.Namespace, r.Release, r.ReleaseName, describeAction(r), r.Chart, r.Version, r.Revision)
	writeDiffLines(&b, "create", r.Create)
	writeDiffLines(&b, "change", r.Change)
	writeDiffLines(&b, "delete", r.Delete)
	if !r.Changed() {
		b.WriteString("No changes: the cluster matches what the next reconcile would apply.\n")
	} else {
		fmt.Fprintf(&b, "%d to create, %d to change, %d to delete.\n", len(r.Create), len(r.Change), len(r.Delete))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// describeAction names the decided action for the header line.
func describeAction(r *DiffReport) string {
	action := strings.ToLower(r.Action)
	if action == "nothing" {
		action = "do nothing"
	}
	if r.Message != "" {
		return fmt.Sprintf("%s (%s: %s)", action, r.Reason, r.Message)
	}
	if r.Reason != "" {
		return fmt.Sprintf("%s (%s)", action, r.Reason)
	}
	return action
}

func writeDiffLines(b *strings.Builder, verb string, objs []DiffObject) {
	for _, o := range objs {
		if len(o.Fields) == 0 {
			fmt.Fprintf(b, "%s  %s\n", verb, o.Object)
			continue
		}
		fmt.Fprintf(b, "%s  %s  %s\n", verb, o.Object, strings.Join(o.Fields, ", "))
	}
}
