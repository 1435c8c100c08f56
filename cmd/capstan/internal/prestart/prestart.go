// Package prestart begins the work of `capstan template` while the CLI's other packages are
// still initialising: it loads the chart directory, then compiles its values schema. Those
// initialisations (the Kubernetes, controller-runtime, OCI and signing packages the other
// commands need) run one after the other on the main goroutine and take a third of a template
// run; the chart and values packages initialise before most of them, so the work runs on the
// other core meanwhile, and the command finds it done or under way (cli.Prestart).
//
// The command line is not parsed yet, so this guesses: each of the first operands after
// "template" that is a directory is taken for the chart. A wrong guess costs CPU and changes
// nothing: compiled schemas are keyed by their bytes, so one that is not the chart's is never
// looked up; a loaded chart is used only by a command that would load that very directory with
// the same limits, and a load that failed is not used at all (the command loads again and
// reports as always). Nothing here prints.
package prestart

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/capstan-dev/capstan/internal/chart"
	"github.com/capstan-dev/capstan/internal/values"
)

// maxGuesses bounds the directories taken for charts.
const maxGuesses = 2

// started is the work this process's command line began.
var started = begin(os.Args)

// Schemas returns the cache of the schemas compiled, or being compiled, since initialisation;
// nil unless the command line is a template command that validates.
func Schemas() *values.SchemaCache { return started.schemas }

// Chart returns the chart directory at the absolute path location, loaded with
// chart.DefaultLimits(), waiting for the load if it is under way; false when no load of it was
// begun or the load failed. Each load is handed out once: the render changes the chart.
func Chart(location string) (*chart.Chart, bool) { return started.chart(location) }

// work is what one command line began.
type work struct {
	schemas *values.SchemaCache

	mu    sync.Mutex
	loads map[string]*load // by the directory's absolute path
}

// load is a chart directory being loaded.
type load struct {
	done  chan struct{}
	chart *chart.Chart
	err   error
}

var errPanicked = errors.New("the chart load panicked")

// begin starts the work for the command line args (program name first): for each guessed
// directory, one goroutine loads the chart, then compiles its values schema. The load goes first
// because the command needs the chart before it renders, and the schema only once it has
// rendered (validation runs beside the render).
func begin(args []string) *work {
	w := &work{loads: map[string]*load{}}
	dirs, validate := guess(args)
	if validate && len(dirs) > 0 {
		w.schemas = values.NewSchemaCache(chart.DefaultMaxDecompressedSize) // as the command's own
	}
	for _, dir := range dirs {
		abs, err := filepath.Abs(dir)
		if err != nil {
			continue
		}
		if _, ok := w.loads[abs]; ok {
			continue
		}
		l := &load{done: make(chan struct{})}
		w.loads[abs] = l
		go func() {
			l.run(abs)
			if w.schemas != nil && l.err == nil && l.chart.Schema != nil {
				values.Composer{Schemas: w.schemas}.Precompile(l.chart.Schema)
			}
		}()
	}
	return w
}

// run loads the chart directory at dir and marks l done.
func (l *load) run(dir string) {
	defer close(l.done)
	defer func() {
		if r := recover(); r != nil {
			l.chart, l.err = nil, errPanicked
		}
	}()
	l.chart, l.err = chart.Load(dir, chart.DefaultLimits())
}

func (w *work) chart(location string) (*chart.Chart, bool) {
	w.mu.Lock()
	l := w.loads[location]
	delete(w.loads, location)
	w.mu.Unlock()
	if l == nil {
		return nil, false
	}
	<-l.done
	if l.err != nil {
		return nil, false
	}
	return l.chart, true
}

// guess returns the directories among the operands of a template command line (at most
// maxGuesses), and whether schema validation is on; nothing for any other command.
func guess(args []string) (dirs []string, validate bool) {
	if len(args) < 3 || args[1] != "template" {
		return nil, false
	}
	validate = true
	for _, arg := range args[2:] {
		if arg == "--" {
			break
		}
		if skipsValidation(arg) {
			validate = false
		}
		if len(dirs) == maxGuesses || arg == "" || strings.HasPrefix(arg, "-") {
			continue
		}
		if fi, err := os.Stat(arg); err == nil && fi.IsDir() { //nolint:gosec // the operands name the chart the command reads.
			dirs = append(dirs, arg)
		}
	}
	return dirs, validate
}

// skipsValidation reports whether the argument arg turns schema validation off.
func skipsValidation(arg string) bool {
	value, ok := strings.CutPrefix(arg, "--skip-schema-validation")
	switch {
	case !ok:
		return false
	case value == "":
		return true
	case strings.HasPrefix(value, "="):
		on, err := strconv.ParseBool(value[1:])
		return err == nil && on
	}
	return false
}
