package reconcile

import (
	"fmt"
	"net/netip"
	"testing"

	. "github.com/onsi/gomega"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/repo"
)

// TestSession_sourceError_addressNotAllowed: a chart URL the network policy refuses (an index
// entry or a redirect leading to the metadata address) stalls the Release instead of retrying.
func TestSession_sourceError_addressNotAllowed(t *testing.T) {
	g := NewWithT(t)
	s := &session{r: &Reconciler{}}
	refused := &repo.AddressError{Host: "charts.example.test", Addr: netip.MustParseAddr("169.254.169.254"),
		Reason: "link-local address (cloud metadata), refused for every repository"}
	e := classify(s.sourceError(fmt.Errorf("fetch http://charts.example.test/app-1.0.0.tgz: %w", refused)))
	g.Expect(e.Class).To(Equal(ClassStalling))
	g.Expect(e.Reason).To(Equal(capstanv1.AddressNotAllowedReason))
	g.Expect(e.Error()).To(ContainSubstring("connection to charts.example.test (169.254.169.254) refused"))
}
