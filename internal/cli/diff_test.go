package cli

import (
	"bytes"
	"testing"

	. "github.com/onsi/gomega"
)

func TestWriteDiff(t *testing.T) {
	base := DiffReport{Release: "web", Namespace: "apps", ReleaseName: "web", Action: "Upgrade", Reason: "Changed",
		Message: "the values changed", Revision: 3, Chart: "demo", Version: "1.2.0"}
	changed := base
	changed.Create = []DiffObject{{Object: ObjectName("apps", "Deployment", "apps", "web")}}
	changed.Change = []DiffObject{{Object: ObjectName("", "Secret", "apps", "creds"), Fields: []string{"/data/password"}}}
	changed.Delete = []DiffObject{{Object: ObjectName("rbac.authorization.k8s.io", "ClusterRole", "", "web")}}
	cases := map[string]struct {
		report   DiffReport
		format   Format
		want     string
		wantCode int
	}{
		"changes are listed by verb with a summary": {
			report: changed, format: FormatTable, wantCode: DiffExitChanges,
			want: "Release apps/web (release \"web\"): the next reconcile would upgrade (Changed: the values changed); chart demo 1.2.0 as revision 3.\n" +
				"create  Deployment.apps/apps/web\nchange  Secret/apps/creds  /data/password\ndelete  ClusterRole.rbac.authorization.k8s.io/web\n" +
				"1 to create, 1 to change, 1 to delete.\n",
		},
		"nothing to change says so": {
			report: base, format: FormatTable, wantCode: DiffExitNone,
			want: "Release apps/web (release \"web\"): the next reconcile would upgrade (Changed: the values changed); chart demo 1.2.0 as revision 3.\n" +
				"No changes: the cluster matches what the next reconcile would apply.\n",
		},
		"json prints empty lists, not null": {
			report: base, format: FormatJSON, wantCode: DiffExitNone,
			want: `{"release":"web","namespace":"apps","releaseName":"web","action":"Upgrade","reason":"Changed",` +
				`"message":"the values changed","revision":3,"chart":"demo","version":"1.2.0","create":[],"change":[],"delete":[]}` + "\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			var out bytes.Buffer
			g.Expect(WriteDiff(&out, &tc.report, tc.format)).To(Succeed())
			g.Expect(out.String()).To(Equal(tc.want))
			g.Expect(tc.report.ExitCode()).To(Equal(tc.wantCode))
		})
	}
}
