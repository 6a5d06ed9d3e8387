package normalize

import (
	"context"
	"io"

	"github.com/flowsym/flowsym/normalize/schema"
)

// Parser turns one object's decompressed bytes into normalized rows.
//
// Parse appends every good record to b and reports each bad one through
// in.Report, then goes on. It returns an error only when it cannot go on:
// the context is done, the batch consumer failed, Report asked to stop, or
// the object itself is cut or corrupt (then the records before the damage
// are already in b).
type Parser interface {
	Parse(ctx context.Context, in *Input, b *schema.Builder) error
}

// Input is one object handed to a Parser.
type Input struct {
	// Name is the object's name, as evidence shows it.
	Name string
	// R yields the decompressed bytes.
	R io.Reader
	// Raw gives random access to the decompressed bytes when the format
	// needs it (Parquet); nil otherwise.
	Raw RandomAccess
	// Size is the size of Raw.
	Size int64
	// Report receives bad-input problems. A non-nil result means stop.
	Report func(*Problem) error
}

func (in *Input) problem(line int64, err error) error {
	if in.Report == nil {
		return nil
	}
	return in.Report(&Problem{Object: in.Name, Line: line, Err: err})
}

// RandomAccess is what a format that needs seeking reads from.
type RandomAccess interface {
	io.ReaderAt
	io.Seeker
}
