package flowbeam

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/stores"
)

// fileSystems opens Beam file systems by scheme and keeps them: an S3 file
// system loads the AWS configuration when it is made, which is too slow
// for every object.
type fileSystems struct {
	mu  sync.Mutex
	fss map[string]filesystem.Interface
}

func scheme(name string) string {
	if i := strings.Index(name, "://"); i > 0 {
		return name[:i]
	}
	return ""
}

func (f *fileSystems) get(ctx context.Context, name string) (filesystem.Interface, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := scheme(name)
	if fs, ok := f.fss[s]; ok {
		return fs, nil
	}
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return nil, err
	}
	if f.fss == nil {
		f.fss = map[string]filesystem.Interface{}
	}
	f.fss[s] = fs
	return fs, nil
}

func (f *fileSystems) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fs := range f.fss {
		fs.Close()
	}
	f.fss = nil
}

// source is the ingest.Source the decoder reads through: objects are
// opened with Beam's file system for their scheme.
type source struct {
	fss *fileSystems
}

var _ ingest.Source = source{}

func (s source) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	fs, err := s.fss.get(ctx, name)
	if err != nil {
		return nil, err
	}
	r, err := fs.OpenRead(ctx, name)
	if err != nil && errors.Is(err, os.ErrNotExist) {
		err = ingest.Mark(ingest.ErrNotFound, err)
	}
	return r, err
}

// List is never called: objects are listed before they are read.
func (s source) List(context.Context, string, func(ingest.Object) error) error {
	return errors.New("flowbeam lists objects with flowsym's stores")
}

// join appends a slash-separated relative name to a root that is a URL
// prefix or a local folder.
func join(root, name string) string {
	if scheme(root) == "" {
		return filepath.Join(root, filepath.FromSlash(name))
	}
	return strings.TrimSuffix(root, "/") + "/" + strings.TrimPrefix(name, "/")
}

// split returns the folder and the base name of a file, URL or path.
func split(name string) (dir, base string) {
	if scheme(name) == "" {
		return filepath.Dir(name), filepath.Base(name)
	}
	i := strings.LastIndex(name, "/")
	return name[:i], name[i+1:]
}

// tempRoot is where a run's files wait before they are renamed into place:
// a folder that Hive-partitioned readers skip (its name starts with "_"),
// under the output's own root, so that a rename never crosses buckets or
// file systems.
func tempRoot(root, runID string) string { return join(root, "_temporary/"+runID) }

// TempFile is an output file written under a temporary name, and the name
// it gets once the bundle that wrote it has been committed.
type TempFile struct {
	Temp, Final string
	// Tag says what the file is, for finalize: "findings-<shard>" for a
	// findings file, or the export folder ("flows", "connections",
	// "findings").
	Tag string
}

// rename moves a finished file into place. It is idempotent, because a
// runner may run it again after a failure: when the temporary file is
// gone and the final one is there, the earlier attempt did the work.
func rename(ctx context.Context, fss *fileSystems, f TempFile) error {
	fs, err := fss.get(ctx, f.Final)
	if err != nil {
		return err
	}
	if scheme(f.Final) == "" {
		// Beam's local file system renames with os.Rename, which needs the
		// folder (a new date partition) to exist.
		if err := os.MkdirAll(filepath.Dir(f.Final), 0o755); err != nil {
			return err
		}
	}
	err = filesystem.Rename(ctx, fs, f.Temp, f.Final)
	if err == nil {
		return nil
	}
	if _, serr := fs.Size(ctx, f.Temp); serr != nil {
		if _, ferr := fs.Size(ctx, f.Final); ferr == nil {
			return nil
		}
	}
	return fmt.Errorf("rename %s to %s: %w", f.Temp, f.Final, err)
}

// tempCreator is the export.Creator of one bundle: each file is written
// under the run's temporary folder with a bundle-unique name and, when the
// export commits it, recorded for the rename instead of published. keep
// leaves out files a bundle must not publish (another stage's folders,
// placeholders of empty folders): they are written nowhere.
type tempCreator struct {
	fss   *fileSystems
	root  string // the export root
	temp  string // this bundle's temporary folder
	keep  func(name string) bool
	mu    sync.Mutex
	files []TempFile
}

func (c *tempCreator) Create(ctx context.Context, name string) (ingest.ObjectWriter, error) {
	if c.keep != nil && !c.keep(name) {
		return discard{}, nil
	}
	temp := join(c.temp, name)
	fs, err := c.fss.get(ctx, temp)
	if err != nil {
		return nil, err
	}
	w, err := fs.OpenWrite(ctx, temp)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", temp, err)
	}
	folder, _, _ := strings.Cut(name, "/")
	return &tempWriter{c: c, w: w, fs: fs, ctx: ctx, file: TempFile{Temp: temp, Final: join(c.root, name), Tag: folder}}, nil
}

// take returns the files committed so far and forgets them.
func (c *tempCreator) take() []TempFile {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.files
	c.files = nil
	return out
}

type tempWriter struct {
	c    *tempCreator
	w    io.WriteCloser
	fs   filesystem.Interface
	ctx  context.Context
	file TempFile
	done bool
}

func (t *tempWriter) Write(p []byte) (int, error) { return t.w.Write(p) }

// Commit finishes the temporary file (an object store makes it visible
// here) and records it for the rename.
func (t *tempWriter) Commit() error {
	if t.done {
		return nil
	}
	t.done = true
	if err := t.w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", t.file.Temp, err)
	}
	t.c.mu.Lock()
	t.c.files = append(t.c.files, t.file)
	t.c.mu.Unlock()
	return nil
}

// Abort drops the temporary file.
func (t *tempWriter) Abort() error {
	if t.done {
		return nil
	}
	t.done = true
	err := t.w.Close()
	if rm, ok := t.fs.(filesystem.Remover); ok {
		err = errors.Join(err, rm.Remove(t.ctx, t.file.Temp))
	}
	return err
}

// discard is a file nobody will read.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) Commit() error               { return nil }
func (discard) Abort() error                { return nil }

// CheckEmpty refuses an export root that holds files already, as analyze
// --export does without --append: a second run into one export would
// double its rows for readers that do not select a run. A missing folder
// is empty.
func CheckEmpty(ctx context.Context, root string) error {
	loc, err := stores.Parse(root)
	if err != nil {
		return err
	}
	if loc.Scheme == stores.Local {
		entries, err := os.ReadDir(root)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if len(entries) > 0 {
			return fmt.Errorf("%s is not empty: give an empty or new folder, or append to it", root)
		}
		return nil
	}
	st, prefix, err := stores.Open(ctx, strings.TrimSuffix(root, "/")+"/", stores.Options{})
	if err != nil {
		return err
	}
	if c, ok := st.(io.Closer); ok {
		defer c.Close()
	}
	empty, err := ingest.Empty(ctx, st, prefix)
	switch {
	case err != nil:
		return fmt.Errorf("check %s: %w", ingest.Scrub(root), err)
	case !empty:
		return fmt.Errorf("%s is not empty: give an empty or new prefix, or append to it", ingest.Scrub(root))
	}
	return nil
}
