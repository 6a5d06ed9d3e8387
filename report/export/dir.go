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

// Under returns a Creator that writes into st below root: a local folder,
// or a URL prefix such as s3://bucket/flowsym/export.
func Under(st ingest.Store, root string) Creator { return &under{st: st, root: root} }

type under struct {
	st   ingest.Store
	root string
}

func (u *under) Create(ctx context.Context, name string) (ObjectWriter, error) {
	var full string
	switch {
	case strings.Contains(u.root, "://"):
		full = strings.TrimSuffix(u.root, "/") + "/" + path.Clean(name)
	default:
		full = filepath.Join(u.root, filepath.FromSlash(name))
	}
	return u.st.Create(ctx, full)
}

// Dir writes under a local folder: each file goes to a hidden temporary
// name in its final folder and is renamed into place on Commit, which is
// atomic on one file system.
func Dir(folder string) Creator { return Under(&local.Source{}, folder) }
