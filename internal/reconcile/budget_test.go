package reconcile

import (
	"errors"
	"fmt"
	"testing"

	. "github.com/onsi/gomega"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/engine"
	"github.com/capstan-dev/capstan/internal/render"
)

func TestRenderError_budget(t *testing.T) {
	cases := map[string]struct {
		err  error
		want string
	}{
		"a limit of the render": {
			err:  &render.Error{Stage: render.StageRender, Err: fmt.Errorf("c/templates/t.yaml:1:3: %w: repeat: the render holds about 1 bytes", engine.ErrLimit)},
			want: capstanv1.RenderBudgetExceededReason},
		"the render's deadline": {
			err: &render.Error{Stage: render.StageRender, Err: fmt.Errorf("%w after 30s", engine.ErrTimeout)}, want: capstanv1.RenderBudgetExceededReason},
		"a template's own error": {
			err: &render.Error{Stage: render.StageRender, Err: errors.New("execution error at (c/templates/t.yaml:1:3): boom")}, want: capstanv1.RenderFailedReason},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			e := classify(renderError(tc.err))
			g.Expect(e.Class).To(Equal(ClassStalling))
			g.Expect(e.Reason).To(Equal(tc.want))
		})
	}
}

func TestRenderBudgetMemo(t *testing.T) {
	g := NewWithT(t)
	var m renderBudgetMemo
	d := Desired{Generation: 2, ChartName: "demo", ChartVersion: "1.0.0", ChartDigest: "abc", ValuesDigest: "sha256:v"}
	over := stallErr(capstanv1.RenderBudgetExceededReason, fmt.Errorf("%w: too much", engine.ErrLimit))

	g.Expect(m.check("uid", d)).To(Succeed(), "nothing remembered yet")
	m.remember("uid", d, stallErr(capstanv1.RenderFailedReason, errors.New("boom")))
	g.Expect(m.check("uid", d)).To(Succeed(), "only budget failures are remembered")

	m.remember("uid", d, over)
	g.Expect(m.check("uid", d)).To(MatchError(over), "same inputs: the stall again, without rendering")
	g.Expect(m.check("other", d)).To(Succeed(), "per Release")

	for name, change := range map[string]func(*Desired){
		"generation":    func(d *Desired) { d.Generation++ },
		"values digest": func(d *Desired) { d.ValuesDigest = "sha256:w" },
		"chart digest":  func(d *Desired) { d.ChartDigest = "def" },
		"chart version": func(d *Desired) { d.ChartVersion = "1.0.1" },
	} {
		m.remember("uid", d, over)
		changed := d
		change(&changed)
		g.Expect(m.check("uid", changed)).To(Succeed(), "a new %s renders again", name)
		g.Expect(m.check("uid", d)).To(Succeed(), "and the memo of the old inputs is gone")
	}
}
