package chart

import (
	"errors"
	"testing"

	. "github.com/onsi/gomega"
)

func validMetadata() *Metadata {
	return &Metadata{APIVersion: APIVersionV2, Name: "demo", Version: "1.2.3"}
}

func TestMetadata_Validate(t *testing.T) {
	cases := map[string]struct {
		edit    func(md *Metadata)
		nilMD   bool
		wantErr string
	}{
		"a minimal chart":                {edit: func(*Metadata) {}},
		"a lenient version like v1.2":    {edit: func(md *Metadata) { md.Version = "v1.2" }},
		"a library chart":                {edit: func(md *Metadata) { md.Type = TypeLibrary }},
		"an application chart":           {edit: func(md *Metadata) { md.Type = TypeApplication }},
		"no metadata at all":             {nilMD: true, wantErr: "validation: chart.metadata is required"},
		"no apiVersion":                  {edit: func(md *Metadata) { md.APIVersion = "" }, wantErr: "validation: chart.metadata.apiVersion is required"},
		"no name":                        {edit: func(md *Metadata) { md.Name = "" }, wantErr: "validation: chart.metadata.name is required"},
		"the name dot":                   {edit: func(md *Metadata) { md.Name = "." }, wantErr: `validation: chart.metadata.name "." is not allowed`},
		"the name dot-dot":               {edit: func(md *Metadata) { md.Name = ".." }, wantErr: `validation: chart.metadata.name ".." is not allowed`},
		"a name with a slash":            {edit: func(md *Metadata) { md.Name = "a/b" }, wantErr: `validation: chart.metadata.name "a/b" is invalid`},
		"a name climbing out":            {edit: func(md *Metadata) { md.Name = "../../x" }, wantErr: `validation: chart.metadata.name "../../x" is invalid`},
		"a name with a backslash":        {edit: func(md *Metadata) { md.Name = `a\b` }, wantErr: `validation: chart.metadata.name "a\\b" is invalid`},
		"no version":                     {edit: func(md *Metadata) { md.Version = "" }, wantErr: "validation: chart.metadata.version is required"},
		"a version that is not semver":   {edit: func(md *Metadata) { md.Version = "1.2.3.4" }, wantErr: `validation: chart.metadata.version "1.2.3.4" is invalid`},
		"a type in capitals":             {edit: func(md *Metadata) { md.Type = "Library" }, wantErr: "validation: chart.metadata.type must be application or library"},
		"an unknown type":                {edit: func(md *Metadata) { md.Type = "plugin" }, wantErr: "validation: chart.metadata.type must be application or library"},
		"a null maintainer":              {edit: func(md *Metadata) { md.Maintainers = []*Maintainer{{Name: "a"}, nil} }, wantErr: "validation: maintainers must not contain empty or null nodes"},
		"a null dependency":              {edit: func(md *Metadata) { md.Dependencies = []*Dependency{nil} }, wantErr: "validation: dependencies must not contain empty or null nodes"},
		"an alias with a newline":        {edit: func(md *Metadata) { md.Dependencies = []*Dependency{{Name: "db", Alias: "a\nb"}} }, wantErr: `validation: dependency "db" has disallowed characters in the alias`},
		"an alias with a dot":            {edit: func(md *Metadata) { md.Dependencies = []*Dependency{{Name: "db", Alias: "a.b"}} }, wantErr: `validation: dependency "db" has disallowed characters in the alias`},
		"a good alias":                   {edit: func(md *Metadata) { md.Dependencies = []*Dependency{{Name: "db", Alias: "Main_db-2"}} }},
		"the same dependency twice":      {edit: func(md *Metadata) { md.Dependencies = []*Dependency{{Name: "db"}, {Name: "db"}} }, wantErr: `validation: more than one dependency with name or alias "db"`},
		"an alias equal to another name": {edit: func(md *Metadata) { md.Dependencies = []*Dependency{{Name: "db"}, {Name: "cache", Alias: "db"}} }, wantErr: `validation: more than one dependency with name or alias "db"`},
		"one chart twice under two alias": {edit: func(md *Metadata) {
			md.Dependencies = []*Dependency{{Name: "db", Alias: "one"}, {Name: "db", Alias: "two"}}
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			md := validMetadata()
			if tc.nilMD {
				md = nil
			} else {
				tc.edit(md)
			}
			err := md.Validate()
			if tc.wantErr == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(tc.wantErr))
			var verr ValidationError
			g.Expect(errors.As(err, &verr)).To(BeTrue())
		})
	}
}

func TestMetadata_Validate_sanitises(t *testing.T) {
	g := NewWithT(t)
	md := validMetadata()
	md.Description = "line\nbreak\x00nul\u200bzero-width"
	md.Keywords = []string{"a\tb"}
	md.Sources = []string{"https://x\r"}
	md.Maintainers = []*Maintainer{{Name: "n\x7f", Email: "e\u2028", URL: "u"}}
	md.Dependencies = []*Dependency{{Name: "d\x01", Version: "1\u00a0", Repository: "r", Condition: "c\t", Tags: []string{"t\n"}}}

	g.Expect(md.Validate()).To(Succeed())
	g.Expect(md.Description).To(Equal("line breaknulzero-width"))
	g.Expect(md.Keywords).To(Equal([]string{"a b"}))
	g.Expect(md.Sources).To(Equal([]string{"https://x "}))
	g.Expect(*md.Maintainers[0]).To(Equal(Maintainer{Name: "n", Email: "e ", URL: "u"}))
	g.Expect(*md.Dependencies[0]).To(Equal(Dependency{Name: "d", Version: "1 ", Repository: "r", Condition: "c ", Tags: []string{"t "}}))
}
