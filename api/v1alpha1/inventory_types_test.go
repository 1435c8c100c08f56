package v1alpha1_test

import (
	"errors"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
)

func TestParseObjectRef(t *testing.T) {
	cases := map[string]struct {
		id   string
		want capstanv1.ObjectRef
	}{
		"namespaced object in a named group": {"web_nginx_apps_Deployment", capstanv1.ObjectRef{Namespace: "web", Name: "nginx", Group: "apps", Kind: "Deployment"}},
		"core group":                         {"web_conf__ConfigMap", capstanv1.ObjectRef{Namespace: "web", Name: "conf", Kind: "ConfigMap"}},
		"cluster-scoped core object":         {"_web__Namespace", capstanv1.ObjectRef{Name: "web", Kind: "Namespace"}},
		"name with colons (RBAC)": {
			"_system:capstan_rbac.authorization.k8s.io_ClusterRole",
			capstanv1.ObjectRef{Name: "system:capstan", Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"},
		},
		"name with underscores": {"ns_a_b_c_example.com_Widget", capstanv1.ObjectRef{Namespace: "ns", Name: "a_b_c", Group: "example.com", Kind: "Widget"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := capstanv1.ParseObjectRef(tc.id)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
			g.Expect(got.ID()).To(Equal(tc.id))
		})
	}
}

func TestParseObjectRef_invalid(t *testing.T) {
	cases := map[string]string{
		"empty":           "",
		"no separator":    "Deployment",
		"one separator":   "web_Deployment",
		"two separators":  "web_nginx_Deployment",
		"empty name":      "web__apps_Deployment",
		"empty kind":      "web_nginx_apps_",
		"only separators": "___",
	}
	for name, id := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := capstanv1.ParseObjectRef(id)
			NewWithT(t).Expect(errors.Is(err, capstanv1.ErrInvalidInventoryID)).To(BeTrue(), "error %v", err)
		})
	}
}

func FuzzParseObjectRef(f *testing.F) {
	for _, seed := range []string{"web_nginx_apps_Deployment", "_web__Namespace", "a_b_c", "____", "_", "ns_x_y_z_g_K"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, id string) {
		ref, err := capstanv1.ParseObjectRef(id)
		if err != nil {
			return
		}
		if ref.Name == "" || ref.Kind == "" {
			t.Fatalf("ParseObjectRef(%q) accepted an empty name or kind: %+v", id, ref)
		}
		if ref.ID() != id {
			t.Fatalf("ParseObjectRef(%q).ID() = %q, not the input", id, ref.ID())
		}
		if strings.Contains(ref.Namespace, "_") || strings.Contains(ref.Group, "_") || strings.Contains(ref.Kind, "_") {
			t.Fatalf("ParseObjectRef(%q) put an underscore outside the name: %+v", id, ref)
		}
	})
}

func entry(ns, name, group, kind, version string) capstanv1.InventoryEntry {
	return capstanv1.NewInventoryEntry(capstanv1.ObjectRef{Namespace: ns, Name: name, Group: group, Kind: kind}, version)
}

func TestNewInventory(t *testing.T) {
	g := NewWithT(t)
	inv := capstanv1.NewInventory(
		entry("web", "nginx", "apps", "Deployment", "v1beta1"),
		entry("web", "conf", "", "ConfigMap", "v1"),
		entry("web", "nginx", "apps", "Deployment", "v1"),
	)
	g.Expect(inv.Entries).To(Equal([]capstanv1.InventoryEntry{
		{ID: "web_conf__ConfigMap", Version: "v1"},
		{ID: "web_nginx_apps_Deployment", Version: "v1"},
	}))
	g.Expect(inv.Len()).To(Equal(2))
	g.Expect((*capstanv1.Inventory)(nil).Len()).To(Equal(0))
}

func TestInventory_Contains(t *testing.T) {
	inv := capstanv1.NewInventory(entry("web", "nginx", "apps", "Deployment", "v1"))
	cases := map[string]struct {
		inv  *capstanv1.Inventory
		ref  capstanv1.ObjectRef
		want bool
	}{
		"present":           {inv, capstanv1.ObjectRef{Namespace: "web", Name: "nginx", Group: "apps", Kind: "Deployment"}, true},
		"another namespace": {inv, capstanv1.ObjectRef{Namespace: "db", Name: "nginx", Group: "apps", Kind: "Deployment"}, false},
		"a nil inventory":   {nil, capstanv1.ObjectRef{Name: "x", Kind: "Y"}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(tc.inv.Contains(tc.ref)).To(Equal(tc.want))
		})
	}
}

func TestInventory_Stale(t *testing.T) {
	deploy := entry("web", "nginx", "apps", "Deployment", "v1")
	svc := entry("web", "nginx", "", "Service", "v1")
	cm := entry("web", "conf", "", "ConfigMap", "v1")
	cases := map[string]struct {
		old, next *capstanv1.Inventory
		want      []capstanv1.InventoryEntry
	}{
		"objects no longer rendered are stale": {capstanv1.NewInventory(deploy, svc, cm), capstanv1.NewInventory(deploy), []capstanv1.InventoryEntry{cm, svc}},
		"a version change is not staleness": {
			capstanv1.NewInventory(entry("web", "nginx", "apps", "Deployment", "v1beta1")), capstanv1.NewInventory(deploy), nil,
		},
		"a nil next inventory makes everything stale": {capstanv1.NewInventory(deploy), nil, []capstanv1.InventoryEntry{deploy}},
		"a nil old inventory has nothing stale":       {nil, capstanv1.NewInventory(deploy), nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			NewWithT(t).Expect(tc.old.Stale(tc.next)).To(Equal(tc.want))
		})
	}
}

func TestInventoryEntry_ObjectRef(t *testing.T) {
	g := NewWithT(t)
	ref, err := entry("", "web", "", "Namespace", "v1").ObjectRef()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ref).To(Equal(capstanv1.ObjectRef{Name: "web", Kind: "Namespace"}))
	g.Expect(ref.String()).To(Equal("_web__Namespace"))
}
