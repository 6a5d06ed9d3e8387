package ingest_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/ingesttest"
)

func TestEmpty(t *testing.T) {
	ctx := context.Background()
	src := ingesttest.NewMem(map[string][]byte{"runs/a.parquet": nil})
	for prefix, want := range map[string]bool{"runs": false, "runs/": false, "run": true, "other": true} {
		if got, err := ingest.Empty(ctx, src, prefix); got != want || err != nil {
			t.Errorf("Empty(%q) = %v, %v; want %v", prefix, got, err, want)
		}
	}
	failing := listErr{errors.New("denied")}
	if _, err := ingest.Empty(ctx, failing, "x"); err == nil {
		t.Error("a failed listing was empty")
	}
	if empty, err := ingest.Empty(ctx, listErr{ingest.ErrNotFound}, "x"); !empty || err != nil {
		t.Errorf("a missing folder: %v, %v; want empty", empty, err)
	}
}

type listErr struct{ err error }

func (l listErr) List(context.Context, string, func(ingest.Object) error) error { return l.err }
func (l listErr) Open(context.Context, string) (io.ReadCloser, error)           { return nil, l.err }
