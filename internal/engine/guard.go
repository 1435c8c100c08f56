package engine

import (
	"crypto/rand"
	"errors"
	"strconv"
	"text/template"
	"text/template/parse"
)

// Names of the functions the guard adds to every parsed template. They are registered only after
// the chart's files are parsed, so a chart file that names them fails to parse as in Helm; tpl
// text could name them, which is why enter and exit demand the render's secret token.
const (
	guardEnter = "_capstan_enter"
	guardExit  = "_capstan_exit"
	guardTick  = "_capstan_tick"
	guardShow  = "_capstan_show"
)

// errGuardMisuse reports a template that called a guard function itself.
var errGuardMisuse = errors.New("template called an internal Capstan function")

// guard makes text/template interruptible. text/template offers no hook to stop an execution, so
// after parsing, the guard rewrites every template's parse tree:
//   - each template body starts with a call to _capstan_enter and ends with one to _capstan_exit,
//     which count template calls and their nesting depth and fail once the render was stopped;
//   - each range body starts with a call to _capstan_tick, so every iteration checks the
//     deadline, even "{{ range 100000000000 }}{{ end }}";
//   - each printing action pipes its value through _capstan_show, which measures it before fmt
//     formats it, so printing a huge or self-containing structure fails instead of exhausting
//     memory or the stack.
//
// The added nodes print nothing and carry positions inside the original text, so output, line and
// column numbers and the context shown in error messages stay those of Helm.
type guard struct {
	b     *budget
	token string
	// shared are the trees of a parsedSet, rewritten once when it was built and read-only since;
	// done are the trees this guard rewrote (those tpl parsed).
	shared map[*parse.Tree]bool
	done   map[*parse.Tree]bool
}

func newGuard(b *budget) *guard {
	return &guard{b: b, token: rand.Text(), done: map[*parse.Tree]bool{}}
}

// use makes the guard accept the token and trees of the parsed set p, whose clone the render runs.
func (g *guard) use(p *parsedSet) {
	g.token = p.token
	g.shared = p.trees
}

// funcs returns the guard functions, to register after the chart's own files are parsed.
func (g *guard) funcs() template.FuncMap {
	return template.FuncMap{
		guardEnter: g.enter,
		guardExit:  g.exit,
		guardTick:  g.tick,
		guardShow:  g.show,
	}
}

func (g *guard) enter(token string) (string, error) {
	if token != g.token {
		return "", errGuardMisuse
	}
	if err := g.b.step(); err != nil {
		return "", err
	}
	g.b.depth++
	if g.b.depth > g.b.limits.MaxTemplateDepth {
		return "", g.b.exceeded("templates, includes and tpl calls nest more than %d levels deep (Limits.MaxTemplateDepth)",
			g.b.limits.MaxTemplateDepth)
	}
	return "", nil
}

func (g *guard) exit(token string) (string, error) {
	if token != g.token {
		return "", errGuardMisuse
	}
	g.b.depth--
	return "", nil
}

func (g *guard) tick() (string, error) {
	return "", g.b.step()
}

func (g *guard) show(v any) (any, error) {
	switch v.(type) {
	case nil, string, bool, int, int64, float64:
		return v, g.b.err()
	}
	if _, err := g.b.measure("printing a value", v); err != nil {
		return nil, err
	}
	return v, nil
}

// rewriteAll adds the guard calls to every template of t's set not yet rewritten, and to t itself,
// which tpl may have parsed without adding it to the set.
func (g *guard) rewriteAll(t *template.Template) {
	g.rewrite(t.Tree)
	for _, tt := range t.Templates() {
		g.rewrite(tt.Tree)
	}
}

func (g *guard) rewrite(tree *parse.Tree) {
	if tree == nil || tree.Root == nil || g.shared[tree] || g.done[tree] {
		return
	}
	g.done[tree] = true
	g.list(tree.Root)
	pos := tree.Root.Pos
	nodes := make([]parse.Node, 0, len(tree.Root.Nodes)+2)
	nodes = append(nodes, g.action(pos, guardEnter, true))
	nodes = append(nodes, tree.Root.Nodes...)
	nodes = append(nodes, g.action(pos, guardExit, true))
	tree.Root.Nodes = nodes
}

func (g *guard) list(l *parse.ListNode) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		switch n := n.(type) {
		case *parse.ActionNode:
			if n.Pipe != nil && len(n.Pipe.Decl) == 0 && len(n.Pipe.Cmds) > 0 {
				n.Pipe.Cmds = append(n.Pipe.Cmds, g.command(n.Pos, guardShow, false))
			}
		case *parse.IfNode:
			g.list(n.List)
			g.list(n.ElseList)
		case *parse.WithNode:
			g.list(n.List)
			g.list(n.ElseList)
		case *parse.RangeNode:
			g.list(n.List)
			g.list(n.ElseList)
			if n.List != nil {
				n.List.Nodes = append([]parse.Node{g.action(n.List.Pos, guardTick, false)}, n.List.Nodes...)
			}
		}
	}
}

// action builds {{ fn }} or {{ fn "token" }}.
func (g *guard) action(pos parse.Pos, fn string, withToken bool) *parse.ActionNode {
	cmd := g.command(pos, fn, withToken)
	pipe := &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{cmd}}
	return &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos, Pipe: pipe}
}

func (g *guard) command(pos parse.Pos, fn string, withToken bool) *parse.CommandNode {
	args := []parse.Node{parse.NewIdentifier(fn).SetPos(pos)}
	if withToken {
		args = append(args, &parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: strconv.Quote(g.token), Text: g.token})
	}
	return &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: args}
}
