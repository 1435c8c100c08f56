package values

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// MaxIndex is the largest list index a --set path may use, as in Helm (65536).
const MaxIndex = 65536

// MaxNestedNameLevel is how many dots a --set name may hold below its first segment, as in Helm.
const MaxNestedNameLevel = 30

// errNotList tells a value parser that the value does not start with '{'.
var errNotList = errors.New("not a list")

// runeReader turns the runes of one value into the value stored in the map.
type runeReader func(rs []rune) (any, error)

// setParser holds the state of one --set style line. The grammar and every quirk follow Helm's
// strvals parser: comma-separated name=value pairs, dotted names, [i] list indexes, backslash
// escapes (except in literal mode) and {a,b} lists.
type setParser struct {
	src     string
	in      *strings.Reader
	read    runeReader
	json    bool // --set-json: values are JSON documents.
	literal bool // --set-literal: no escapes, no commas, the value is the rest of the line.
	nesting int  // current depth of nested names and indexes, bounded by MaxDepth.
}

// ParseSet parses a --set line ("a.b=1,c[0]=x") into dst with Helm's typing: true/false and
// null (any case) become bool and nil, integers not starting with 0 (and 0 itself) become
// int64, everything else is a string. Later names overwrite earlier ones. dst is modified in
// place, and on error it may hold part of the line, as with Helm.
func ParseSet(s string, dst map[string]any) error {
	return newSetParser(s, func(rs []rune) (any, error) { return TypedValue(string(rs)), nil }).run(dst)
}

// ParseSetString parses a --set-string line into dst; every value is a string.
func ParseSetString(s string, dst map[string]any) error {
	return newSetParser(s, func(rs []rune) (any, error) { return string(rs), nil }).run(dst)
}

// ParseSetJSON parses a --set-json line of name=<JSON value> pairs into dst. An empty value is
// null. A whole JSON object given as the flag (`{"a":1}`) is handled by Options.Merge, as Helm
// handles it outside its parser.
func ParseSetJSON(s string, dst map[string]any) error {
	p := newSetParser(s, nil)
	p.json = true
	return p.run(dst)
}

// ParseSetFile parses a --set-file line of name=path pairs into dst: each value is the content
// of the file read through read, as a string.
func ParseSetFile(s string, dst map[string]any, read func(path string) ([]byte, error)) error {
	if read == nil {
		return errors.New("no file reader configured for --set-file")
	}
	return newSetParser(s, func(rs []rune) (any, error) {
		data, err := read(string(rs))
		if errors.Is(err, io.EOF) {
			// A reader's EOF must not look like the end of the line to the parser.
			err = io.ErrUnexpectedEOF
		}
		return string(data), err
	}).run(dst)
}

// ParseSetLiteral parses a --set-literal line into dst: one name, and the whole rest of the line
// after the first '=' as a string, with no escapes and no commas.
func ParseSetLiteral(s string, dst map[string]any) error {
	p := newSetParser(s, nil)
	p.literal = true
	return p.run(dst)
}

func newSetParser(s string, read runeReader) *setParser {
	return &setParser{src: s, in: strings.NewReader(s), read: read}
}

