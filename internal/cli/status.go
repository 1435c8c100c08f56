package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

// StatusReport is what `capstan status` shows of a Release: where it stands according to its
// status, without reading the revision records (so it needs no access to Secrets).
type StatusReport struct {
	// Name and Namespace identify the Release object.
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	// ReleaseName is the Helm release name; TargetNamespace is where the chart's objects go.
	ReleaseName     string `json:"releaseName"`
	TargetNamespace string `json:"targetNamespace"`
	// Revision is the revision in effect, 0 before the first install.
	Revision int `json:"revision"`
	// Chart, ChartVersion and AppVersion describe the chart of the current revision.
	Chart        string `json:"chart,omitempty"`
	ChartVersion string `json:"chartVersion,omitempty"`
	AppVersion   string `json:"appVersion,omitempty"`
	// LastDeployed is when the current revision's action finished (or started, while pending).
	LastDeployed *metav1.Time `json:"lastDeployed,omitempty"`
	// Description is the current revision's one-line summary from status.history.
	Description string `json:"description,omitempty"`
	// Ready is the Ready condition's status, with its reason and message.
	Ready   metav1.ConditionStatus `json:"ready"`
	Reason  string                 `json:"reason,omitempty"`
	Message string                 `json:"message,omitempty"`
	// Suspended is spec.suspend.
	Suspended bool `json:"suspended,omitempty"`
	// Generation and ObservedGeneration tell whether the controller has seen the latest spec.
	Generation         int64 `json:"generation"`
	ObservedGeneration int64 `json:"observedGeneration"`
	// Objects counts the inventory; Resources lists it when asked for.
	Objects   int      `json:"objects"`
	Resources []string `json:"resources,omitempty"`
	// Conditions are all the status conditions.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// NewStatusReport summarises rel. With resources, the inventory's object IDs are listed too.
func NewStatusReport(rel *capstanv1.Release, resources bool) StatusReport {
	st := rel.Status
	r := StatusReport{Name: rel.Name, Namespace: rel.Namespace, ReleaseName: rel.GetReleaseName(),
		TargetNamespace: rel.GetTargetNamespace(), Revision: st.CurrentRevision, Chart: st.ChartName,
		ChartVersion: st.ChartVersion, AppVersion: st.AppVersion, Ready: metav1.ConditionUnknown,
		Suspended: rel.Spec.Suspend, Generation: rel.Generation, ObservedGeneration: st.ObservedGeneration,
		Conditions: st.Conditions}
	if st.ReleaseName != "" {
		r.ReleaseName = st.ReleaseName
	}
	if c := meta.FindStatusCondition(st.Conditions, capstanv1.ReadyCondition); c != nil {
		r.Ready, r.Reason, r.Message = c.Status, c.Reason, c.Message
	}
	if s := st.History.ByRevision(st.CurrentRevision); s != nil {
		r.Description = s.Message
		r.LastDeployed = s.FinishedAt
		if r.LastDeployed == nil {
			r.LastDeployed = s.StartedAt.DeepCopy()
		}
	}
	if st.Inventory != nil {
		r.Objects = len(st.Inventory.Entries)
		if resources {
			for _, e := range st.Inventory.Entries {
				r.Resources = append(r.Resources, e.ID)
			}
		}
	}
	return r
}

// WriteStatus prints the report in format f. The table format is a list of NAME: value lines in
// the style of `helm status`, then the conditions as a table.
func WriteStatus(w io.Writer, f Format, r StatusReport) error {
	if f != FormatTable {
		return Encode(w, f, r)
	}
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%s: %s\n", k, v) }
	line("NAME", r.Name)
	line("NAMESPACE", r.Namespace)
	line("RELEASE NAME", r.ReleaseName)
	line("TARGET NAMESPACE", r.TargetNamespace)
	if r.Revision == 0 {
		line("REVISION", "none (not installed)")
	} else {
		line("REVISION", strconv.Itoa(r.Revision))
		line("CHART", r.Chart+"-"+r.ChartVersion)
		line("APP VERSION", r.AppVersion)
	}
	if r.LastDeployed != nil {
		line("LAST DEPLOYED", FormatTime(r.LastDeployed.Time))
	}
	if r.Description != "" {
		line("DESCRIPTION", r.Description)
	}
	line("READY", readyText(r))
	if r.Suspended {
		line("SUSPENDED", "true")
	}
	if r.ObservedGeneration != r.Generation {
		line("GENERATION", fmt.Sprintf("%d (the controller has observed %d)", r.Generation, r.ObservedGeneration))
	}
	line("OBJECTS", strconv.Itoa(r.Objects))
	for _, id := range r.Resources {
		b.WriteString("  " + id + "\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return writeConditions(w, r.Conditions)
}

// readyText is the READY line: status, reason and message.
func readyText(r StatusReport) string {
	if r.Reason == "" {
		return string(r.Ready)
	}
	return fmt.Sprintf("%s (%s) %s", r.Ready, r.Reason, r.Message)
}

// writeConditions prints the conditions as a table, if there are any.
func writeConditions(w io.Writer, conds []metav1.Condition) error {
	if len(conds) == 0 {
		return nil
	}
	if _, err := io.WriteString(w, "CONDITIONS:\n"); err != nil {
		return err
	}
	var t Table
	t.AddRow("TYPE", "STATUS", "REASON", "MESSAGE")
	for _, c := range conds {
		t.AddRow(c.Type, c.Status, c.Reason, c.Message)
	}
	return t.Write(w)
}

// WriteTestResult prints the TestSuccess condition of rel as one line, or says there is none.
func WriteTestResult(w io.Writer, rel *capstanv1.Release) error {
	c := meta.FindStatusCondition(rel.Status.Conditions, capstanv1.TestSuccessCondition)
	if c == nil {
		_, err := io.WriteString(w, "TEST SUCCESS: unknown\n")
		return err
	}
	_, err := fmt.Fprintf(w, "TEST SUCCESS: %s (%s) %s\n", c.Status, c.Reason, c.Message)
	return err
}
