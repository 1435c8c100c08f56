package reconcile

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	capstanv1 "github.com/capstan-dev/capstan/api/v1alpha1"
	"github.com/capstan-dev/capstan/internal/storage"
	"github.com/capstan-dev/capstan/internal/values"
)

// Labels Capstan adds to the revision records it writes (besides Helm's own).
const (
	// ReleaseUIDLabel carries the UID of the Release that wrote the record: the claim on the
	// release name. Records without it were written by helm and can be taken over; helm also
	// copies it, with the rest of a release's labels, into the records it writes after one of
	// Capstan's, so whether Capstan wrote a record is told by RevisionLabel (writtenByCapstan).
	ReleaseUIDLabel = capstanv1.Group + "/release-uid"
	// ChartDigestLabel carries the chart archive's digest (hex, cut to a label's 63 characters),
	// so that a re-published chart version is noticed.
	ChartDigestLabel = capstanv1.Group + "/chart-digest"
	// PostRenderDigestLabel carries the digest of the post-renderers and common metadata the
	// revision was rendered with (hex, cut to 63 characters), so that changing them upgrades.
	PostRenderDigestLabel = capstanv1.Group + "/post-render-digest"
)

// maxLabelValue is the longest label value Kubernetes accepts.
const maxLabelValue = 63

// digestLabelValue turns a digest ("sha256:<hex>" or "<hex>") into a label value.
func digestLabelValue(digest string) string {
	_, hexPart, found := strings.Cut(digest, ":")
	if !found {
		hexPart = digest
	}
	if len(hexPart) > maxLabelValue {
		hexPart = hexPart[:maxLabelValue]
	}
	return hexPart
}

// recordFacts summarises a stored revision for Decide.
func recordFacts(rel *storage.Release, uid string) *Record {
	if rel == nil {
		return nil
	}
	r := &Record{Revision: rel.Version, Status: string(rel.Info.Status), ValuesDigest: values.Digest(rel.Config),
		Ours: writtenBy(rel, uid), ChartDigest: rel.Labels[ChartDigestLabel],
		PostRenderDigest: rel.Labels[PostRenderDigestLabel]}
	if md := rel.Chart.Metadata; md != nil {
		r.ChartName, r.ChartVersion = md.Name, md.Version
	}
	return r
}

// lastRecord returns the newest record, or nil. records are sorted by version.
func lastRecord(records []*storage.Release) *storage.Release {
	if len(records) == 0 {
		return nil
	}
	return records[len(records)-1]
}

// deployedRecord returns the newest deployed record, or nil.
func deployedRecord(records []*storage.Release) *storage.Release {
	for i := len(records) - 1; i >= 0; i-- {
		if records[i].Info.Status == storage.StatusDeployed {
			return records[i]
		}
	}
	return nil
}

// findRecord returns the record of a revision, or nil.
func findRecord(records []*storage.Release, revision int) *storage.Release {
	for _, r := range records {
		if r.Version == revision {
			return r
		}
	}
	return nil
}

// manifestDigest is the sha256 of a rendered manifest, in status form.
func manifestDigest(manifest string) string {
	sum := sha256.Sum256([]byte(manifest))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// claimant names who holds a release name: the UID of the Release whose label is on the newest
// record that carries one, if that Release still exists. It returns "" when nobody live holds it.
func claimant(records []*storage.Release, live map[string]bool) string {
	for i := len(records) - 1; i >= 0; i-- {
		uid := records[i].Labels[ReleaseUIDLabel]
		if uid == "" {
			continue
		}
		if live[uid] {
			return uid
		}
		return ""
	}
	return ""
}

// candidate is a Release that asks for a release name.
type candidate struct {
	uid, name string
	created   int64
}

// nameOwner decides which Release owns a release name: the live claimant of the records, else
// the oldest Release asking for the name (by creation time, then name). Only the owner writes.
func nameOwner(records []*storage.Release, candidates []candidate) string {
	live := make(map[string]bool, len(candidates))
	for _, c := range candidates {
		live[c.uid] = true
	}
	if uid := claimant(records, live); uid != "" {
		return uid
	}
	if len(candidates) == 0 {
		return ""
	}
	oldest := slices.MinFunc(candidates, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.created, b.created), cmp.Compare(a.name, b.name))
	})
	return oldest.uid
}

// conflictMessage explains a release-name conflict without naming more than needed.
func conflictMessage(rel *capstanv1.Release, owner string, candidates []candidate) string {
	holder := "another Release"
	for _, c := range candidates {
		if c.uid == owner {
			holder = fmt.Sprintf("Release %s/%s", rel.Namespace, c.name)
		}
	}
	return fmt.Sprintf("release name %q in namespace %s is already managed by %s; nothing was changed",
		rel.GetReleaseName(), rel.GetStorageNamespace(), holder)
}
