package export

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Dir creates output files under a local folder. Each file is written to a
// hidden temporary name in its final folder and renamed into place on
// Commit, which is atomic on one file system.
type Dir string

var _ Creator = Dir("")

// Create implements Creator.
func (d Dir) Create(ctx context.Context, name string) (ObjectWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	final := filepath.Join(string(d), filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(final), "."+filepath.Base(final)+".*.tmp")
	if err != nil {
		return nil, err
	}
	return &localFile{File: f, final: final}, nil
}

type localFile struct {
	*os.File
	final string
	done  bool
}

func (f *localFile) Commit() error {
	if f.done {
		return errors.New("commit: already finished")
	}
	f.done = true
	err := errors.Join(f.Sync(), f.File.Close())
	if err == nil {
		err = os.Rename(f.Name(), f.final)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("commit %s: %w", f.final, err)
	}
	return nil
}

func (f *localFile) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	return errors.Join(f.File.Close(), os.Remove(f.Name()))
}
