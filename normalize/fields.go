package normalize

import (
	"encoding/binary"
	"math"
	"math/bits"
	"net/netip"
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

// add records the field [start, end) as the n-th and returns n+1. The
// count lives in a local of the caller, not in s, so that the compiler
// keeps it in a register.
func (s *fieldSpans) add(n, start, end int) int {
	if n < maxLineFields {
		s.start[n], s.end[n] = int32(start), int32(end)
	}
	return n + 1
}

// splitBlanks splits line on runs of spaces and tabs (the AWS
// documentation's own examples contain double spaces). It looks at eight
// bytes at a time: a line has a separator every seven bytes or so, and a
// word-wide test finds it without a branch per byte.
func (s *fieldSpans) splitBlanks(line []byte) {
	n, start, i := 0, 0, 0
	for ; i+8 <= len(line); i += 8 {
		for m := blankBytes(binary.LittleEndian.Uint64(line[i:])); m != 0; m &= m - 1 {
			j := i + bits.TrailingZeros64(m)>>3
			if j > start {
				n = s.add(n, start, j)
			}
			start = j + 1
		}
	}
	for ; i < len(line); i++ {
		if c := line[i]; c == ' ' || c == '\t' {
			if i > start {
				n = s.add(n, start, i)
			}
			start = i + 1
		}
	}
	if len(line) > start {
		n = s.add(n, start, len(line))
	}
	s.line, s.n = line, n
}

// splitCommas splits line at every comma: an Azure flow tuple, whose
// empty fields count. Like splitBlanks it looks at eight bytes at a time.
func (s *fieldSpans) splitCommas(line []byte) {
	n, start, i := 0, 0, 0
	for ; i+8 <= len(line); i += 8 {
		for m := zeroBytes(binary.LittleEndian.Uint64(line[i:]) ^ 0x2c2c2c2c2c2c2c2c); m != 0; m &= m - 1 {
			j := i + bits.TrailingZeros64(m)>>3
			n = s.add(n, start, j)
			start = j + 1
		}
	}
	for ; i < len(line); i++ {
		if line[i] == ',' {
			n = s.add(n, start, i)
			start = i + 1
		}
	}
	s.line, s.n = line, s.add(n, start, len(line))
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

// parseAddrBytes parses an IPv4 or IPv6 address into the 16 bytes the
// schema stores (IPv4 mapped into IPv6; see schema.Builder.Addr16). Zones
// are refused: a flow log never has one. netip decides every
// case; dotted quads, two in most records, first take a path that costs a
// quarter of netip's instructions and accepts only what netip accepts
// (FuzzParseAddrBytes holds it to that).
func parseAddrBytes(s []byte) ([16]byte, bool) {
	if a, ok := parseDottedQuad(s); ok {
		return a, true
	}
	a, err := netip.ParseAddr(bstr(s))
	if err != nil || a.Zone() != "" {
		return [16]byte{}, false
	}
	return a.As16(), true
}

// parseDottedQuad parses the canonical IPv4 form: four decimal octets
// without leading zeros. It says false for anything else, valid or not.
func parseDottedQuad(s []byte) ([16]byte, bool) {
	ip := [16]byte{10: 0xff, 11: 0xff}
	i := 0
	for k := 12; k < 16; k++ {
		if k > 12 {
			if i >= len(s) || s[i] != '.' {
				return [16]byte{}, false
			}
			i++
		}
		if i >= len(s) || s[i]-'0' > 9 {
			return [16]byte{}, false
		}
		v := uint(s[i] - '0')
		i++
		// An octet that starts with 0 is 0: "01" is not an octet.
		for n := 1; v != 0 && n < 3 && i < len(s) && s[i]-'0' <= 9; n++ {
			v = v*10 + uint(s[i]-'0')
			i++
		}
		if v > 255 {
			return [16]byte{}, false
		}
		ip[k] = byte(v)
	}
	if i != len(s) {
		return [16]byte{}, false
	}
	return ip, true
}

// parseUint parses decimal digits, rejecting signs, empty input and
// overflow of uint64. Eight digits at a time where there are eight: an
// AWS record's account id and two Unix times are ten digits or more.
func parseUint(s []byte) (uint64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	if len(s) == 20 {
		return parseUint20(s)
	}
	// 19 digits cannot overflow: no check per digit.
	var v uint64
	for ; len(s) >= 8; s = s[8:] {
		n, ok := eightDigits(binary.LittleEndian.Uint64(s))
		if !ok {
			return 0, false
		}
		v = v*1e8 + n
	}
	for _, c := range s {
		d := uint64(c - '0')
		if d > 9 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// eightDigits parses eight ASCII digits packed little-endian in x (the
// first digit in the low byte). Every byte must be 0x30-0x39: its high
// nibble 3, and its low nibble still below 0xA after adding 6.
func eightDigits(x uint64) (uint64, bool) {
	const nibbles, zeros, six = 0xf0f0f0f0f0f0f0f0, 0x3030303030303030, 0x0606060606060606
	if x&nibbles != zeros || (x+six)&nibbles != zeros {
		return 0, false
	}
	x -= zeros
	x = (x*10 + x>>8) & 0x00ff00ff00ff00ff      // pairs: 10*first + second
	x = (x*100 + x>>16) & 0x0000ffff0000ffff    // fours
	return (x*10000 + x>>32) & 0xffffffff, true // eight
}

// parseUint20 parses a 20-digit number, which may overflow uint64.
func parseUint20(s []byte) (uint64, bool) {
	var v uint64
	for _, c := range s {
		d := uint64(c - '0')
		if d > 9 || v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}
