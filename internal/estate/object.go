package estate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/gzip"
)

// object is one flow-log object being written: a file under dir/logs,
// gzip-compressed for AWS, plain JSON for GCP and Azure, as each cloud
// delivers them. Writes go through a buffer; errors are sticky and come
// back from close.
type object struct {
	f       *os.File
	gz      *gzip.Writer
	w       *bufio.Writer
	records int64
	err     error
}

// objects creates objects and keeps the counts that Truth reports.
type objects struct {
	root    string // dir/logs
	dirs    map[string]bool
	created int
	records int64
	bytes   int64
}

func newObjects(root string) *objects {
	return &objects{root: root, dirs: map[string]bool{}}
}

// create opens rel (a slash-separated key under the logs folder).
func (o *objects) create(rel string, compress bool) (*object, error) {
	p := filepath.Join(o.root, filepath.FromSlash(rel))
	if d := filepath.Dir(p); !o.dirs[d] {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create object folder: %w", err)
		}
		o.dirs[d] = true
	}
	f, err := os.Create(p)
	if err != nil {
		return nil, fmt.Errorf("create object: %w", err)
	}
	ob := &object{f: f}
	var dst io.Writer = f
	if compress {
		// BestSpeed: generation is bound by compression at benchmark
		// scale, and the ratio does not matter to anyone reading the
		// objects. The header carries no name or time, so the bytes
		// depend on the records alone.
		ob.gz, err = gzip.NewWriterLevel(f, gzip.BestSpeed)
		if err != nil {
			f.Close()
			return nil, err
		}
		dst = ob.gz
	}
	ob.w = bufio.NewWriterSize(dst, 128<<10)
	o.created++
	return ob, nil
}

func (ob *object) write(p []byte) {
	if ob.err == nil {
		_, ob.err = ob.w.Write(p)
	}
}

func (ob *object) writeString(s string) {
	if ob.err == nil {
		_, ob.err = ob.w.WriteString(s)
	}
}

// close flushes and closes the object and adds its counts to o.
func (o *objects) close(ob *object) error {
	err := ob.err
	if err == nil {
		err = ob.w.Flush()
	}
	if ob.gz != nil {
		err = errors.Join(err, ob.gz.Close())
	}
	if err == nil {
		if st, serr := ob.f.Stat(); serr == nil {
			o.bytes += st.Size()
		}
	}
	err = errors.Join(err, ob.f.Close())
	o.records += ob.records
	if err != nil {
		return fmt.Errorf("write %s: %w", ob.f.Name(), err)
	}
	return nil
}
