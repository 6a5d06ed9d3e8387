package normalize

import (
	"encoding/binary"
	"math/bits"
)

// maxLineFields is the most fields a text line may have: AWS documents
// about 75, and a longer line cannot match any format.
const maxLineFields = 128

// fieldSpans holds where the fields of one line start and end. Offsets
// rather than sub-slices: a slice is a pointer, and storing 14 of them per
// line into memory the GC scans was half the cost of splitting.
type fieldSpans struct {
	line  []byte
	n     int // fields in the line; only the first maxLineFields are kept
	start [maxLineFields]int32
	end   [maxLineFields]int32
}

// field returns field i, which must be below min(n, maxLineFields).
func (s *fieldSpans) field(i int) []byte {
	return s.line[s.start[i]:s.end[i]:s.end[i]]
}

// all returns the kept fields as slices, for the rare paths (a header
// line) that want them so.
func (s *fieldSpans) all() [][]byte {
	out := make([][]byte, min(s.n, maxLineFields))
	for i := range out {
		out[i] = s.field(i)
	}
	return out
}

func (s *fieldSpans) add(start, end int) {
	if s.n < maxLineFields {
		s.start[s.n], s.end[s.n] = int32(start), int32(end)
	}
	s.n++
}

// splitBlanks splits line on runs of spaces and tabs (the AWS
// documentation's own examples contain double spaces). It looks at eight
// bytes at a time: a line has a separator every seven bytes or so, and a
// word-wide test finds it without a branch per byte.
func (s *fieldSpans) splitBlanks(line []byte) {
	s.line, s.n = line, 0
	start, i := 0, 0
	for ; i+8 <= len(line); i += 8 {
		for m := blankBytes(binary.LittleEndian.Uint64(line[i:])); m != 0; m &= m - 1 {
			j := i + bits.TrailingZeros64(m)>>3
			if j > start {
				s.add(start, j)
			}
			start = j + 1
		}
	}
	for ; i < len(line); i++ {
		if c := line[i]; c == ' ' || c == '\t' {
			if i > start {
				s.add(start, i)
			}
			start = i + 1
		}
	}
	if len(line) > start {
		s.add(start, len(line))
	}
}

// splitCommas splits line at every comma: an Azure flow tuple, whose
// empty fields count. Like splitBlanks it looks at eight bytes at a time.
func (s *fieldSpans) splitCommas(line []byte) {
	s.line, s.n = line, 0
	start, i := 0, 0
	for ; i+8 <= len(line); i += 8 {
		for m := zeroBytes(binary.LittleEndian.Uint64(line[i:]) ^ 0x2c2c2c2c2c2c2c2c); m != 0; m &= m - 1 {
			j := i + bits.TrailingZeros64(m)>>3
			s.add(start, j)
			start = j + 1
		}
	}
	for ; i < len(line); i++ {
		if line[i] == ',' {
			s.add(start, i)
			start = i + 1
		}
	}
	s.add(start, len(line))
}

const (
	low7 = 0x7f7f7f7f7f7f7f7f
	high = 0x8080808080808080
)

// blankBytes sets the high bit of every byte of x that is a space or a
// tab, and no other bit.
func blankBytes(x uint64) uint64 {
	return zeroBytes(x^0x2020202020202020) | zeroBytes(x^0x0909090909090909)
}

// zeroBytes sets the high bit of every zero byte of x. Adding 0x7f to the
// low seven bits carries into the high bit unless they are all zero; no
// carry crosses a byte, so the answer is exact for every byte.
func zeroBytes(x uint64) uint64 {
	return ^((x&low7 + low7) | x) & high
}
