package cli

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"path"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"

	"github.com/capstan-dev/capstan/internal/chart"
)

// lintChartFile checks Chart.yaml field by field, so that every problem is reported at once.
func lintChartFile(file string) []message {
	data, err := os.ReadFile(file)
	if err != nil {
		return []message{{sevError, "Chart.yaml", errors.New("file does not exist")}}
	}
	var md chart.Metadata
	if err := yaml.Unmarshal(data, &md); err != nil {
		return []message{{sevError, "Chart.yaml", fmt.Errorf("unable to parse YAML: %w", err)}}
	}
	var msgs []message
	add := func(sev severity, err error) {
		if err != nil {
			msgs = append(msgs, message{sev, "Chart.yaml", err})
		}
	}
	if err := yaml.UnmarshalStrict(data, &chart.Metadata{}); err != nil {
		add(sevWarning, fmt.Errorf("failed to strictly parse chart metadata file\n\t%w", err))
	}
	// The order is helm lint's (checked against helm v4.3.1 with probes t11 and t12): the
	// apiVersion-v1 restrictions and the SemVer v2 warning come after the icon. helm lint does
	// not warn about a deprecated chart.
	add(sevError, checkName(md.Name))
	add(sevError, checkAPIVersion(md.APIVersion))
	add(sevError, checkVersion(md.Version))
	add(sevError, checkMaintainers(md.Maintainers))
	add(sevError, checkSources(md.Sources))
	add(sevError, checkType(md.Type))
	if md.Icon == "" {
		add(sevInfo, errors.New("icon is recommended"))
	} else if _, err := url.ParseRequestURI(md.Icon); err != nil {
		add(sevError, fmt.Errorf("invalid icon URL '%s'", md.Icon))
	}
	for _, err := range v1Restrictions(md) {
		add(sevError, err)
	}
	if md.Version != "" {
		if _, err := semver.StrictNewVersion(md.Version); err != nil {
			add(sevWarning, fmt.Errorf("version '%s' is not a valid SemVerV2", md.Version))
		}
	}
	return msgs
}

func checkName(name string) error {
	if name == "" {
		return errors.New("name is required")
	}
	if name != path.Base(name) || name == "." || name == ".." {
		return fmt.Errorf("chart name %q is invalid", name)
	}
	return nil
}

func checkAPIVersion(apiVersion string) error {
	switch apiVersion {
	case "":
		return errors.New("apiVersion is required. The value must be either \"v1\" or \"v2\"")
	case chart.APIVersionV1, chart.APIVersionV2:
		return nil
	}
	return fmt.Errorf("apiVersion '%s' is not valid. The value must be either \"v1\" or \"v2\"", apiVersion)
}

// v1Restrictions reports the fields an apiVersion v1 chart may not have, each on its own.
func v1Restrictions(md chart.Metadata) []error {
	if md.APIVersion != chart.APIVersionV1 {
		return nil
	}
	var errs []error
	if md.Type != "" {
		errs = append(errs, errors.New("chart type is not valid in apiVersion 'v1'. It is valid in apiVersion 'v2'"))
	}
	if len(md.Dependencies) > 0 {
		errs = append(errs, errors.New("dependencies are not valid in the Chart file with apiVersion 'v1'. They are valid in apiVersion 'v2'"))
	}
	return errs
}

func checkVersion(version string) error {
	if version == "" {
		return errors.New("version is required")
	}
	v, err := semver.NewVersion(version)
	if err != nil {
		return fmt.Errorf("version '%s' is not a valid SemVer", version)
	}
	if !positiveVersion.Check(v) {
		return fmt.Errorf("version %s is less than or equal to 0", version)
	}
	return nil
}

// positiveVersion is helm's lower bound for chart versions.
var positiveVersion = mustConstraint(">0.0.0-0")

func mustConstraint(s string) *semver.Constraints {
	c, err := semver.NewConstraint(s)
	if err != nil {
		panic(err) // A constant that does not parse is a programming error.
	}
	return c
}

func checkMaintainers(ms []*chart.Maintainer) error {
	for _, m := range ms {
		switch {
		case m == nil || m.Name == "":
			return errors.New("each maintainer requires a name")
		case m.Email != "" && !validEmail(m.Email):
			return fmt.Errorf("invalid email '%s' for maintainer '%s'", m.Email, m.Name)
		case m.URL != "" && !validURL(m.URL):
			return fmt.Errorf("invalid url '%s' for maintainer '%s'", m.URL, m.Name)
		}
	}
	return nil
}

func validEmail(s string) bool {
	_, err := mail.ParseAddress(s)
	return err == nil
}

func validURL(s string) bool {
	u, err := url.ParseRequestURI(s)
	return err == nil && u.Host != ""
}

func checkSources(sources []string) error {
	for _, s := range sources {
		if s == "" || !validURL(s) {
			return fmt.Errorf("invalid source URL '%s'", s)
		}
	}
	return nil
}

func checkType(t string) error {
	if t != "" && t != chart.TypeApplication && t != chart.TypeLibrary {
		return fmt.Errorf("chart type '%s' is not valid; it must be 'application' or 'library'", t)
	}
	return nil
}
