// Package ingesttest provides helpers for testing code that reads from an
// ingest.Source, the way net/http/httptest does for HTTP.
package ingesttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flowsym/flowsym/ingest"
)

// Mem is an in-memory Source for tests of the code above the Source seam
// (parsers, the run driver). Store implementations are tested against
// real servers instead.
type Mem struct {
	mu      sync.Mutex
	objects map[string][]byte
	etags   map[string]string    // set by every write
	mtimes  map[string]time.Time // set by writes through Create
	version int
}

var _ ingest.Source = (*Mem)(nil)

// NewMem returns a source holding the given objects.
func NewMem(objects map[string][]byte) *Mem {
	m := &Mem{objects: map[string][]byte{}}
	for k, v := range objects {
		m.objects[k] = v
	}
	return m
}

// Put adds or replaces an object.
func (m *Mem) Put(name string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(name, data)
}

// List implements ingest.Source.
func (m *Mem) List(ctx context.Context, prefix string, fn func(ingest.Object) error) error {
	m.mu.Lock()
	var names []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) {
			names = append(names, k)
		}
	}
	m.mu.Unlock()
	sort.Strings(names)
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		m.mu.Lock()
		data, ok := m.objects[n]
		etag := m.etags[n]
		mtime, ok2 := m.mtimes[n]
		if !ok2 {
			mtime = time.Unix(0, 0).UTC()
		}
		m.mu.Unlock()
		if !ok {
			continue // deleted since the names were taken
		}
		if err := fn(ingest.Object{Name: n, Size: int64(len(data)), ETag: etag, Modified: mtime}); err != nil {
			return err
		}
	}
	return nil
}

// Open implements ingest.Source.
func (m *Mem) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.objects[name]
	if !ok {
		return nil, ingest.Mark(ingest.ErrNotFound, fmt.Errorf("open %s: no such object", name))
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}
