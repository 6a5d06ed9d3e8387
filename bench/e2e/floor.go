package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/pgzip"
)

// floorChild inflates every .log.gz object under dir and counts its lines,
// objects in parallel on every core, with the reader flowsym decodes with
// (pgzip over klauspost's flate, the fastest pure-Go inflate), and prints
// the line count. Nothing is parsed: its time is a floor under any Go
// program that reads every record, so the harness can say how much of
// DuckDB's time reading alone already takes.
func floorChild(dir string) error {
	var objects []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".gz") {
			objects = append(objects, path)
		}
		return err
	})
	if err != nil {
		return err
	}
	var lines atomic.Int64
	var wg sync.WaitGroup
	next := make(chan string)
	errs := make(chan error, 1)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for path := range next {
				n, err := countLines(path)
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
				lines.Add(n)
			}
		})
	}
	for _, p := range objects {
		next <- p
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]int64{"lines": lines.Load()})
}

// countLines inflates one object and counts its lines.
func countLines(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := pgzip.NewReaderN(bufio.NewReaderSize(f, 64<<10), 256<<10, 4) // normalize's inflateBlock, inflateBlocks
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	defer zr.Close()
	buf := make([]byte, 256<<10)
	var n int64
	for {
		k, err := zr.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("%s: %w", path, err)
		}
	}
}
