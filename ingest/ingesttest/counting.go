package ingesttest

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/flowsym/flowsym/ingest"
)

// Counting wraps a store and records every listing made through it, so a
// test can show how much a caller lists. The wrapped Source must also be
// an ingest.DirLister and an ingest.Stater (every flowsym store is).
type Counting struct {
	Src ingest.Source

	mu    sync.Mutex
	calls []Call
}

// Call is one listing: Op is "list" (flat, recursive) or "listdir" (one
// level); Entries is how many objects and directories it returned.
type Call struct {
	Op      string
	Prefix  string
	Entries int
}

func (c Call) String() string { return fmt.Sprintf("%s %s (%d)", c.Op, c.Prefix, c.Entries) }

var (
	_ ingest.DirLister = (*Counting)(nil)
	_ ingest.Stater    = (*Counting)(nil)
)

// Calls returns the listings made so far, in order.
func (c *Counting) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Call(nil), c.calls...)
}

// Entries returns the number of entries all listings returned.
func (c *Counting) Entries() int {
	n := 0
	for _, call := range c.Calls() {
		n += call.Entries
	}
	return n
}

func (c *Counting) record(op, prefix string, entries int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, Call{Op: op, Prefix: prefix, Entries: entries})
}

// List implements ingest.Source.
func (c *Counting) List(ctx context.Context, prefix string, fn func(ingest.Object) error) error {
	n := 0
	err := c.Src.List(ctx, prefix, func(o ingest.Object) error { n++; return fn(o) })
	c.record("list", prefix, n)
	return err
}

// ListDir implements ingest.DirLister.
func (c *Counting) ListDir(ctx context.Context, prefix string, fn func(ingest.Object) error) error {
	dl, ok := c.Src.(ingest.DirLister)
	if !ok {
		return fmt.Errorf("listdir %s: %T is not an ingest.DirLister", prefix, c.Src)
	}
	n := 0
	err := dl.ListDir(ctx, prefix, func(o ingest.Object) error { n++; return fn(o) })
	c.record("listdir", prefix, n)
	return err
}

// Open implements ingest.Source.
func (c *Counting) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	return c.Src.Open(ctx, name)
}

// Stat implements ingest.Stater.
func (c *Counting) Stat(ctx context.Context, name string) (ingest.Object, error) {
	st, ok := c.Src.(ingest.Stater)
	if !ok {
		return ingest.Object{}, fmt.Errorf("stat %s: %T is not an ingest.Stater", name, c.Src)
	}
	return st.Stat(ctx, name)
}
