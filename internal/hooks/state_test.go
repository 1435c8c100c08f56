package hooks

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func TestStateOf(t *testing.T) {
	cases := map[string]struct {
		doc  string
		want state
	}{
		"a Job without conditions is running": {
			doc:  `{apiVersion: batch/v1, kind: Job, status: {active: 1}}`,
			want: state{message: "job running: 0 succeeded, 1 active, 0 failed"},
		},
		"a Job whose Complete condition is true is done": {
			doc:  `{apiVersion: batch/v1, kind: Job, status: {succeeded: 1, conditions: [{type: SuccessCriteriaMet, status: "True"}, {type: Complete, status: "True"}]}}`,
			want: state{done: true, message: "job complete"},
		},
		"a Job whose Complete condition is false is still running": {
			doc:  `{apiVersion: batch/v1, kind: Job, status: {conditions: [{type: Complete, status: "False"}]}}`,
			want: state{message: "job running: 0 succeeded, 0 active, 0 failed"},
		},
		"a failed Job names its condition's reason and message": {
			doc:  `{apiVersion: batch/v1, kind: Job, status: {failed: 1, conditions: [{type: Failed, status: "True", reason: BackoffLimitExceeded, message: "Job has reached the specified backoff limit"}]}}`,
			want: state{done: true, failed: true, message: "job failed: BackoffLimitExceeded: Job has reached the specified backoff limit"},
		},
		"a Pod that succeeded is done": {
			doc:  `{apiVersion: v1, kind: Pod, status: {phase: Succeeded}}`,
			want: state{done: true, message: "pod succeeded"},
		},
		"a running Pod, even a ready one, is not done": {
			doc:  `{apiVersion: v1, kind: Pod, status: {phase: Running, conditions: [{type: Ready, status: "True"}]}}`,
			want: state{message: "pod running"},
		},
		"a Pod not yet seen by the scheduler is not done": {
			doc:  `{apiVersion: v1, kind: Pod}`,
			want: state{message: "pod not observed yet"},
		},
		"a failed Pod names the container that exited badly": {
			doc: `{apiVersion: v1, kind: Pod, status: {phase: Failed, containerStatuses: [
				{name: ok, state: {terminated: {exitCode: 0}}},
				{name: migrate, state: {terminated: {exitCode: 3, reason: Error}}}]}}`,
			want: state{done: true, failed: true, message: "pod failed: container migrate exited with code 3 Error"},
		},
		"a Pod failed by the kubelet names the reason": {
			doc:  `{apiVersion: v1, kind: Pod, status: {phase: Failed, reason: DeadlineExceeded, message: "Pod was active on the node longer than the specified deadline"}}`,
			want: state{done: true, failed: true, message: "pod failed: DeadlineExceeded: Pod was active on the node longer than the specified deadline"},
		},
		"any other kind is done once it exists": {
			doc:  `{apiVersion: v1, kind: ConfigMap}`,
			want: state{done: true, message: "created"},
		},
		"a Job with conditions of the wrong shape is running, not a panic": {
			doc:  `{apiVersion: batch/v1, kind: Job, status: {conditions: [7, {type: 1}]}}`,
			want: state{message: "job running: 0 succeeded, 0 active, 0 failed"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			data, err := yaml.YAMLToJSON([]byte(tc.doc))
			g.Expect(err).NotTo(HaveOccurred())
			u := &unstructured.Unstructured{}
			g.Expect(u.UnmarshalJSON(data)).To(Succeed())
			g.Expect(stateOf(u)).To(Equal(tc.want))
		})
	}
}

func TestOneLine(t *testing.T) {
	g := NewWithT(t)
	g.Expect(oneLine("a\n  b\tc ")).To(Equal("a b c"))
	long := oneLine("ü" + strings.Repeat("ab ", 200))
	g.Expect(len(long)).To(BeNumerically("<=", maxMessageLength))
	g.Expect(long).To(HaveSuffix("…"))
}