// run parses names until the input ends. Reaching the end of input is success.
func (p *setParser) run(dst map[string]any) error {
	for {
		err := p.key(dst, 0)
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
}

// key parses one name segment and what follows it into data.
func (p *setParser) key(data map[string]any, level int) error {
	stops := ",=[."
	if p.literal {
		stops = "=[."
	}
	k, last, err := p.until(stops)
	name := string(k)
	switch {
	case err != nil:
		if len(k) == 0 {
			return err
		}
		return fmt.Errorf("key %q has no value", name)
	case last == '[':
		return p.keyList(data, name, level)
	case last == '=':
		return p.keyValue(data, name)
	case last == ',':
		set(data, name, "")
		return fmt.Errorf("key %q has no value (cannot end with ,)", name)
	default:
		return p.keyMap(data, name, level)
	}
}

// keyMap handles "name." : the rest of the path goes into the map under name.
func (p *setParser) keyMap(data map[string]any, name string, level int) error {
	level++
	if level > MaxNestedNameLevel {
		return fmt.Errorf("value name nested level is greater than maximum supported nested level of %d", MaxNestedNameLevel)
	}
	inner := map[string]any{}
	if cur, ok := data[name]; ok {
		m, ok := cur.(map[string]any)
		if !ok {
			return conversionError(cur, "map[string]interface {}")
		}
		inner = m
	}
	if err := p.enter(); err != nil {
		return err
	}
	err := p.key(inner, level)
	p.nesting--
	if err == nil && len(inner) == 0 {
		return fmt.Errorf("key map %q has no value", name)
	}
	if len(inner) != 0 {
		set(data, name, inner)
	}
	return err
}

// keyList handles "name[i]...".
func (p *setParser) keyList(data map[string]any, name string, level int) error {
	i, err := p.index()
	if err != nil {
		return fmt.Errorf("error parsing index: %w", err)
	}
	list := []any{}
	if cur, ok := data[name]; ok {
		l, ok := cur.([]any)
		if !ok {
			return conversionError(cur, "[]interface {}")
		}
		list = l
	}
	if err := p.enter(); err != nil {
		return err
	}
	list, err = p.listItem(list, i, level)
	p.nesting--
	set(data, name, list)
	return err
}

// keyValue handles "name=value".
func (p *setParser) keyValue(data map[string]any, name string) error {
	switch {
	case p.json:
		return p.keyJSON(data, name)
	case p.literal:
		set(data, name, p.rest())
		return nil
	}
	vl, err := p.valList()
	switch {
	case err == nil:
		set(data, name, vl)
		return nil
	case errors.Is(err, io.EOF):
		set(data, name, "")
		return err
	case errors.Is(err, errNotList):
		v, err := p.read(p.val())
		set(data, name, v)
		return err
	default:
		return err
	}
}

// keyJSON handles "name=<json>" for --set-json.
func (p *setParser) keyJSON(data map[string]any, name string) error {
	if p.emptyVal() {
		set(data, name, nil)
		return nil
	}
	v, err := p.decodeJSON()
	if err != nil {
		return err
	}
	set(data, name, v)
	p.emptyVal()
	return nil
}

// listItem parses what follows "[i]" and stores it at index i of list.
func (p *setParser) listItem(list []any, i, level int) ([]any, error) {
	if i < 0 {
		return list, fmt.Errorf("negative %d index not allowed", i)
	}
	k, last, err := p.until("[.=")
	switch {
	case len(k) > 0:
		return list, fmt.Errorf("unexpected data at end of array index: %q", k)
	case err != nil:
		return list, err
	case last == '=':
		return p.listValue(list, i)
	case last == '[':
		return p.listNested(list, i, level)
	default:
		return p.listMap(list, i, level)
	}
}

// listValue handles "[i]=value".
func (p *setParser) listValue(list []any, i int) ([]any, error) {
	switch {
	case p.json:
		return p.listJSON(list, i)
	case p.literal:
		return setIndex(list, i, p.rest())
	}
	vl, err := p.valList()
	switch {
	case err == nil:
		return setIndex(list, i, vl)
	case errors.Is(err, io.EOF):
		return setIndex(list, i, "")
	case errors.Is(err, errNotList):
		v, err := p.read(p.val())
		if err != nil {
			return list, err
		}
		return setIndex(list, i, v)
	default:
		return list, err
	}
}

// listJSON handles "[i]=<json>" for --set-json.
func (p *setParser) listJSON(list []any, i int) ([]any, error) {
	if p.emptyVal() {
		return setIndex(list, i, nil)
	}
	v, err := p.decodeJSON()
	if err != nil {
		return list, err
	}
	list, err = setIndex(list, i, v)
	if err != nil {
		return list, err
	}
	p.emptyVal()
	return list, nil
}

// listNested handles "[i][j]...": a list inside the list.
func (p *setParser) listNested(list []any, i, level int) ([]any, error) {
	j, err := p.index()
	if err != nil {
		return list, fmt.Errorf("error parsing index: %w", err)
	}
	var cur []any
	if len(list) > i && list[i] != nil {
		l, ok := list[i].([]any)
		if !ok {
			return list, conversionError(list[i], "[]interface {}")
		}
		cur = l
	}
	if err := p.enter(); err != nil {
		return list, err
	}
	inner, err := p.listItem(cur, j, level)
	p.nesting--
	if err != nil {
		return list, err
	}
	return setIndex(list, i, inner)
}

// listMap handles "[i].name...": a map inside the list. Like Helm, an element that is not a map
// is replaced by an empty map, and the dot does not count toward MaxNestedNameLevel.
func (p *setParser) listMap(list []any, i, level int) ([]any, error) {
	inner := map[string]any{}
	if len(list) > i {
		if m, ok := list[i].(map[string]any); ok {
			inner = m
		} else {
			list[i] = inner
		}
	}
	if err := p.enter(); err != nil {
		return list, err
	}
	err := p.key(inner, level)
	p.nesting--
	if err != nil {
		return list, err
	}
	return setIndex(list, i, inner)
}

// enter counts one more level of nesting below the top-level map. Helm only limits dotted
// names; Capstan also bounds indexes and mixed paths so that no line can build values deeper
// than MaxDepth (the top-level map is the first level).
func (p *setParser) enter() error {
	if p.nesting+1 >= MaxDepth {
		return fmt.Errorf("%w: a value name is nested more than %d levels", ErrTooDeep, MaxDepth)
	}
	p.nesting++
	return nil
}

// index reads the digits of "[i]" up to the closing bracket.
func (p *setParser) index() (int, error) {
	v, _, err := p.until("]")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(v))
}

