package normalize

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
)

// jsonScanner finds where JSON values end in a stream, without checking
// what is inside them: the walker hands each element to fastjson, which
// parses and checks it, so a second full tokenizer pass over every byte
// (a flow tuple string is most of an Azure document) would be wasted.
// It tracks only strings (and their escapes) and the nesting of brackets,
// which is enough to cut the stream into elements and to tell a document
// cut short from one that goes on.
type jsonScanner struct {
	r     io.Reader
	buf   []byte
	pos   int   // the next unread byte of buf
	base  int64 // input offset of buf[0]
	mark  int   // start of the value being scanned, kept by fill; -1 none
	err   error // the reader's error, once it returned one
	stack []byte
}

// errCut is a scanner error: the input ended inside a value.
var errCut = errors.New("the document is cut")

// jsonSyntaxError is malformed JSON the scanner itself sees.
type jsonSyntaxError struct {
	offset int64
	msg    string
}

func (e *jsonSyntaxError) Error() string { return e.msg }

func newJSONScanner(r io.Reader) *jsonScanner {
	return &jsonScanner{r: r, buf: make([]byte, 0, 64<<10), mark: -1}
}

// offset is the input offset of the next unread byte.
func (s *jsonScanner) offset() int64 { return s.base + int64(s.pos) }

// fill reads more input, keeping buf[mark:] (or buf[pos:]). It returns
// false when the reader has nothing more: s.err says why.
func (s *jsonScanner) fill() bool {
	if s.err != nil {
		return false
	}
	keep := s.pos
	if s.mark >= 0 {
		keep = s.mark
	}
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:])
		s.buf, s.base, s.pos = s.buf[:n], s.base+int64(keep), s.pos-keep
		if s.mark >= 0 {
			s.mark -= keep
		}
	}
	if len(s.buf) == cap(s.buf) {
		s.buf = slices.Grow(s.buf, cap(s.buf)) // a value longer than the buffer
	}
	for range 100 {
		n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+n]
		if err != nil {
			s.err = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
	s.err = io.ErrNoProgress
	return false
}

// peek skips whitespace and returns the next byte without consuming it;
// false at the end of the input or on a read error (s.err).
func (s *jsonScanner) peek() (byte, bool) {
	for {
		for ; s.pos < len(s.buf); s.pos++ {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\r', '\n':
			default:
				return c, true
			}
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// endErr describes why the input ended where a value was expected or
// inside one: a cut document, or the reader's own failure.
func (s *jsonScanner) endErr() error {
	if s.err == io.EOF {
		return errCut
	}
	return s.err
}

func (s *jsonScanner) syntax(format string, args ...any) error {
	return &jsonSyntaxError{offset: s.offset(), msg: fmt.Sprintf(format, args...)}
}

// value consumes the value that starts at the next non-space byte and
// returns its text, which aliases the buffer until the next call. The
// value's insides are not checked beyond brackets and strings.
func (s *jsonScanner) value() ([]byte, error) {
	c, ok := s.peek()
	if !ok {
		return nil, s.endErr()
	}
	s.mark = s.pos
	defer func() { s.mark = -1 }()
	if c != '{' && c != '[' && c != '"' {
		if err := s.scalar(); err != nil {
			return nil, err
		}
		return s.buf[s.mark:s.pos], nil
	}
	s.stack = s.stack[:0]
	for {
		if s.pos >= len(s.buf) && !s.fill() {
			return nil, s.endErr()
		}
		switch c := s.buf[s.pos]; c {
		case '"':
			if err := s.skipString(); err != nil {
				return nil, err
			}
		case '{':
			s.stack = append(s.stack, '}')
			s.pos++
		case '[':
			s.stack = append(s.stack, ']')
			s.pos++
		case '}', ']':
			if n := len(s.stack); n == 0 || s.stack[n-1] != c {
				return nil, s.syntax("invalid character %q: no %s open here", c, map[byte]string{'}': "object", ']': "array"}[c])
			}
			s.stack = s.stack[:len(s.stack)-1]
			s.pos++
		default:
			s.pos++
		}
		if len(s.stack) == 0 {
			return s.buf[s.mark:s.pos], nil
		}
	}
}

// skipString consumes a string whose opening quote is at s.pos.
func (s *jsonScanner) skipString() error {
	from := s.pos + 1 // where to look for the closing quote
	for {
		j := bytes.IndexByte(s.buf[from:], '"')
		if j < 0 {
			from = len(s.buf)
			start := s.pos
			if !s.fill() {
				return s.endErr()
			}
			from -= start - s.pos // fill moved the buffer
			continue
		}
		q := from + j
		escapes := 0
		for k := q - 1; k > s.pos && s.buf[k] == '\\'; k-- {
			escapes++
		}
		if escapes%2 == 0 {
			s.pos = q + 1
			return nil
		}
		from = q + 1
	}
}

// scalar consumes a number, true, false or null: up to the next
// delimiter. The element's parser checks its spelling.
func (s *jsonScanner) scalar() error {
	c := s.buf[s.pos]
	if !(c == '-' || '0' <= c && c <= '9' || c == 't' || c == 'f' || c == 'n') {
		return s.syntax("invalid character %q looking for the beginning of a value", c)
	}
	for {
		for ; s.pos < len(s.buf); s.pos++ {
			switch s.buf[s.pos] {
			case ',', ']', '}', ' ', '\t', '\r', '\n', '{', '[', '"', ':':
				return nil
			}
		}
		if !s.fill() {
			if s.err == io.EOF {
				return nil // a scalar may end the input
			}
			return s.err
		}
	}
}

// expect consumes byte c at the next non-space position.
func (s *jsonScanner) expect(c byte, what string) error {
	got, ok := s.peek()
	if !ok {
		return s.endErr()
	}
	if got != c {
		return s.syntax("invalid character %q %s", got, what)
	}
	s.pos++
	return nil
}
