package testsupport

import (
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
)

// suiteMargin is how long before go test's own -timeout a Ginkgo suite gives up, so that Ginkgo,
// not the Go runtime, reports a spec that does not end: the spec's name, where its goroutine
// waits, and the cleanup it ran, printed last, where a CI log's tail shows it. Go's timeout
// panic prints every goroutine instead, and the spec's own is rarely in the tail.
const suiteMargin = 2 * time.Minute

// SuiteConfig is Ginkgo's configuration for a suite run by t: the flags as given, with the
// suite's timeout ended suiteMargin before t's deadline (when that is sooner), and a progress
// report, with the spec's goroutine, for every spec running longer than three minutes.
func SuiteConfig(t *testing.T) (types.SuiteConfig, types.ReporterConfig) {
	suite, reporter := ginkgo.GinkgoConfiguration()
	if deadline, ok := t.Deadline(); ok {
		if left := time.Until(deadline) - suiteMargin; left > 0 && left < suite.Timeout {
			suite.Timeout = left
		}
	}
	if suite.PollProgressAfter == 0 {
		suite.PollProgressAfter = 3 * time.Minute
		suite.PollProgressInterval = time.Minute
	}
	return suite, reporter
}
