package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/capstan-dev/capstan/internal/values"
)

// valueFlags are Helm's value flags: -f and the --set family.
type valueFlags struct {
	files      []string
	set        []string
	setString  []string
	setFile    []string
	setJSON    []string
	setLiteral []string
}

func (v *valueFlags) bind(fs *pflag.FlagSet) {
	fs.VarP(&fileList{&v.files}, "values", "f", "specify values in a YAML file (can specify multiple)")
	fs.StringArrayVar(&v.set, "set", nil, "set values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2)")
	fs.StringArrayVar(&v.setString, "set-string", nil, "set STRING values on the command line (can specify multiple or separate values with commas: key1=val1,key2=val2)")
	fs.StringArrayVar(&v.setFile, "set-file", nil, "set values from respective files specified via the command line (can specify multiple or separate values with commas: key1=path1,key2=path2)")
	fs.StringArrayVar(&v.setJSON, "set-json", nil, "set JSON values on the command line (can specify multiple or separate values with commas: key1=jsonval1,key2=jsonval2 or using json format: {\"key1\": jsonval1, \"key2\": \"jsonval2\"})")
	fs.StringArrayVar(&v.setLiteral, "set-literal", nil, "set a literal STRING value on the command line")
}

// merge reads the value files (stdin for "-") and merges every source in Helm's order.
func (v *valueFlags) merge(stdin io.Reader) (map[string]any, error) {
	opts := values.Options{
		Values: v.set, StringValues: v.setString, JSONValues: v.setJSON, FileValues: v.setFile,
		LiteralValues: v.setLiteral, ReadFile: func(p string) ([]byte, error) { return readValuesFile(p, stdin) },
	}
	for _, f := range v.files {
		data, err := readValuesFile(f, stdin)
		if err != nil {
			return nil, err
		}
		// values.Options knows files only by position; parse here first so that a broken file is
		// reported by name, as helm does.
		if _, err := values.ReadValues(data); err != nil {
			return nil, fmt.Errorf("failed to parse %s: %w", f, err)
		}
		opts.ValueFiles = append(opts.ValueFiles, data)
	}
	return opts.Merge()
}

// readValuesFile reads a local file, or standard input for "-". Remote URLs are not fetched:
// the CLI never touches the network for values.
func readValuesFile(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	if strings.Contains(name, "://") {
		return nil, fmt.Errorf("values file %q: remote values files are not supported", name)
	}
	return os.ReadFile(name)
}

// fileList is Helm's -f flag: repeatable, and each value may list several files separated by
// commas.
type fileList struct{ files *[]string }

func (l *fileList) String() string { return "[" + strings.Join(*l.files, ",") + "]" }

func (l *fileList) Set(value string) error {
	*l.files = append(*l.files, strings.Split(value, ",")...)
	return nil
}

func (l *fileList) Type() string { return "strings" }
