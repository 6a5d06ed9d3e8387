package normalize

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync/atomic"

	"github.com/klauspost/pgzip"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/normalize/schema"
)

// Options configure a Decoder.
type Options struct {
	// Format forces the format of every object; FormatUnknown detects it
	// per object.
	Format Format
	// AWSHeaderless is the format of AWS text lines before any header
	// line (CloudWatch Logs and Firehose exports). Nil means version 2.
	AWSHeaderless *AWSFormat
	// TempDir holds spooled copies of objects that need random access
	// (Parquet read from a stream). Empty means the system default.
	TempDir string
}

// Stats counts what a Decoder read. The fields are updated atomically and
// may be read while a run is going.
type Stats struct {
	Objects  atomic.Int64 // objects opened
	Bytes    atomic.Int64 // stored (compressed) bytes read
	Records  atomic.Int64 // rows committed
	Filtered atomic.Int64 // rows outside the time window
}

// Decoder opens objects, undoes their compression, detects their format
// and runs the matching Parser. It is safe for concurrent use.
type Decoder struct {
	opts    Options
	parsers map[Format]Parser
	Stats   Stats
}

// NewDecoder returns a decoder with every parser flowsym has.
func NewDecoder(opts Options) *Decoder {
	return &Decoder{
		opts: opts,
		parsers: map[Format]Parser{
			FormatAWSText:    &AWSText{Headerless: opts.AWSHeaderless},
			FormatAWSParquet: &AWSParquet{},
			FormatGCPVPC:     &GCPVPC{},
			FormatGCPNAT:     &GCPNAT{},
			FormatAzureNSG:   &AzureNSG{},
			FormatAzureVNet:  &AzureVNet{},
		},
	}
}

// sniffBytes is how much of an object detection looks at: enough for an
// AWS header line with every field, or the first keys of a JSON document.
const sniffBytes = 4096

// Object decodes one object into b. Bad input inside the object goes to
// report; the returned error is non-nil only when the run must stop
// (context done, batch consumer failed, too many problems).
func (d *Decoder) Object(ctx context.Context, src ingest.Source, obj ingest.Object, b *schema.Builder, report func(*Problem) error) error {
	_, err := d.Job(ctx, Job{Source: src, Object: obj}, b, report)
	return err
}

// Job is Object for a job, and says what the object gave.
func (d *Decoder) Job(ctx context.Context, j Job, b *schema.Builder, report func(*Problem) error) (res ObjectResult, err error) {
	src, obj := j.Source, j.Object
	b.SetObject(obj.Name)
	b.SkipThrough(j.SkipLines)
	committed, filtered := b.Committed(), b.Filtered()
	retry := func(p *Problem) error {
		if errors.Is(p.Err, ingest.ErrTransient) || errors.Is(p.Err, ErrUnreadable) {
			res.Retry = true
		}
		return report(p)
	}
	defer func() {
		if r := recover(); r != nil {
			b.Discard()
			lost := ""
			if !b.Repair() {
				lost = " (rows of the current batch were lost)"
			}
			err = report(&Problem{Object: obj.Name, Err: fmt.Errorf("%w: panic%s: %v\n%s", ErrInternal, lost, r, debug.Stack())})
		}
		res.Rows, res.MaxLine = b.Committed()-committed, b.MaxLine()
		d.Stats.Records.Add(res.Rows)
		d.Stats.Filtered.Add(b.Filtered() - filtered)
	}()
	raw, err := src.Open(ctx, obj.Name)
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		err := retry(&Problem{Object: obj.Name, Err: fmt.Errorf("%w: %w", ErrUnreadable, err)})
		return res, err
	}
	defer raw.Close()
	d.Stats.Objects.Add(1)
	counted := &countingReader{r: raw, total: &d.Stats.Bytes}
	perr := d.parse(ctx, obj, raw, counted, b, retry)
	if perr == nil || isStop(perr) {
		return res, perr
	}
	err = retry(&Problem{Object: obj.Name, Err: perr})
	return res, err
}

