package normalize

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxLineBytes bounds one line. Flow-log lines are a few hundred bytes; a
// line past 1 MiB is garbage (or a binary file) and is skipped.
const maxLineBytes = 1 << 20

var errLineTooLong = errors.New("line longer than 1 MiB")

// lineReader returns lines without their terminator, numbered from 1. A
// returned line aliases an internal buffer until the next call.
type lineReader struct {
	r    *bufio.Reader
	long []byte
	n    int64
}

func newLineReader(r io.Reader) *lineReader {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &lineReader{r: br}
}

// next returns the next line and its number. A last line without a
// newline is still a line. At the clean end it returns io.EOF; a read error
// (a truncated gzip stream, say) is returned as is and the partial line
// before it is dropped, because it is cut. A line over maxLineBytes is
// consumed and reported as errLineTooLong; the reader stays usable.
func (lr *lineReader) next() ([]byte, int64, error) {
	line, err := lr.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		line, err = lr.readLong(line)
	}
	switch {
	case err == errLineTooLong:
		lr.n++
		return nil, lr.n, err
	case err != nil && err != io.EOF:
		return nil, lr.n, err
	case err == io.EOF && len(line) == 0:
		return nil, lr.n, io.EOF
	}
	lr.n++
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, lr.n, nil
}

func (lr *lineReader) readLong(first []byte) ([]byte, error) {
	lr.long = append(lr.long[:0], first...)
	tooLong := false
	for {
		part, err := lr.r.ReadSlice('\n')
		if !tooLong {
			lr.long = append(lr.long, part...)
			if len(lr.long) > maxLineBytes {
				tooLong = true
				lr.long = lr.long[:0]
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if tooLong && (err == nil || err == io.EOF) {
			return nil, errLineTooLong
		}
		return lr.long, err
	}
}
