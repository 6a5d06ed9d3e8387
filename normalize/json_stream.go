package normalize

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/go-json-experiment/json/jsontext"
)

// jsonElem is one element of a JSON object stream: an element of the
// wrapper array ({"records": [...]} for Azure, {"entries": [...]} or a bare
// array for GCP), or a top-level object that is itself an element.
type jsonElem struct {
	// raw is the element's JSON text. It aliases the scanner's buffer
	// and is valid only until the callback returns.
	raw []byte
	// ordinal is the 1-based position of the element among all elements
	// of the object.
	ordinal int64
	// index is the 0-based index in the wrapper array, or -1 for a
	// top-level value.
	index int64
	// offset is the byte offset where the element starts.
	offset int64
	// wrapper names the array the element is in, for messages.
	wrapper string
}

// where names the element the way a jq user finds it: records[3].
func (e *jsonElem) where() string {
	if e.index < 0 {
		return fmt.Sprintf("the top-level object at byte %d", e.offset)
	}
	return e.wrapper + "[" + strconv.FormatInt(e.index, 10) + "] at byte " + strconv.FormatInt(e.offset, 10)
}

// jsonWalker streams the elements of a JSON object with a scanner, so
// that a document of hundreds of megabytes is never held whole: memory is
// bounded by the largest single element. It accepts, in one stream:
//
//	{"<wrapper>": [elem, elem, ...], ...}   the Azure PT1H.json layout
//	[elem, elem, ...]                        gcloud logging read --format=json
//	elem elem ...                            concatenated or pretty-printed objects
//
// where a top-level object without the wrapper key is itself an element
// (Azure's single unwrapped record, one pretty-printed LogEntry). The
// walker checks the structure around the elements; each element's own
// text is checked by the fastjson parse of whoever takes it.
type jsonWalker struct {
	in      *jsonScanner
	wrapper string
	nouns   [2]string // what an element is called, singular and plural
	fn      func(*jsonElem) error
	// measure, when set, returns the length of the array element that buf
	// starts with, or 0: a parser that reads its elements strictly can
	// find where one ends itself, sparing the scanner's pass over it. It
	// is given what the scanner has buffered, so an element that does not
	// lie whole in the buffer is left to the scanner.
	measure func(buf []byte) int
	elem    jsonElem
	rebuilt []byte
	seen    int64 // elements handed to fn
}

func newJSONWalker(r io.Reader, wrapper string, nouns [2]string, fn func(*jsonElem) error) *jsonWalker {
	return &jsonWalker{in: newJSONScanner(r), wrapper: wrapper, nouns: nouns, fn: fn}
}

// walk hands every element to fn. It returns fn's error, or an error
// wrapping ErrDamaged when the document is cut or is not valid JSON past
// some point; the elements before that point have been handed over.
func (w *jsonWalker) walk(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, ok := w.in.peek()
		if !ok {
			if w.in.err == io.EOF {
				return nil
			}
			return w.damaged(w.in.err, "")
		}
		switch c {
		case '[':
			w.in.pos++
			if err := w.array(ctx, "the top-level array"); err != nil {
				return err
			}
		case '{':
			if err := w.object(ctx); err != nil {
				return err
			}
		default:
			off := w.in.offset()
			if _, err := w.in.value(); err != nil {
				return w.damaged(err, "")
			}
			return fmt.Errorf("%w: the value at byte %d is not a JSON object or array", ErrUnknownFormat, off)
		}
	}
}

// array hands over the elements of an array whose '[' has been read.
func (w *jsonWalker) array(ctx context.Context, name string) error {
	for index := int64(0); ; index++ {
		c, ok := w.in.peek()
		switch {
		case !ok && index == 0:
			return w.damaged(w.in.endErr(), "at the start of "+name)
		case !ok:
			// Cut between two elements: every element read so far is
			// complete, but the array was never closed.
			return w.damaged(w.in.endErr(), fmt.Sprintf("after %s[%d], before %s is closed", name, index-1, name))
		case c == ']':
			w.in.pos++
			return nil
		case index > 0 && c != ',':
			return w.damaged(w.in.syntax("invalid character %q after an array element (expecting ',' or ']')", c), fmt.Sprintf("after %s[%d]", name, index-1))
		case index > 0:
			w.in.pos++
		}
		if c, ok := w.in.peek(); ok && c == ']' {
			return w.damaged(w.in.syntax("invalid character ']' after ',' (expecting a value)"), fmt.Sprintf("after %s[%d]", name, index-1))
		}
		off := w.in.offset()
		raw, err := w.element()
		if err != nil {
			return w.damaged(err, fmt.Sprintf("in %s[%d]", name, index))
		}
		if index&63 == 63 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := w.hand(raw, index, name, off); err != nil {
			return err
		}
	}
}

