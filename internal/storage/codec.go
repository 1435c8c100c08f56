package storage

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxDecodedSize bounds the JSON a record may decompress to. A record is at most 1 MiB of
// base64; real records compress five to twenty times, so 64 MiB leaves room for any chart while
// stopping a gzip bomb (a full 1 MiB Secret can otherwise inflate to about 1 GiB).
const DefaultMaxDecodedSize int64 = 64 << 20

// gzipMagic is how a gzip stream with the deflate method starts; records without it are plain JSON.
var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// Encode returns the record as Helm's Secret driver stores it in data.release: the JSON, gzipped
// at best compression, then base64 (standard alphabet). The Secret's data field adds the second
// base64 layer seen on the wire and in `kubectl get secret -o yaml`.
func Encode(rel *Release) (string, error) {
	if rel == nil {
		return "", fmt.Errorf("%w: nil release", ErrInvalid)
	}
	raw, err := json.Marshal(rel)
	if err != nil {
		return "", fmt.Errorf("encode release %q: %w", rel.Name, err)
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", fmt.Errorf("encode release %q: %w", rel.Name, err)
	}
	if _, err := zw.Write(raw); err != nil {
		return "", fmt.Errorf("encode release %q: %w", rel.Name, err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("encode release %q: %w", rel.Name, err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// Decode reads data.release as Helm or Capstan wrote it: base64, then gunzip when the bytes start
// with gzip's magic (older or hand-made records may be plain JSON), then JSON. The JSON may be at
// most DefaultMaxDecodedSize bytes. Every failure wraps ErrCorrupt.
func Decode(data string) (*Release, error) {
	return DecodeWithLimit(data, DefaultMaxDecodedSize)
}

// DecodeWithLimit is Decode with an explicit bound on the decoded JSON size.
func DecodeWithLimit(data string, maxSize int64) (*Release, error) {
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %w", ErrCorrupt, err)
	}
	if bytes.HasPrefix(raw, gzipMagic) {
		if raw, err = gunzip(raw, maxSize); err != nil {
			return nil, err
		}
	} else if int64(len(raw)) > maxSize {
		return nil, fmt.Errorf("%w: record is larger than %d bytes", ErrCorrupt, maxSize)
	}
	var rel Release
	if err := json.Unmarshal(raw, &rel); err != nil {
		return nil, fmt.Errorf("%w: json: %w", ErrCorrupt, err)
	}
	return &rel, nil
}

// gunzip decompresses at most maxSize bytes and fails if the stream holds more.
func gunzip(raw []byte, maxSize int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: gzip: %w", ErrCorrupt, err)
	}
	defer func() { _ = zr.Close() }()
	out, err := io.ReadAll(io.LimitReader(zr, maxSize+1))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("truncated stream: %w", err)
		}
		return nil, fmt.Errorf("%w: gzip: %w", ErrCorrupt, err)
	}
	if int64(len(out)) > maxSize {
		return nil, fmt.Errorf("%w: record decompresses to more than %d bytes", ErrCorrupt, maxSize)
	}
	return out, nil
}
