package conformance

import (
	"github.com/capstan-dev/capstan/internal/testenv/probes"
)

// ProbesDir is the directory of the probe charts, the project's own test data
// (testdata/probes): the charts, their README and helm's goldens.
var ProbesDir = probes.Dir()

// LintProbes are the probe charts whose `helm lint` output is kept as a golden file.
var LintProbes = []string{"t1", "t2", "t3", "t4", "t5", "t7", "t8", "t9", "t10", "t11", "t12"}

// ProbeCases are the command lines of testdata/probes/README.md, by golden name: the arguments
// after `helm template`, with chart and values paths relative to the probes directory.
var ProbeCases = map[string][]string{
	"t1":               {"t1", "-f", "t1/user.yaml"},
	"t2":               {"t2"},
	"t2-user":          {"t2", "-f", "t2/user.yaml"},
	"t3":               {"myrel", "t3"},
	"t3-set":           {"myrel", "t3", "--set", "tags.back=true", "--set", "first.enabled=true", "--set", "other.enabled=false"},
	"t4":               {"t4", "--include-crds"},
	"t5-badcall":       {"t5", "--set", "mode=badcall"},
	"t5-badinclude":    {"t5", "--set", "mode=badinclude"},
	"t5-fail":          {"t5", "--set", "mode=fail"},
	"t5-nested":        {"t5", "--set", "mode=nested"},
	"t5-recursion":     {"t5", "--set", "mode=recursion"},
	"t5-required":      {"t5", "--set", "mode=required"},
	"t5-requiredempty": {"t5", "--set", "mode=requiredempty"},
	"t5-tplerr":        {"t5", "--set", "mode=tplerr"},
	"t5-tplparse":      {"t5", "--set", "mode=tplparse"},
	"t7":               {"t7", "-f", "t7/user.yaml", "--set", "global.set=s", "--set", "mid.leaf.own=setleaf"},
	"t7-midnull":       {"t7", "--set", "mid=null"},
	"t8":               {"t8"},
	"t8-schema":        {"t8", "--set", "replicas=0"},
	"t8-kube":          {"t8", "--kube-version", "v1.18.3"},
	"t9":               {"t9"},
}
