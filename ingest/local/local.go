// Package local reads flow-log objects from the local file system: single
// files, directory trees and glob patterns.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flowsym/flowsym/ingest"
)

// Source lists and opens local files. Its zero value is ready to use.
type Source struct {
	// SkipDir, when set, is asked about every directory below a listed
	// root; returning true skips the whole tree, so a time-bounded run
	// does not walk a year of folders.
	SkipDir func(dir string) bool
}

var _ ingest.Source = (*Source)(nil)

// List walks prefix: a file, a directory (recursively, in lexical order)
// or a glob pattern. Hidden files and directories (starting with ".") are
// skipped, as are names ending in ".tmp" that a writer has not finished.
func (s *Source) List(ctx context.Context, prefix string, fn func(ingest.Object) error) error {
	if hasMeta(prefix) {
		return s.listGlob(ctx, prefix, fn)
	}
	info, err := os.Stat(prefix)
	if err != nil {
		return classify("list", prefix, err)
	}
	if !info.IsDir() {
		return fn(object(prefix, info))
	}
	return s.walk(ctx, prefix, fn)
}

func (s *Source) listGlob(ctx context.Context, pattern string, fn func(ingest.Object) error) error {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return fmt.Errorf("list %s: %w", pattern, err)
	}
	if len(matches) == 0 {
		return fmt.Errorf("list %s: no file matches: %w", pattern, ingest.ErrNotFound)
	}
	sort.Strings(matches)
	for _, m := range matches {
		if err := s.List(ctx, m, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Source) walk(ctx context.Context, root string, fn func(ingest.Object) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return classify("list", p, err)
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if p != root && skipName(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != root && s.SkipDir != nil && s.SkipDir(filepath.ToSlash(p)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return classify("stat", p, err)
		}
		return fn(object(p, info))
	})
}

// Open opens a file.
func (s *Source) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, classify("open", name, err)
	}
	return f, nil
}

func object(p string, info fs.FileInfo) ingest.Object {
	return ingest.Object{Name: p, Size: info.Size(), ETag: ETag(info), Modified: info.ModTime().UTC()}
}

func skipName(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp")
}

func hasMeta(p string) bool { return strings.ContainsAny(p, "*?[") }

func classify(op, name string, err error) error {
	// The path is already in our message; keep only the cause.
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ingest.Mark(ingest.ErrNotFound, fmt.Errorf("%s %s: %w", op, name, err))
	case errors.Is(err, fs.ErrPermission):
		return ingest.Mark(ingest.ErrPermission, fmt.Errorf("%s %s: %w", op, name, err))
	}
	return fmt.Errorf("%s %s: %w", op, name, err)
}
