package scale

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/repo"
)

// benchChartFiles is the cluster benchmark's chart: the five objects a small web application has
// (ServiceAccount, ConfigMap, Secret, Service, Deployment). The Service is headless because the
// local cluster's service range (a /24) holds too few addresses for thousands of Services. The
// Deployment's pod template carries a checksum of .Values.message, so the upgrade (a new message)
// rolls its pod, as a configuration change does in real charts.
var benchChartFiles = map[string]string{
	"Chart.yaml":  "apiVersion: v2\nname: bench\nversion: 1.0.0\nappVersion: \"1.0\"\n",
	"values.yaml": "message: hello\nimage: registry.invalid/bench:1.0\n",
	"templates/serviceaccount.yaml": `apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/instance: {{ .Release.Name }}
`,
	"templates/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/instance: {{ .Release.Name }}
data:
  message: {{ .Values.message | quote }}
`,
	"templates/secret.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/instance: {{ .Release.Name }}
type: Opaque
data:
  token: {{ "not-a-secret" | b64enc }}
`,
	"templates/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/instance: {{ .Release.Name }}
spec:
  clusterIP: None
  selector:
    app.kubernetes.io/instance: {{ .Release.Name }}
  ports:
  - name: http
    port: 80
    targetPort: 8080
`,
	"templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app.kubernetes.io/instance: {{ .Release.Name }}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/instance: {{ .Release.Name }}
  template:
    metadata:
      labels:
        app.kubernetes.io/instance: {{ .Release.Name }}
      annotations:
        checksum/message: {{ .Values.message | sha256sum }}
    spec:
      serviceAccountName: {{ .Release.Name }}
      containers:
      - name: app
        image: {{ .Values.image }}
        ports:
        - containerPort: 8080
        volumeMounts:
        - name: config
          mountPath: /etc/app
      volumes:
      - name: config
        configMap:
          name: {{ .Release.Name }}
`,
}

// writeBenchChart writes the benchmark chart's source directory and returns it.
func writeBenchChart(t testing.TB) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "bench")
	for name, body := range benchChartFiles {
		path := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

// serveBenchChart packages the chart in src and serves it with its index from a loopback HTTP
// server that lives as long as the test. It returns the repository's URL.
func serveBenchChart(t testing.TB, src string) string {
	t.Helper()
	out := t.TempDir()
	if _, err := chart.Package(src, out, chart.PackageOptions{}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(out)))
	t.Cleanup(srv.Close)
	index, err := repo.IndexDirectory(out, srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "index.yaml"), index, 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.URL
}
