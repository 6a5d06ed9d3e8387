package export

import (
	"context"
	"path"
	"path/filepath"
	"strings"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/local"
)

// ObjectWriter is one output file being written; its bytes become visible
// under the final name only when Commit returns nil, so a reader never
// sees a half-written Parquet file.
type ObjectWriter = ingest.ObjectWriter

// Creator creates output files by name: a path relative to the output.
type Creator interface {
	Create(ctx context.Context, name string) (ObjectWriter, error)
}

// Prefixed is a Creator that writes into a store below a root: a local
// folder, or a URL prefix such as s3://bucket/flowsym/export.
type Prefixed struct {
	Store ingest.Store
	Root  string
}

// Under returns a Creator that writes into st below root.
func Under(st ingest.Store, root string) *Prefixed { return &Prefixed{Store: st, Root: root} }

// Full returns the store's name for the output file name.
func (u *Prefixed) Full(name string) string {
	if strings.Contains(u.Root, "://") {
		return strings.TrimSuffix(u.Root, "/") + "/" + path.Clean(name)
	}
	return filepath.Join(u.Root, filepath.FromSlash(name))
}

// Create implements Creator.
func (u *Prefixed) Create(ctx context.Context, name string) (ObjectWriter, error) {
	return u.Store.Create(ctx, u.Full(name))
}

// Dir writes under a local folder: each file goes to a hidden temporary
// name in its final folder and is renamed into place on Commit, which is
// atomic on one file system.
func Dir(folder string) *Prefixed { return Under(&local.Source{}, folder) }
