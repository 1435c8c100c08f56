package values

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/message"
)

// withholdValues returns err with every validation error that would quote the instance value
// reworded to name only the rule it broke. The tree's shape, locations and every other message
// stay the validator's, so the text keeps Helm's layout.
func withholdValues(err error) error {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	return withholdTree(ve)
}

func withholdTree(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	out := *ve
	if text, ok := withheldText(ve.ErrorKind); ok {
		out.ErrorKind = &withheldKind{path: ve.ErrorKind.KeywordPath(), text: text}
	}
	out.Causes = make([]*jsonschema.ValidationError, len(ve.Causes))
	for i, c := range ve.Causes {
		out.Causes[i] = withholdTree(c)
	}
	return &out
}

// withheldText is the message of a kind whose own message quotes the instance value.
func withheldText(k jsonschema.ErrorKind) (string, bool) {
	switch k := k.(type) {
	case *kind.Pattern:
		return fmt.Sprintf("value does not match pattern '%s'", k.Want), true
	case *kind.Format:
		return fmt.Sprintf("value is not valid %s", k.Want), true
	case *kind.ContentMediaType:
		return fmt.Sprintf("value is not of mediatype '%s'", k.Want), true
	case *kind.Minimum:
		return "minimum: value is less than " + ratText(k.Want), true
	case *kind.Maximum:
		return "maximum: value is greater than " + ratText(k.Want), true
	case *kind.ExclusiveMinimum:
		return "exclusiveMinimum: value is not greater than " + ratText(k.Want), true
	case *kind.ExclusiveMaximum:
		return "exclusiveMaximum: value is not less than " + ratText(k.Want), true
	case *kind.MultipleOf:
		return "multipleOf: value is not a multiple of " + ratText(k.Want), true
	}
	return "", false
}

// ratText prints a schema bound as the validator does.
func ratText(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	f, _ := r.Float64()
	return fmt.Sprint(f)
}

// withheldKind is an error kind with a fixed message.
type withheldKind struct {
	path []string
	text string
}

func (k *withheldKind) KeywordPath() []string { return k.path }

func (k *withheldKind) LocalizedString(*message.Printer) string { return k.text }
