package correlate

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"path/filepath"
)

// Partitions is the number of hash partitions connection state is split
// into when it spills to disk: at the end a run judges one partition at a
// time, so its memory is about 1/Partitions of the whole state.
const Partitions = 64

// partition returns the partition of a key under seed. Partitions only
// need to agree within one process (spill files are not shared), so the
// fast maphash serves; a distributed engine shuffles by the key itself.
func partition(seed maphash.Seed, k Key) int {
	return int(maphash.Comparable(seed, k) % Partitions)
}

// spiller writes connection state to one file per partition.
type spiller struct {
	dir   string
	files [Partitions]*os.File
	bufs  [Partitions]*bufio.Writer
	bytes int64
	runs  int
}

func newSpiller(parent string) (*spiller, error) {
	dir, err := os.MkdirTemp(parent, "flowsym-spill-*")
	if err != nil {
		return nil, fmt.Errorf("create spill folder: %w", err)
	}
	return &spiller{dir: dir}, nil
}

// write appends one key's state to its partition's file as a
// length-prefixed record.
func (sp *spiller) write(p int, k Key, ks *keyState, scratch []byte) ([]byte, error) {
	if sp.files[p] == nil {
		f, err := os.Create(filepath.Join(sp.dir, fmt.Sprintf("part-%02d.spill", p)))
		if err != nil {
			return scratch, fmt.Errorf("spill: %w", err)
		}
		sp.files[p], sp.bufs[p] = f, bufio.NewWriterSize(f, 64<<10)
	}
	rec, err := appendKeyState(scratch[:0], k, ks)
	if err != nil {
		return scratch, err
	}
	var n [binary.MaxVarintLen64]byte
	if _, err := sp.bufs[p].Write(n[:binary.PutUvarint(n[:], uint64(len(rec)))]); err != nil {
		return rec, fmt.Errorf("spill: %w", err)
	}
	if _, err := sp.bufs[p].Write(rec); err != nil {
		return rec, fmt.Errorf("spill: %w", err)
	}
	sp.bytes += int64(len(rec))
	return rec, nil
}

// load reads partition p back, merging the runs of each key.
func (sp *spiller) load(p int, gap int64, into map[Key]*keyState) error {
	if sp.files[p] == nil {
		return nil
	}
	if err := sp.bufs[p].Flush(); err != nil {
		return fmt.Errorf("spill: %w", err)
	}
	f, err := os.Open(sp.files[p].Name())
	if err != nil {
		return fmt.Errorf("read spill: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	names := intern{}
	var buf []byte
	for {
		n, err := binary.ReadUvarint(r)
		if err == io.EOF {
			return nil
		}
		if err != nil || n > 1<<30 {
			return fmt.Errorf("read spill %s: %w", f.Name(), errCorrupt)
		}
		buf = append(buf[:0], make([]byte, n)...)
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("read spill %s: %w", f.Name(), err)
		}
		k, ks, _, err := readKeyState(buf, names)
		if err != nil {
			return fmt.Errorf("read spill %s: %w", f.Name(), err)
		}
		if mine := into[k]; mine != nil {
			mine.merge(ks, gap)
		} else {
			into[k] = ks
		}
	}
}

// close removes the spill files.
func (sp *spiller) close() error {
	for _, f := range sp.files {
		if f != nil {
			f.Close()
		}
	}
	return os.RemoveAll(sp.dir)
}
