// Package gcs reads and writes flow-log objects in Google Cloud Storage
// through cloud.google.com/go/storage.
//
// Credentials are Google's application default credentials
// (GOOGLE_APPLICATION_CREDENTIALS, gcloud's, workload identity, the
// metadata server). STORAGE_EMULATOR_HOST points the client at an
// emulator, without authentication, as the library does by itself.
package gcs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"

	"github.com/flowsym/flowsym/ingest"
)

// Options configure a Bucket. The zero value is ready to use.
type Options struct {
	// Client, when set, is used as it is; New then makes no client, and
	// Close leaves it open.
	Client *storage.Client
	// PageSize is the number of objects per listing request; 0 means
	// 1,000, the most GCS returns.
	PageSize int
	// Retry bounds retries, resumptions and timeouts.
	Retry ingest.RetryPolicy
	// ChunkSize is the buffer of a writer (one chunk of a resumable
	// upload); 0 means 8 MiB.
	ChunkSize int
}

// Bucket is one GCS bucket. Object names are URLs: gs://bucket/name. The
// ETag of an object is its generation, which is what GCS preconditions
// take.
type Bucket struct {
	client    *storage.Client
	ownClient bool
	handle    *storage.BucketHandle
	base      ingest.Base // "gs://bucket/"
	pageSize  int
	retry     ingest.RetryPolicy
	chunkSize int
}

var (
	_ ingest.Store              = (*Bucket)(nil)
	_ ingest.Stater             = (*Bucket)(nil)
	_ ingest.RangeOpener        = (*Bucket)(nil)
	_ ingest.ConditionalCreator = (*Bucket)(nil)
	_ ingest.DirLister          = (*Bucket)(nil)
)

// New returns the bucket named bucket. Unless opts.Client is set, it makes
// a client with the application default credentials, which fails when
// there are none (and STORAGE_EMULATOR_HOST is not set).
func New(ctx context.Context, bucket string, opts Options) (*Bucket, error) {
	if bucket == "" {
		return nil, errors.New("gcs: empty bucket name")
	}
	p := opts.Retry.Defaults()
	b := &Bucket{client: opts.Client, base: ingest.Base("gs://" + bucket + "/"), pageSize: 1000, retry: p, chunkSize: 8 << 20}
	if opts.PageSize > 0 {
		b.pageSize = min(opts.PageSize, 1000)
	}
	if opts.ChunkSize > 0 {
		b.chunkSize = opts.ChunkSize
	}
	if b.client == nil {
		c, err := storage.NewClient(ctx)
		if err != nil {
			return nil, ingest.Fail(ingest.ErrPermission, "connect to", string(b.base),
				"no usable Google credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, workload identity, metadata server): "+err.Error(), err)
		}
		b.client, b.ownClient = c, true
	}
	// Retries through the library's own machinery, on this bucket's
	// handle only (a caller's client keeps its settings). Every operation
	// flowsym makes may be repeated: reads, listings, and writes of whole
	// objects, conditional or not.
	b.handle = b.client.Bucket(bucket).Retryer(
		storage.WithBackoff(gax.Backoff{Initial: p.BaseDelay, Max: p.MaxDelay, Multiplier: 2}),
		storage.WithMaxAttempts(p.MaxAttempts),
		storage.WithPolicy(storage.RetryAlways),
	)
	return b, nil
}

// Close closes the client New made.
func (b *Bucket) Close() error {
	if b.ownClient {
		return b.client.Close()
	}
	return nil
}

func etag(gen int64) string { return strconv.FormatInt(gen, 10) }

func (b *Bucket) object(a *storage.ObjectAttrs) ingest.Object {
	return ingest.Object{Name: b.base.URL(a.Name), Size: a.Size, ETag: etag(a.Generation), Modified: a.Updated}
}

// List implements ingest.Source.
func (b *Bucket) List(ctx context.Context, prefix string, fn func(ingest.Object) error) error {
	return b.list(ctx, prefix, "", fn)
}

