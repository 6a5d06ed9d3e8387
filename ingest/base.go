package ingest

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Base is the URL prefix under which an object store names the objects of
// one bucket or container: "s3://bucket/", "gs://bucket/",
// "azblob://account/container/". The stores share it so that every one
// accepts the same names and rejects the same mistakes.
type Base string

// URL returns the full name of key.
func (b Base) URL(key string) string { return string(b) + key }

// Key returns the key of an object name or prefix: a URL under b, the
// bucket's own URL (the empty key), or a bare key.
func (b Base) Key(name string) (string, error) {
	if rest, ok := strings.CutPrefix(name, string(b)); ok {
		return rest, nil
	}
	if name == strings.TrimSuffix(string(b), "/") {
		return "", nil
	}
	if strings.Contains(name, "://") {
		return "", fmt.Errorf("%s is not in %s", Scrub(name), string(b))
	}
	return name, nil
}

// ObjectKey returns the key of name for op ("stat", "open", "create"),
// which needs an object: a prefix (an empty key or one ending in "/") is
// ErrNotFound.
func (b Base) ObjectKey(op, name string) (string, error) {
	key, err := b.Key(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	if key == "" || strings.HasSuffix(key, "/") {
		return "", Mark(ErrNotFound, fmt.Errorf("%s %s: not an object name", op, b.URL(key)))
	}
	return key, nil
}

// OpenRange is OpenResumable for the RangeOpener form: length bytes from
// offset, or to the end when length < 0.
func OpenRange(ctx context.Context, name string, offset, length int64, p RetryPolicy, fetch Fetch) (io.ReadCloser, error) {
	end := int64(-1)
	if length >= 0 {
		end = offset + length
	}
	return OpenResumable(ctx, name, max(offset, 0), end, p, fetch)
}

// CheckRange checks the Content-Range of the answer to a GET from byte
// start: a store that ignored the Range header would send the object from
// its beginning, and a resumed read would repeat bytes.
func CheckRange(name string, start int64, contentRange string) error {
	if start > 0 && !strings.HasPrefix(contentRange, "bytes "+strconv.FormatInt(start, 10)+"-") {
		return Fail(nil, "open", name, fmt.Sprintf("asked for bytes from %d, the store answered with range %q", start, contentRange), nil)
	}
	return nil
}
