package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/flowsym/flowsym/ingest"
)

// The local file system is a complete ingest.Store: the write side (for
// outputs and state files), stat, ranged reads and listing by level.
var (
	_ ingest.Store              = (*Source)(nil)
	_ ingest.Stater             = (*Source)(nil)
	_ ingest.RangeOpener        = (*Source)(nil)
	_ ingest.ConditionalCreator = (*Source)(nil)
	_ ingest.DirLister          = (*Source)(nil)
)

// ETag returns the version tag flowsym gives a local file: its
// modification time and size. A write replaces the file (see Create), so
// the tag changes with every write that changes the time or the size.
func ETag(info fs.FileInfo) string {
	return fmt.Sprintf(`"%x-%x"`, info.ModTime().UnixNano(), info.Size())
}

// Stat implements ingest.Stater. A directory is not an object: it is
// ErrNotFound.
func (s *Source) Stat(ctx context.Context, name string) (ingest.Object, error) {
	if err := ctx.Err(); err != nil {
		return ingest.Object{}, err
	}
	info, err := os.Stat(name)
	if err != nil {
		return ingest.Object{}, classify("stat", name, err)
	}
	if !info.Mode().IsRegular() {
		return ingest.Object{}, ingest.Mark(ingest.ErrNotFound, fmt.Errorf("stat %s: not a regular file", name))
	}
	o := object(name, info)
	o.ETag = ETag(info)
	return o, nil
}

// OpenRange implements ingest.RangeOpener.
func (s *Source) OpenRange(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, classify("open", name, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, classify("stat", name, err)
	}
	if _, err := f.Seek(max(offset, 0), io.SeekStart); err != nil {
		f.Close()
		return nil, classify("seek", name, err)
	}
	r := &rangeReader{f: f, r: f, etag: ETag(info)}
	if length >= 0 {
		r.r = io.LimitReader(f, length)
	}
	return r, nil
}

type rangeReader struct {
	f    *os.File
	r    io.Reader
	etag string
}

func (r *rangeReader) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r *rangeReader) Close() error               { return r.f.Close() }
func (r *rangeReader) ETag() string               { return r.etag }

// ListDir implements ingest.DirLister: the entries of the directory that
// prefix names, or of its parent whose names start with prefix's last
// element when prefix does not end in "/". Hidden and unfinished (".tmp")
// names are skipped, as List skips them. A missing directory has no
// entries.
func (s *Source) ListDir(ctx context.Context, prefix string, fn func(ingest.Object) error) error {
	dir, part := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir, part = prefix[:i+1], prefix[i+1:]
	}
	read := dir
	if read == "" {
		read = "."
	}
	entries, err := os.ReadDir(read)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil
	}
	if err != nil {
		return classify("list", read, err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !strings.HasPrefix(e.Name(), part) || skipName(e.Name()) {
			continue
		}
		full := dir + e.Name()
		info, err := os.Stat(full) // follows symbolic links
		if err != nil {
			continue // gone, or a dangling link
		}
		var o ingest.Object
		switch {
		case info.IsDir():
			o = ingest.Object{Name: full + "/"}
		case info.Mode().IsRegular():
			o = object(full, info)
			o.ETag = ETag(info)
		default:
			continue
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

// Create implements ingest.Store: the bytes go to a hidden temporary file
// in the same directory (".name.*.tmp", which List skips), which Commit
// syncs and renames over name, so a reader sees the old file or the new
// one, whole, never a mix, even after a crash. Missing directories are
// created.
func (s *Source) Create(ctx context.Context, name string) (ingest.ObjectWriter, error) {
	return create(ctx, name, false, "")
}

// CreateIf implements ingest.ConditionalCreator. "Must not exist" is
// atomic (a hard link, which fails if the name exists). "Must still be at
// ETag" is checked just before the rename: two processes committing at the
// same instant can both pass, so a local state file assumes one scheduled
// run at a time.
func (s *Source) CreateIf(ctx context.Context, name, ifMatch string) (ingest.ObjectWriter, error) {
	return create(ctx, name, true, ifMatch)
}

func create(ctx context.Context, name string, conditional bool, ifMatch string) (ingest.ObjectWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if name == "" || strings.HasSuffix(name, "/") {
		return nil, fmt.Errorf("create %q: not a file name", name)
	}
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, classify("create", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return nil, classify("create", name, err)
	}
	return &fileWriter{ctx: ctx, f: f, name: name, dir: dir, conditional: conditional, ifMatch: ifMatch}, nil
}

type fileWriter struct {
	ctx         context.Context
	f           *os.File
	name, dir   string
	conditional bool
	ifMatch     string
	done        bool
}

func (w *fileWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("write %s: writer already committed or aborted", w.name)
	}
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := w.f.Write(p)
	if err != nil {
		return n, classify("write", w.name, err)
	}
	return n, nil
}

func (w *fileWriter) Commit() error {
	if w.done {
		return fmt.Errorf("commit %s: writer already committed or aborted", w.name)
	}
	w.done = true
	tmp := w.f.Name()
	fail := func(err error) error {
		w.f.Close()
		os.Remove(tmp)
		return err
	}
	if err := w.ctx.Err(); err != nil {
		return fail(err)
	}
	if err := w.f.Chmod(0o644); err != nil {
		return fail(classify("write", w.name, err))
	}
	if err := w.f.Sync(); err != nil {
		return fail(classify("write", w.name, err))
	}
	if err := w.f.Close(); err != nil {
		return fail(classify("write", w.name, err))
	}
	switch {
	case w.conditional && w.ifMatch == "":
		err := os.Link(tmp, w.name)
		os.Remove(tmp)
		if errors.Is(err, fs.ErrExist) {
			return ingest.Mark(ingest.ErrPrecondition, fmt.Errorf("commit %s: the file exists", w.name))
		}
		if err != nil {
			return classify("commit", w.name, err)
		}
	case w.conditional:
		info, err := os.Stat(w.name)
		if err != nil || ETag(info) != w.ifMatch {
			os.Remove(tmp)
			return ingest.Mark(ingest.ErrPrecondition, fmt.Errorf("commit %s: the file is not at version %s", w.name, w.ifMatch))
		}
		fallthrough
	default:
		if err := os.Rename(tmp, w.name); err != nil {
			os.Remove(tmp)
			return classify("commit", w.name, err)
		}
	}
	// Make the rename itself durable.
	if d, err := os.Open(w.dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func (w *fileWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close()
	os.Remove(w.f.Name())
	return nil
}

var _ ingest.Deleter = (*Source)(nil)

// Delete implements ingest.Deleter.
func (s *Source) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return classify("delete", name, err)
	}
	return nil
}
