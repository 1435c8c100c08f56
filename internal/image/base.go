package image

import (
	"archive/tar"
	"bytes"
	"encoding/pem"
	"fmt"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// The non-root identity every image runs as: the UID and GID distroless calls "nonroot", the
// runAsUser of config/manager.
const (
	NonRootUID = 65532
	NonRootGID = 65532
	// User is the config's User field.
	User = "65532:65532"
	// CABundlePath is where the base layer puts the CA certificates, the first file Go's
	// crypto/x509 reads on Linux.
	CABundlePath = "etc/ssl/certs/ca-certificates.crt"
)

// nonRootHome is the home directory of nonroot, relative to the image's root like every entry.
const nonRootHome = "home/nonroot"

// passwd is /etc/passwd: root and nonroot, neither with a login shell.
func passwd() string {
	return fmt.Sprintf("root:x:0:0:root:/%s:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/%s:/sbin/nologin\n",
		"root", NonRootUID, NonRootGID, nonRootHome)
}

// entry is one file or directory of a layer.
type entry struct {
	name     string
	mode     int64
	uid, gid int
	dir      bool
	data     []byte
}

// baseEntries is the distroless-like base: user and group files naming root and nonroot, a
// name-service switch that makes Go's resolver read /etc/hosts before DNS, the CA bundle, a home
// for nonroot and a world-writable /tmp (the Deployment mounts an emptyDir there, so a read-only
// root works).
func baseEntries() ([]entry, error) {
	certs, err := caBundle()
	if err != nil {
		return nil, err
	}
	return []entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{name: "etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd())},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: CABundlePath, mode: 0o644, data: certs},
		{name: "home/", mode: 0o755, dir: true},
		{name: nonRootHome + "/", mode: 0o700, uid: NonRootUID, gid: NonRootGID, dir: true},
		{name: "tmp/", mode: 0o1777, dir: true},
	}, nil
}

// caBundle is the Mozilla root set Go's golang.org/x/crypto/x509roots/fallback module carries, as
// PEM, in the module's order. Roots the module trusts only under an extra constraint (a distrust
// date, say) are left out: a PEM file cannot carry the constraint, and trusting them without it
// would trust more than Go itself does.
func caBundle() ([]byte, error) {
	var buf bytes.Buffer
	for root := range bundle.Roots() {
		if root.Constraint != nil {
			continue
		}
		if err := pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate}); err != nil {
			return nil, fmt.Errorf("encoding a CA certificate: %w", err)
		}
	}
	if buf.Len() == 0 {
		return nil, fmt.Errorf("the CA bundle module holds no certificates")
	}
	return buf.Bytes(), nil
}

// layer writes the entries as a tar archive with every timestamp set to created and no
// user or group names, so its digest depends only on the entries, and returns it as a gzip
// compressed OCI layer.
func layer(entries []entry, created time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: created.UTC().Truncate(time.Second),
			Typeflag: tar.TypeReg, Size: int64(len(e.data)), Format: tar.FormatUSTAR}
		if e.dir {
			hdr.Typeflag, hdr.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("writing %s to a layer: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("writing %s to a layer: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("closing a layer: %w", err)
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}