// isStop tells errors that end the run from damage to one object.
func isStop(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, ErrTooManyProblems) || errors.As(err, new(*sinkError))
}

// sinkError marks a failure of the batch consumer: the run stops.
type sinkError struct{ err error }

func (e *sinkError) Error() string { return "batch consumer: " + e.err.Error() }
func (e *sinkError) Unwrap() error { return e.err }

func (d *Decoder) parse(ctx context.Context, obj ingest.Object, raw io.Reader, counted *countingReader, b *schema.Builder, report func(*Problem) error) error {
	br := bufio.NewReaderSize(counted, 64<<10)
	magic, _ := br.Peek(2)
	var r io.Reader = br
	compressed := len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	if compressed {
		zr, err := pgzip.NewReaderN(br, inflateBlock, inflateBlocks)
		if err != nil {
			return fmt.Errorf("%w: bad gzip header: %w", ErrDamaged, err)
		}
		defer zr.Close()
		r = zr
	}
	in := bufio.NewReaderSize(r, 64<<10)
	head, peekErr := in.Peek(sniffBytes)
	format := d.opts.Format
	if format == FormatUnknown {
		format = d.detect(obj.Name, head)
	}
	p, ok := d.parsers[format]
	if !ok {
		if format == FormatUnknown {
			if peekErr != nil && peekErr != io.EOF {
				return damaged(0, peekErr)
			}
			return fmt.Errorf("%w: not a flow-log format flowsym recognises (use --input-format to force one)", ErrUnknownFormat)
		}
		return fmt.Errorf("%w: no parser for %s yet", ErrUnknownFormat, format)
	}
	input := &Input{Name: obj.Name, R: in, Report: report}
	if format == FormatAWSParquet {
		ra, size, cleanup, err := d.randomAccess(raw, compressed, in, counted)
		if err != nil {
			return err
		}
		defer cleanup()
		input.Raw, input.Size = ra, size
	}
	return p.Parse(ctx, input, b)
}

// detect is DetectFormat, plus headerless AWS lines whose field count is
// that of the format the user gave for them.
func (d *Decoder) detect(name string, head []byte) Format {
	if f := DetectFormat(name, head); f != FormatUnknown {
		return f
	}
	if d.opts.AWSHeaderless != nil {
		line, _, _ := bytes.Cut(head, []byte("\n"))
		if len(bytes.Fields(line)) == d.opts.AWSHeaderless.Len() {
			return FormatAWSText
		}
	}
	return FormatUnknown
}

// randomAccess returns the object's decompressed bytes as an io.ReaderAt.
// A local, uncompressed file is used in place; anything else is spooled to
// a temporary file, so memory stays bounded whatever the object's size.
func (d *Decoder) randomAccess(raw io.Reader, compressed bool, in io.Reader, counted *countingReader) (RandomAccess, int64, func(), error) {
	if f, ok := raw.(*os.File); ok && !compressed {
		if st, err := f.Stat(); err == nil {
			// Read in place: count the whole file as read once.
			counted.total.Add(st.Size() - counted.n)
			return f, st.Size(), func() {}, nil
		}
	}
	tmp, err := os.CreateTemp(d.opts.TempDir, "flowsym-spool-*")
	if err != nil {
		return nil, 0, nil, fmt.Errorf("spool object for random access: %w", err)
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	n, err := io.Copy(tmp, in)
	if err != nil {
		cleanup()
		return nil, 0, nil, fmt.Errorf("%w: read failed: %w", ErrDamaged, err)
	}
	return tmp, n, cleanup, nil
}

// countingReader counts the stored bytes read, for progress and stats.
type countingReader struct {
	r     io.Reader
	n     int64
	total *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.total.Add(int64(n))
	return n, err
}

// Inflate runs on its own goroutine, inflateBlocks blocks of inflateBlock
// bytes ahead of the parser, so that one large object keeps two cores busy
// (inflate is single-threaded and about half the cost of a record). Each
// object being decoded holds up to inflateBlocks+1 blocks.
const (
	inflateBlock  = 256 << 10
	inflateBlocks = 4
)
