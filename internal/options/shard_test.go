package options

import (
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/labels"
)

func TestOptions_ShardLeaderElectionID(t *testing.T) {
	cases := map[string]struct {
		selector, shard string
		want            string
	}{
		"an unsharded manager keeps the plain ID":       {want: "capstan.capstan.dev"},
		"the convention's shard value names the shard":  {selector: "sharding.capstan.dev/key=shard1", want: "capstan.capstan.dev-shard1"},
		"the unlabelled rest is the default shard":      {selector: "!sharding.capstan.dev/key", want: "capstan.capstan.dev-default"},
		"any other selector gets a stable digest":       {selector: "team in (a,b)", want: "capstan.capstan.dev-shard-" + shardNameOf("team in (a,b)")[len("shard-"):]},
		"--shard-name wins over the derived name":       {selector: "sharding.capstan.dev/key=shard1", shard: "blue", want: "capstan.capstan.dev-blue"},
		"a shard value that is not a DNS label digests": {selector: "sharding.capstan.dev/key=Shard_1", want: "capstan.capstan.dev-" + shardNameOf("sharding.capstan.dev/key=Shard_1")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			o := Defaults()
			o.WatchLabelSelector, o.ShardName = tc.selector, tc.shard
			g.Expect(o.Validate()).To(Succeed())
			g.Expect(o.ShardLeaderElectionID()).To(Equal(tc.want))
		})
	}
	g := NewWithT(t)
	g.Expect(shardNameOf("team in (a,b)")).To(MatchRegexp(`^shard-[0-9a-f]{10}$`))
	g.Expect(shardNameOf("sharding.capstan.dev/key=Shard_1")).To(HavePrefix("shard-"))
}

func TestOptions_WatchSelector(t *testing.T) {
	g := NewWithT(t)
	o := Defaults()
	sel, err := o.WatchSelector()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sel).To(BeNil(), "no selector: watch everything")

	o.WatchLabelSelector = "!sharding.capstan.dev/key"
	sel, err = o.WatchSelector()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(sel.Matches(labels.Set{})).To(BeTrue())
	g.Expect(sel.Matches(labels.Set{ShardLabel: "shard1"})).To(BeFalse())

	o.WatchLabelSelector = "sharding.capstan.dev/key in (("
	g.Expect(o.Validate()).To(MatchError(ContainSubstring("--watch-label-selector")))
	o.WatchLabelSelector, o.ShardName = "", "Not_A_Label"
	g.Expect(o.Validate()).To(MatchError(ContainSubstring("--shard-name")))
}
