package main

import (
	"context"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/pflag"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/local"
	"github.com/flowsym/flowsym/ingest/stores"
	"github.com/flowsym/flowsym/normalize"
	"github.com/flowsym/flowsym/normalize/schema"
)

// inputFlags are the flags of every command that reads flow logs.
type inputFlags struct {
	inputFormat string
	awsFormat   string
	since       string
	until       string
	maxErrors   int64
	concurrency int
	progress    string
}

func (f *inputFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.inputFormat, "input-format", "auto",
		"format of every input object, instead of detecting it per object from its key and first bytes;\n"+
			"one of auto, "+formatList()+" (example: --input-format aws-text)")
	fs.StringVar(&f.awsFormat, "aws-format", "v2",
		"field order of AWS lines that come without a header line (CloudWatch Logs or Firehose exports):\n"+
			"v2 (the default format), tgw (the Transit Gateway default format), or the field names in order\n"+
			`(example: --aws-format "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status flow-direction")`)
	fs.StringVar(&f.since, "since", "",
		"read only records that end at or after this time, and skip objects whose key dates are all earlier;\n"+
			"RFC 3339, a date, or a duration back from now (examples: --since 2026-11-20T10:00:00Z, --since 2026-11-20, --since 1h)")
	fs.StringVar(&f.until, "until", "",
		"read only records that start before this time; same forms as --since (example: --until 2026-11-20T11:00:00Z)")
	fs.Int64Var(&f.maxErrors, "max-errors", 1000,
		"give up (exit code 3) after this many bad input records or objects; -1 never gives up, 0 gives up at the first\n"+
			"(example: --max-errors 0)")
	fs.StringVar(&f.progress, "progress", "auto",
		"progress on stderr: auto (a bar on a terminal, a line every 30s otherwise), bar, log or off (example: --progress off)")
	fs.IntVar(&f.concurrency, "concurrency", 0,
		"objects fetched and decoded at once; memory grows with it, not with object sizes; 0 picks the number of CPUs\n"+
			"for local files and 4 per CPU (8 to 64) for object stores (example: --concurrency 16)")
}

func formatList() string {
	var names []string
	for _, f := range normalize.Formats() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// arrowBatch names the batches stages pass along.
type arrowBatch = arrow.RecordBatch

// input is a planned read: where from, which window, how.
type input struct {
	env      *env
	progress string
	// skip, when set, says which objects to leave out or take only in part
	// (a scheduled run's state); onObject hears what each object gave.
	skip     func(ingest.Object) (bool, int64)
	onObject func(normalize.Job, normalize.ObjectResult)
	decoder  *normalize.Decoder
	problems *normalize.Problems
	span     ingest.Span
	workers  int
	roots    []root
	source   *local.Source
	pruned   atomic.Int64
}

// root is one SOURCE argument.
type root struct {
	arg   string
	local bool
}

func (f *inputFlags) plan(e *env, args []string) (*input, error) {
	if len(args) == 0 {
		return nil, usageError("no SOURCE given: name at least one file, folder or glob of flow logs")
	}
	format, err := normalize.ParseFormat(f.inputFormat)
	if err != nil {
		return nil, usageError("--input-format: %v", err)
	}
	awsFormat, err := normalize.ParseAWSFormat(f.awsFormat)
	if err != nil {
		return nil, usageError("--aws-format: %v", err)
	}
	if len(awsFormat.Unknown()) > 0 {
		return nil, usageError("--aws-format: unknown AWS flow-log fields %v", awsFormat.Unknown())
	}
	now := e.now()
	var span ingest.Span
	if span.Start, err = ingest.ParseTime(f.since, now); err != nil {
		return nil, usageError("--since: %v", err)
	}
	if span.End, err = ingest.ParseTime(f.until, now); err != nil {
		return nil, usageError("--until: %v", err)
	}
	if !span.Start.IsZero() && !span.End.IsZero() && !span.End.After(span.Start) {
		return nil, usageError("--until (%s) must be after --since (%s)", span.End.Format(time.RFC3339), span.Start.Format(time.RFC3339))
	}
	if f.concurrency < 0 {
		return nil, usageError("--concurrency must be 0 (automatic) or more")
	}
	roots := make([]root, 0, len(args))
	remote := false
	for _, a := range args {
		loc, err := stores.Parse(a)
		if err != nil {
			return nil, usageError("%v", err)
		}
		roots = append(roots, root{arg: a, local: loc.Scheme == stores.Local})
		remote = remote || loc.Scheme != stores.Local
	}
	workers := f.concurrency
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
		if remote {
			// Object stores answer in tens of milliseconds: more objects in
			// flight than CPUs keep the CPUs busy.
			workers = min(max(8, 4*workers), 64)
		}
	}
	switch f.progress {
	case "auto", "bar", "log", "off":
	default:
		return nil, usageError("--progress %q: want auto, bar, log or off", f.progress)
	}
	in := &input{
		env:      e,
		progress: f.progress,
		decoder:  normalize.NewDecoder(normalize.Options{Format: format, AWSHeaderless: awsFormat}),
		problems: normalize.NewProblems(f.maxErrors, 5),
		span:     span,
		workers:  workers,
		roots:    roots,
	}
	in.source = &local.Source{SkipDir: in.outside}
	return in, nil
}

