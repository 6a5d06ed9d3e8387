package local_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/ingesttest"
	"github.com/flowsym/flowsym/ingest/local"
)

func TestAcceptance(t *testing.T) {
	ingesttest.Acceptance(t, func(t *testing.T) (ingest.Store, string) {
		return &local.Source{}, t.TempDir() + "/"
	})
}

// An aborted or failed write leaves no temporary file behind, and a
// pending one is invisible to List.
func TestNoTemporaryFilesLeft(t *testing.T) {
	dir := t.TempDir()
	src := &local.Source{}
	w, err := src.Create(context.Background(), filepath.Join(dir, "out.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("partial"))
	if got := ingesttest.ListNames(t, src, dir); len(got) != 0 {
		t.Errorf("listed %q during a write", got)
	}
	w.Abort()
	cw, err := src.CreateIf(context.Background(), filepath.Join(dir, "state.json"), `"stale"`)
	if err != nil {
		t.Fatal(err)
	}
	cw.Write([]byte("{}"))
	if err := cw.Commit(); !errors.Is(err, ingest.ErrPrecondition) {
		t.Errorf("conditional commit on a missing file: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

func TestStatDirectory(t *testing.T) {
	_, err := (&local.Source{}).Stat(context.Background(), t.TempDir())
	if !errors.Is(err, ingest.ErrNotFound) {
		t.Errorf("stat of a directory: %v, want ErrNotFound", err)
	}
}