// valList reads a "{a,b,c}" list, or reports errNotList (with nothing consumed) when the value
// does not start with '{'.
func (p *setParser) valList() ([]any, error) {
	r, _, err := p.in.ReadRune()
	if err != nil {
		return []any{}, err
	}
	if r != '{' {
		p.unread()
		return []any{}, errNotList
	}
	list := []any{}
	for {
		rs, last, err := p.until(",}")
		if err != nil {
			return list, errors.New("list must terminate with '}'")
		}
		v, err := p.read(rs)
		if last == '}' {
			// A comma right after the list belongs to it.
			if r, _, e := p.in.ReadRune(); e == nil && r != ',' {
				p.unread()
			}
			return append(list, v), err
		}
		if err != nil {
			return list, err
		}
		list = append(list, v)
	}
}

// val reads a plain value up to the next comma.
func (p *setParser) val() []rune {
	v, _, _ := p.until(",")
	return v
}

// rest returns everything left on the line (the literal parser's value).
func (p *setParser) rest() string {
	v, _, _ := p.until("")
	return string(v)
}

// emptyVal skips spaces; it reports true (and consumes the comma) when the value ends here.
func (p *setParser) emptyVal() bool {
	for {
		r, _, err := p.in.ReadRune()
		if err != nil || r == ',' {
			return true
		}
		if !unicode.IsSpace(r) {
			p.unread()
			return false
		}
	}
}

// decodeJSON decodes one JSON value from the rest of the line and consumes exactly its bytes.
func (p *setParser) decodeJSON() (any, error) {
	dec := json.NewDecoder(strings.NewReader(p.src[len(p.src)-p.in.Len():]))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := p.in.Seek(dec.InputOffset(), io.SeekCurrent); err != nil {
		return nil, err
	}
	return v, nil
}

// until reads runes up to one of stops and returns them without it. Outside literal mode a
// backslash takes the next rune as it is. At the end of input it returns io.EOF.
func (p *setParser) until(stops string) ([]rune, rune, error) {
	v := []rune{}
	for {
		r, _, err := p.in.ReadRune()
		switch {
		case err != nil:
			return v, r, err
		case strings.ContainsRune(stops, r):
			return v, r, nil
		case r == '\\' && !p.literal:
			next, _, err := p.in.ReadRune()
			if err != nil {
				return v, next, err
			}
			v = append(v, next)
		default:
			v = append(v, r)
		}
	}
}

func (p *setParser) unread() {
	// UnreadRune only fails when the previous call was not a ReadRune, which never happens here.
	_ = p.in.UnreadRune()
}

// set stores val under key; an empty key is ignored, as in Helm.
func set(data map[string]any, key string, val any) {
	if key == "" {
		return
	}
	data[key] = val
}

// setIndex stores val at index, growing the list with nils as needed.
func setIndex(list []any, index int, val any) ([]any, error) {
	if index < 0 {
		return list, fmt.Errorf("negative %d index not allowed", index)
	}
	if index > MaxIndex {
		return list, fmt.Errorf("index of %d is greater than maximum supported index of %d", index, MaxIndex)
	}
	if len(list) <= index {
		grown := make([]any, index+1)
		copy(grown, list)
		list = grown
	}
	list[index] = val
	return list, nil
}

// TypedValue types one --set value the way Helm does: true/false/null in any case become bool
// and nil, "0" and integers that do not start with 0 become int64, anything else stays a string.
// With SetPath it gives valuesFrom.targetPath the typing Flux gives it.
func TypedValue(val string) any {
	switch {
	case strings.EqualFold(val, "true"):
		return true
	case strings.EqualFold(val, "false"):
		return false
	case strings.EqualFold(val, "null"):
		return nil
	case val == "0":
		return int64(0)
	}
	if val != "" && val[0] != '0' {
		if n, err := strconv.ParseInt(val, 10, 64); err == nil {
			return n
		}
	}
	return val
}

// conversionError is the error Helm's parser reports when a path walks into a value of the
// wrong kind (Helm recovers a failed type assertion into exactly this text).
func conversionError(have any, want string) error {
	name := "nil"
	if have != nil {
		name = fmt.Sprintf("%T", have)
	}
	return fmt.Errorf("unable to parse key: interface conversion: interface {} is %s, not %s", name, want)
}