// ListDir implements ingest.DirLister.
func (b *Bucket) ListDir(ctx context.Context, prefix string, fn func(ingest.Object) error) error {
	return b.list(ctx, prefix, "/", fn)
}

func (b *Bucket) list(ctx context.Context, prefix, delimiter string, fn func(ingest.Object) error) error {
	key, err := b.base.Key(prefix)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	q := &storage.Query{Prefix: key, Delimiter: delimiter}
	if err := q.SetAttrSelection([]string{"Name", "Size", "Generation", "Updated"}); err != nil {
		return err
	}
	it := b.handle.Objects(ctx, q)
	// GCS caps pages at 1,000; emulators do not, so say it.
	it.PageInfo().MaxSize = b.pageSize
	for {
		a, err := it.Next()
		if err == iterator.Done {
			return nil
		}
		if err != nil {
			return classify("list", b.base.URL(key), err)
		}
		var o ingest.Object
		switch {
		case a.Prefix != "":
			o = ingest.Object{Name: b.base.URL(a.Prefix)}
		case strings.HasSuffix(a.Name, "/"):
			continue // a "folder" placeholder
		default:
			o = b.object(a)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
}

// Stat implements ingest.Stater.
func (b *Bucket) Stat(ctx context.Context, name string) (ingest.Object, error) {
	key, err := b.base.ObjectKey("stat", name)
	if err != nil {
		return ingest.Object{}, err
	}
	a, err := b.handle.Object(key).Attrs(ctx)
	if err != nil {
		return ingest.Object{}, classify("stat", b.base.URL(key), err)
	}
	return b.object(a), nil
}

// Open implements ingest.Source. It reads the bytes as stored, even of an
// object with Content-Encoding gzip that GCS would otherwise decompress.
func (b *Bucket) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	return b.OpenRange(ctx, name, 0, -1)
}

// OpenRange implements ingest.RangeOpener.
func (b *Bucket) OpenRange(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	key, err := b.base.ObjectKey("open", name)
	if err != nil {
		return nil, err
	}
	return ingest.OpenRange(ctx, b.base.URL(key), offset, length, b.retry, b.fetch(key))
}

func (b *Bucket) fetch(key string) ingest.Fetch {
	name := b.base.URL(key)
	return func(ctx context.Context, start, end int64, version string) (ingest.Fetched, error) {
		obj := b.handle.Object(key).ReadCompressed(true)
		if version != "" {
			gen, err := strconv.ParseInt(version, 10, 64)
			if err != nil {
				return ingest.Fetched{}, fmt.Errorf("open %s: bad generation %q", name, version)
			}
			obj = obj.Generation(gen)
		}
		length := int64(-1)
		if end >= 0 {
			length = end - start
		}
		r, err := obj.NewRangeReader(ctx, start, length)
		if err != nil {
			var ge *googleapi.Error
			if errors.As(err, &ge) && ge.Code == http.StatusRequestedRangeNotSatisfiable {
				return ingest.EmptyFetch(start), nil
			}
			return ingest.Fetched{}, classify("open", name, err)
		}
		return ingest.Fetched{Body: r, ETag: etag(r.Attrs.Generation), End: start + r.Remain()}, nil
	}
}

// Create implements ingest.Store. GCS makes an object visible only when
// its upload is finalized, which Commit does; Abort cancels the upload.
func (b *Bucket) Create(ctx context.Context, name string) (ingest.ObjectWriter, error) {
	return b.create(ctx, name, false, "")
}

// CreateIf implements ingest.ConditionalCreator with the generation
// preconditions of GCS (ifGenerationMatch, 0 for "does not exist").
func (b *Bucket) CreateIf(ctx context.Context, name, ifMatch string) (ingest.ObjectWriter, error) {
	return b.create(ctx, name, true, ifMatch)
}

func (b *Bucket) create(ctx context.Context, name string, conditional bool, ifMatch string) (ingest.ObjectWriter, error) {
	key, err := b.base.ObjectKey("create", name)
	if err != nil {
		return nil, err
	}
	obj := b.handle.Object(key)
	if conditional {
		if ifMatch == "" {
			obj = obj.If(storage.Conditions{DoesNotExist: true})
		} else {
			gen, err := strconv.ParseInt(ifMatch, 10, 64)
			if err != nil {
				return nil, ingest.Mark(ingest.ErrPrecondition, fmt.Errorf("create %s: %q is not a GCS generation", b.base.URL(key), ifMatch))
			}
			obj = obj.If(storage.Conditions{GenerationMatch: gen})
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	w := obj.NewWriter(wctx)
	w.ChunkSize = b.chunkSize
	return &writer{w: w, cancel: cancel, name: b.base.URL(key)}, nil
}

type writer struct {
	w      *storage.Writer
	cancel context.CancelFunc
	name   string
	done   bool
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("write %s: writer already committed or aborted", w.name)
	}
	n, err := w.w.Write(p)
	if err != nil {
		return n, classify("write", w.name, err)
	}
	return n, nil
}

func (w *writer) Commit() error {
	if w.done {
		return fmt.Errorf("commit %s: writer already committed or aborted", w.name)
	}
	w.done = true
	err := w.w.Close()
	w.cancel()
	return classify("write", w.name, err)
}

func (w *writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.cancel() // before Close, so the upload is not finalized
	w.w.Close()
	return nil
}

// classify wraps a library error as an OpError marked with its class; a
// context error is returned as it is (see s3.classify).
func classify(op, name string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var kind error
	msg := err.Error()
	var ge *googleapi.Error
	switch {
	case errors.Is(err, storage.ErrObjectNotExist), errors.Is(err, storage.ErrBucketNotExist):
		kind = ingest.ErrNotFound
	case errors.As(err, &ge):
		msg = describe(ge)
		switch c := ge.Code; {
		case c == http.StatusNotFound:
			kind = ingest.ErrNotFound
		case c == http.StatusUnauthorized || c == http.StatusForbidden:
			kind = ingest.ErrPermission
		case c == http.StatusPreconditionFailed:
			kind = ingest.ErrPrecondition
		case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
			kind = ingest.ErrTransient
		}
	case strings.Contains(msg, "credentials") || strings.Contains(msg, "oauth2"):
		kind = ingest.ErrPermission
	case storage.ShouldRetry(err) || errors.Is(err, io.ErrUnexpectedEOF):
		kind = ingest.ErrTransient
	}
	return ingest.Fail(kind, op, name, msg, err)
}

var (
	jsonMessage = regexp.MustCompile(`"message"\s*:\s*"([^"]*)"`)
	xmlCode     = regexp.MustCompile(`<Code>([^<]*)</Code>`)
	xmlMessage  = regexp.MustCompile(`<Message>([^<]*)</Message>`)
)

// describe renders a GCS error as its code, message and status, on one
// line. The XML API (reads) leaves the message in the body.
func describe(ge *googleapi.Error) string {
	msg := ge.Message
	if msg == "" {
		if m := jsonMessage.FindStringSubmatch(ge.Body); m != nil {
			msg = m[1]
		} else if m := xmlMessage.FindStringSubmatch(ge.Body); m != nil {
			msg = m[1]
			if c := xmlCode.FindStringSubmatch(ge.Body); c != nil {
				msg = c[1] + ": " + msg
			}
		}
	}
	if msg == "" {
		msg = http.StatusText(ge.Code)
	}
	return fmt.Sprintf("%s (HTTP %d)", msg, ge.Code)
}

var _ ingest.Deleter = (*Bucket)(nil)

// Delete implements ingest.Deleter.
func (b *Bucket) Delete(ctx context.Context, name string) error {
	key, err := b.base.Key(name)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if err := b.handle.Object(key).Delete(ctx); err != nil {
		if err := classify("delete", b.base.URL(key), err); !errors.Is(err, ingest.ErrNotFound) {
			return err
		}
	}
	return nil
}
