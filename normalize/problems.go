package normalize

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Sentinels that classify bad input. A Problem wraps one of them, so
// callers and tests match the class with errors.Is.
var (
	// ErrMalformed: a line or record could not be parsed; it is skipped.
	ErrMalformed = errors.New("malformed record")
	// ErrUnknownField: a header names a field flowsym does not know; the
	// field is ignored (a warning, not an error).
	ErrUnknownField = errors.New("unknown field")
	// ErrDamaged: the object ends early or is corrupt (truncated gzip,
	// half-written JSON document); records before the damage are kept.
	ErrDamaged = errors.New("damaged object")
	// ErrUnknownFormat: the object's format could not be detected or its
	// version is not supported; the object is skipped.
	ErrUnknownFormat = errors.New("unknown format")
	// ErrUnreadable: the object could not be listed or opened.
	ErrUnreadable = errors.New("unreadable object")
	// ErrInternal: flowsym failed on this object (a recovered panic); it is
	// a bug and is reported as such.
	ErrInternal = errors.New("internal error")
	// ErrTooManyProblems: the error limit (--max-errors) was passed.
	ErrTooManyProblems = errors.New("too many input errors")
)

var problemClasses = []error{ErrMalformed, ErrUnknownField, ErrDamaged, ErrUnknownFormat, ErrUnreadable, ErrInternal}

// Problem is a bad-input report about one object, and about one line of it
// when Line > 0. It is an error that unwraps to its cause.
type Problem struct {
	Object string
	// Line is the 1-based line, or record index in a JSON document; 0 when
	// the problem is about the object as a whole.
	Line int64
	Err  error
}

func (p *Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", p.Object, p.Line, p.Err)
	}
	return fmt.Sprintf("%s: %v", p.Object, p.Err)
}

func (p *Problem) Unwrap() error { return p.Err }

// Class returns the sentinel the problem wraps, or ErrInternal.
func (p *Problem) Class() error {
	for _, c := range problemClasses {
		if errors.Is(p.Err, c) {
			return c
		}
	}
	return ErrInternal
}

// Warning reports whether the problem loses no data.
func (p *Problem) Warning() bool { return errors.Is(p.Err, ErrUnknownField) }

// lineErr builds a record-level cause: class, then what was wrong.
func lineErr(class error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", class, fmt.Sprintf(format, args...))
}

// Problems counts bad input and keeps the first few examples of each
// class. It is safe for concurrent use by the workers of one run.
type Problems struct {
	mu        sync.Mutex
	maxErrors int64
	keep      int
	counts    map[error]int64
	examples  []*Problem
	errors    int64
}

// NewProblems returns a collector that fails the run once more than
// maxErrors errors (not warnings) are added; a negative maxErrors means no
// limit. keep is the number of examples kept per class.
func NewProblems(maxErrors int64, keep int) *Problems {
	return &Problems{maxErrors: maxErrors, keep: keep, counts: map[error]int64{}}
}

// Add records p. It returns an error wrapping ErrTooManyProblems when the
// limit is passed; the caller stops the run.
func (ps *Problems) Add(p *Problem) error {
	class := p.Class()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.counts[class]++
	if ps.counts[class] <= int64(ps.keep) {
		ps.examples = append(ps.examples, p)
	}
	if p.Warning() {
		return nil
	}
	ps.errors++
	if ps.maxErrors >= 0 && ps.errors > ps.maxErrors {
		return fmt.Errorf("%w: more than %d (the last: %v)", ErrTooManyProblems, ps.maxErrors, p)
	}
	return nil
}

// Errors returns the number of errors (problems that lost data).
func (ps *Problems) Errors() int64 {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.errors
}

// Count returns the number of problems of one class.
func (ps *Problems) Count(class error) int64 {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.counts[class]
}

// Total returns the number of problems of every class, warnings included.
func (ps *Problems) Total() int64 {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var n int64
	for _, c := range ps.counts {
		n += c
	}
	return n
}

// Examples returns the kept problems, ordered by object and line.
func (ps *Problems) Examples() []*Problem {
	ps.mu.Lock()
	out := append([]*Problem(nil), ps.examples...)
	ps.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Object != out[j].Object {
			return out[i].Object < out[j].Object
		}
		return out[i].Line < out[j].Line
	})
	return out
}

// Summary is one line such as "3 malformed record, 1 damaged object".
func (ps *Problems) Summary() string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var parts []string
	for _, c := range problemClasses {
		if n := ps.counts[c]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %v", n, c))
		}
	}
	return strings.Join(parts, ", ")
}
