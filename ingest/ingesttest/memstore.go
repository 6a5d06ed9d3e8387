package ingesttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/flowsym/flowsym/ingest"
)

// Mem is also a complete ingest.Store, for tests of code that writes
// (state files, outputs): writes become visible at Commit, ETags change on
// every write, and conditional writes are checked atomically.
var (
	_ ingest.Store              = (*Mem)(nil)
	_ ingest.Stater             = (*Mem)(nil)
	_ ingest.RangeOpener        = (*Mem)(nil)
	_ ingest.ConditionalCreator = (*Mem)(nil)
	_ ingest.DirLister          = (*Mem)(nil)
)

// put stores data under name with a new ETag. m.mu must be held.
func (m *Mem) put(name string, data []byte) {
	if m.etags == nil {
		m.etags = map[string]string{}
	}
	m.version++
	m.objects[name] = data
	m.etags[name] = fmt.Sprintf(`"mem-%d"`, m.version)
	delete(m.mtimes, name)
}

// Stat implements ingest.Stater.
func (m *Mem) Stat(ctx context.Context, name string) (ingest.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.objects[name]
	if !ok {
		return ingest.Object{}, ingest.Mark(ingest.ErrNotFound, fmt.Errorf("stat %s: no such object", name))
	}
	return ingest.Object{Name: name, Size: int64(len(data)), ETag: m.etags[name]}, nil
}

// OpenRange implements ingest.RangeOpener.
func (m *Mem) OpenRange(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.objects[name]
	if !ok {
		return nil, ingest.Mark(ingest.ErrNotFound, fmt.Errorf("open %s: no such object", name))
	}
	offset = min(max(offset, 0), int64(len(data)))
	end := int64(len(data))
	if length >= 0 {
		end = min(end, offset+length)
	}
	return io.NopCloser(bytes.NewReader(data[offset:end])), nil
}

// ListDir implements ingest.DirLister.
func (m *Mem) ListDir(ctx context.Context, prefix string, fn func(ingest.Object) error) error {
	var entries []ingest.Object
	seen := map[string]bool{}
	err := m.List(ctx, prefix, func(o ingest.Object) error {
		rest := o.Name[len(prefix):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			dir := prefix + rest[:i+1]
			if !seen[dir] {
				seen[dir] = true
				entries = append(entries, ingest.Object{Name: dir})
			}
			return nil
		}
		entries = append(entries, o)
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Create implements ingest.Store.
func (m *Mem) Create(ctx context.Context, name string) (ingest.ObjectWriter, error) {
	return &memWriter{m: m, ctx: ctx, name: name}, nil
}

// CreateIf implements ingest.ConditionalCreator.
func (m *Mem) CreateIf(ctx context.Context, name, ifMatch string) (ingest.ObjectWriter, error) {
	return &memWriter{m: m, ctx: ctx, name: name, conditional: true, ifMatch: ifMatch}, nil
}

type memWriter struct {
	m           *Mem
	ctx         context.Context
	name        string
	conditional bool
	ifMatch     string
	buf         bytes.Buffer
	done        bool
}

func (w *memWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("write %s: writer already committed or aborted", w.name)
	}
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.buf.Write(p)
}

func (w *memWriter) Commit() error {
	if w.done {
		return fmt.Errorf("commit %s: writer already committed or aborted", w.name)
	}
	w.done = true
	if err := w.ctx.Err(); err != nil {
		return err
	}
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	if w.conditional {
		etag, exists := w.m.etags[w.name]
		if _, ok := w.m.objects[w.name]; ok {
			exists = true
		}
		if (w.ifMatch == "" && exists) || (w.ifMatch != "" && (!exists || etag != w.ifMatch)) {
			return ingest.Mark(ingest.ErrPrecondition, fmt.Errorf("commit %s: the object is not at the version expected", w.name))
		}
	}
	w.m.put(w.name, bytes.Clone(w.buf.Bytes()))
	if w.m.mtimes == nil {
		w.m.mtimes = map[string]time.Time{}
	}
	w.m.mtimes[w.name] = time.Now().UTC()
	return nil
}

func (w *memWriter) Abort() error {
	w.done = true
	return nil
}
