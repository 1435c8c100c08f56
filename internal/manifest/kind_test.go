package manifest

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestKindOrder_Less(t *testing.T) {
	cases := map[string]struct {
		order KindOrder
		a, b  string
		want  bool
	}{
		"two known kinds compare by position":            {InstallOrder, "Namespace", "Deployment", true},
		"the reverse of a known pair is false":           {InstallOrder, "Deployment", "Namespace", false},
		"a known kind sorts before an unknown one":       {InstallOrder, "ValidatingWebhookConfiguration", "Aaa", true},
		"an unknown kind never sorts before a known one": {InstallOrder, "Aaa", "PriorityClass", false},
		"two unknown kinds compare by name":              {InstallOrder, "Bar", "Foo", true},
		"the empty kind sorts first among unknown kinds": {InstallOrder, "", "Bar", true},
		"a kind is not less than itself":                 {InstallOrder, "Pod", "Pod", false},
		"uninstall order puts webhooks first":            {UninstallOrder, "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", true},
		"uninstall order deletes namespaces late":        {UninstallOrder, "Namespace", "Service", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(tc.order.Less(tc.a, tc.b)).To(Equal(tc.want))
		})
	}
}

func TestKindOrder_tables(t *testing.T) {
	g := NewWithT(t)
	g.Expect(InstallOrder).To(HaveLen(38))
	g.Expect(UninstallOrder).To(ConsistOf([]string(InstallOrder)))
	g.Expect(InstallOrder[36:]).To(Equal(KindOrder{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}))
}
