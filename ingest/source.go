// Package ingest finds and opens flow-log objects: the Source seam that the
// local file system and each object store implement, the time layout of
// each cloud's object keys (so a run over one hour opens only that hour),
// and the classification of I/O failures.
package ingest

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"
)

// Object is one flow-log object (a file, an S3 object, a blob).
type Object struct {
	// Name is what Open takes and what evidence points at: a local path as
	// the user gave it, or a URL such as s3://bucket/key.
	Name     string
	Size     int64
	ETag     string
	Modified time.Time
}

// Source lists and opens objects of one store.
type Source interface {
	// List calls fn for every object under prefix, in lexical order where
	// the store gives one. It stops at the first error fn returns.
	List(ctx context.Context, prefix string, fn func(Object) error) error
	// Open returns the object's bytes as stored (still compressed).
	Open(ctx context.Context, name string) (io.ReadCloser, error)
}

// Errors that Source implementations wrap, so callers can tell a missing
// object from a denied one from a passing fault with errors.Is.
var (
	ErrNotFound   = errors.New("not found")
	ErrPermission = errors.New("permission denied")
	ErrTransient  = errors.New("transient failure")
)

// Mark wraps err so that errors.Is matches kind as well as everything err
// matches, without changing its message.
func Mark(kind, err error) error {
	if err == nil {
		return nil
	}
	return &marked{kind: kind, err: err}
}

type marked struct{ kind, err error }

func (m *marked) Error() string   { return m.err.Error() }
func (m *marked) Unwrap() []error { return []error{m.kind, m.err} }

// Empty reports whether no object lies under the folder prefix (a "/" is
// added when missing, so "run" does not match "runs/"). Exports use it to
// refuse mixing two runs' files by accident. A missing folder is empty.
func Empty(ctx context.Context, src Source, prefix string) (bool, error) {
	errFound := errors.New("found")
	err := src.List(ctx, strings.TrimSuffix(prefix, "/")+"/", func(Object) error { return errFound })
	switch {
	case errors.Is(err, errFound):
		return false, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return false, err
	}
	return true, nil
}