// outside reports whether a key's dates put all its records outside the
// window, so the object or folder need not be read.
func (in *input) outside(key string) bool {
	if in.span.IsZero() {
		return false
	}
	ks, ok := ingest.KeySpan(key)
	if ok && !ks.Overlaps(in.span) {
		in.pruned.Add(1)
		return true
	}
	return false
}

func (in *input) window() schema.Window {
	var w schema.Window
	if !in.span.Start.IsZero() {
		w.Since = in.span.Start.UnixMicro()
	}
	if !in.span.End.IsZero() {
		w.Until = in.span.End.UnixMicro()
	}
	return w
}

// run decodes every object of every source into sink, which is called
// one batch at a time.
func (in *input) run(ctx context.Context, sink func(arrow.RecordBatch) error) error {
	return in.runWith(ctx, sink, false)
}

// runConcurrent is run with a sink that is safe for concurrent use.
func (in *input) runConcurrent(ctx context.Context, sink func(arrow.RecordBatch) error) error {
	return in.runWith(ctx, sink, true)
}

func (in *input) runWith(ctx context.Context, sink func(arrow.RecordBatch) error, concurrent bool) error {
	// Stores stay open until every object is decoded: the workers open
	// objects long after the listing that found them.
	opened := make([]remote, len(in.roots))
	defer func() {
		for _, r := range opened {
			if c, ok := r.st.(io.Closer); ok {
				c.Close()
			}
		}
	}()
	for i, r := range in.roots {
		if r.local {
			continue
		}
		st, prefix, err := stores.Open(ctx, r.arg, stores.Options{})
		if err != nil {
			return &exitError{code: exitFailure, err: err}
		}
		opened[i] = remote{st: st, prefix: prefix}
	}
	list := func(yield func(normalize.Job) error) error {
		for i, r := range in.roots {
			if err := in.list(ctx, r, opened[i], yield); err != nil {
				return &exitError{code: exitFailure, err: err}
			}
		}
		return nil
	}
	cfg := normalize.RunConfig{Workers: in.workers, Window: in.window(), Problems: in.problems,
		ConcurrentSink: concurrent, OnObject: in.onObject}
	stop := startProgress(in.env, in.progress, &in.decoder.Stats)
	defer stop()
	return in.decoder.Run(ctx, cfg, list, sink)
}

// remote is an opened object store and the prefix a SOURCE names in it.
type remote struct {
	st     ingest.Store
	prefix string
}

// list yields the objects of one SOURCE that can hold records in the
// window: local files, folders and globs are walked with their dated
// folders pruned; object stores are listed by the date prefixes of the
// window only.
func (in *input) list(ctx context.Context, r root, rem remote, yield func(normalize.Job) error) error {
	job := func(src ingest.Source, o ingest.Object) error {
		j := normalize.Job{Source: src, Object: o}
		if in.skip != nil {
			skip, lines := in.skip(o)
			if skip {
				return nil
			}
			j.SkipLines = lines
		}
		return yield(j)
	}
	if r.local {
		return in.source.List(ctx, r.arg, func(o ingest.Object) error {
			if in.outside(o.Name) {
				return nil
			}
			return job(in.source, o)
		})
	}
	return ingest.ListWindow(ctx, rem.st, rem.prefix, in.span, func(o ingest.Object) error {
		return job(rem.st, o)
	})
}