// element reads the array element at the next non-space byte.
func (w *jsonWalker) element() ([]byte, error) {
	if w.measure != nil {
		if _, ok := w.in.peek(); ok {
			if n := w.measure(w.in.buf[w.in.pos:]); n > 0 {
				raw := w.in.buf[w.in.pos : w.in.pos+n]
				w.in.pos += n
				return raw, nil
			}
		}
	}
	return w.in.value()
}

func (w *jsonWalker) hand(raw []byte, index int64, name string, offset int64) error {
	w.seen++
	w.elem = jsonElem{raw: raw, ordinal: w.seen, index: index, offset: offset, wrapper: name}
	return w.fn(&w.elem)
}

// object reads a top-level object. A member named like the wrapper
// (ignoring case) that holds an array is streamed element by element; if
// there is none, the object is itself an element, rebuilt from its members
// (which are small: a single record).
func (w *jsonWalker) object(ctx context.Context) error {
	start := w.in.offset()
	w.in.pos++ // the '{'
	w.rebuilt = append(w.rebuilt[:0], '{')
	wrapped := false
	for first := true; ; first = false {
		c, ok := w.in.peek()
		if !ok {
			return w.damaged(w.in.endErr(), "in the top-level object")
		}
		if c == '}' {
			w.in.pos++
			if wrapped {
				return nil
			}
			if len(w.rebuilt) > 1 {
				w.rebuilt = w.rebuilt[:len(w.rebuilt)-1] // the last comma
			}
			w.rebuilt = append(w.rebuilt, '}')
			w.seen++
			w.elem = jsonElem{raw: w.rebuilt, ordinal: w.seen, index: -1, offset: start}
			return w.fn(&w.elem)
		}
		if !first {
			if err := w.in.expect(',', "after an object member (expecting ',' or '}')"); err != nil {
				return w.damaged(err, "in the top-level object")
			}
			c, _ = w.in.peek()
		}
		if c != '"' {
			return w.damaged(w.in.syntax("invalid character %q looking for the name of an object member", c), "in the top-level object")
		}
		name, err := w.in.value()
		if err != nil {
			return w.damaged(err, "in the top-level object")
		}
		isWrapper := !wrapped && quotedNameIs(name, w.wrapper)
		// The name's bytes are invalidated by the next read: copy first.
		// (Once the wrapper is found, rebuilt is never handed over.)
		w.rebuilt = append(w.rebuilt, name...)
		w.rebuilt = append(w.rebuilt, ':')
		if err := w.in.expect(':', "after an object member's name (expecting ':')"); err != nil {
			return w.damaged(err, "in the top-level object")
		}
		if c, ok := w.in.peek(); isWrapper && ok && c == '[' {
			wrapped = true
			w.in.pos++
			if err := w.array(ctx, w.wrapper); err != nil {
				return err
			}
			continue
		}
		val, err := w.in.value()
		if err != nil {
			return w.damaged(err, "in the top-level object")
		}
		if !wrapped {
			w.rebuilt = append(w.rebuilt, val...)
			w.rebuilt = append(w.rebuilt, ',')
		}
	}
}

// quotedNameIs compares a raw JSON string with name, ignoring ASCII case.
func quotedNameIs(raw []byte, name string) bool {
	if len(raw) < 2 {
		return false
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' {
			u, err := jsontext.AppendUnquote(nil, raw)
			return err == nil && equalFoldASCII(u, name)
		}
	}
	return equalFoldASCII(inner, name)
}

// damaged describes why the stream could not go on past where, keeping the
// elements before it.
func (w *jsonWalker) damaged(err error, where string) error {
	offset := w.in.offset()
	in := ""
	if where != "" {
		in = ", " + where
	}
	noun := w.nouns[1]
	if w.seen == 1 {
		noun = w.nouns[0]
	}
	kept := fmt.Sprintf("; kept the %d complete %s before it", w.seen, noun)
	se, syntax := errors.AsType[*jsonSyntaxError](err)
	if syntax {
		offset = se.offset
	}
	switch {
	case errors.Is(err, errCut):
		offset = w.in.base + int64(len(w.in.buf)) // the end of the input
		return fmt.Errorf("%w: the document is cut at byte %d%s%s", ErrDamaged, offset, in, kept)
	case syntax:
		return fmt.Errorf("%w: invalid JSON at byte %d%s: %v%s", ErrDamaged, offset, in, err, kept)
	}
	// The reader under the scanner failed (a truncated gzip stream).
	return fmt.Errorf("%w: read failed at byte %d%s: %w%s", ErrDamaged, offset, in, err, kept)
}
