package provenance_test

import (
	"crypto"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func clearsignEncode(w io.Writer, e *openpgp.Entity) (io.WriteCloser, error) {
	return clearsign.Encode(w, e.PrivateKey, &packet.Config{DefaultHash: crypto.SHA512})
}
