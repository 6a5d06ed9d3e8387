package ingest

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// Store is a Source that can also write objects: outputs, and the small
// state file of a scheduled run.
type Store interface {
	Source
	// Create starts a new object, or a new version of an existing one. Its
	// bytes become visible, whole, only when Commit returns nil; until then
	// readers see the previous version or nothing. Abort, or the end of
	// ctx, discards them.
	Create(ctx context.Context, name string) (ObjectWriter, error)
}

// ObjectWriter receives the bytes of one object being created.
//
// Commit publishes the object and reports whether it is stored; Abort
// throws the bytes away. After either, Write and Commit fail and Abort
// returns nil, so `defer w.Abort()` is safe after a successful Commit.
type ObjectWriter interface {
	io.Writer
	Commit() error
	Abort() error
}

// ErrPrecondition is what a conditional write wraps when the object is no
// longer at the version the caller saw (another writer got there first).
var ErrPrecondition = errors.New("precondition failed")

// The optional interfaces below are implemented by every store in flowsym
// (local, s3, gcs, azblob); callers test for them with a type assertion so
// that a test double can stay small.

// Stater reports one object's metadata without reading it.
type Stater interface {
	// Stat returns the object's Object. A missing object is ErrNotFound.
	Stat(ctx context.Context, name string) (Object, error)
}

// RangeOpener reads part of an object: the state file of a scheduled run
// remembers how far it read an Azure blob that is still growing, and the
// next run reads only what was added.
type RangeOpener interface {
	// OpenRange returns length bytes of the object from offset, or all the
	// bytes from offset when length is negative. An offset at or past the
	// end gives an empty reader, not an error. The reader is pinned to one
	// version of the object, as Open's is.
	OpenRange(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error)
}

// ConditionalCreator writes an object only if it is still at the version
// the caller read: compare-and-swap for state files.
type ConditionalCreator interface {
	// CreateIf is Create with a precondition checked when the object is
	// committed: ifMatch is the ETag (on GCS, the generation) the object
	// must still have; the empty string means the object must not exist.
	// When the precondition fails Commit returns an error wrapping
	// ErrPrecondition and the stored object is unchanged.
	CreateIf(ctx context.Context, name, ifMatch string) (ObjectWriter, error)
}

// Versioned is implemented by the readers that Open and OpenRange return
// when the store versions its objects. A reader that resumes after a
// failure stays on that version, so a reader never splices two versions.
type Versioned interface {
	// ETag returns the ETag (on GCS, the generation) of the version read.
	ETag() string
}

// RetryPolicy bounds how hard a store tries. Requests are retried by each
// SDK's own retry machinery, configured from these numbers; a body that
// fails half-way is resumed by flowsym with a ranged request from the byte
// reached (see OpenResumable). Zero fields take the defaults below.
type RetryPolicy struct {
	// MaxAttempts is the number of tries of one request, the first
	// included. Default 8: with the default delays a throttled request
	// backs off for about half a minute in total before it fails.
	MaxAttempts int
	// BaseDelay is the backoff before the first retry; it doubles with
	// every retry up to MaxDelay. Defaults 200 ms and 20 s.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// Resumes is how many times one body read is resumed after the
	// connection failed mid-stream. Default 5.
	Resumes int
	// Timeout bounds the life of one opened object, from Open to the last
	// byte. Default 10 minutes: AWS writes objects of at most 75 MB, which
	// is 75 s at a slow 1 MB/s, so a healthy read never comes near it.
	Timeout time.Duration
	// StallTimeout aborts a response whose headers or next body bytes do
	// not arrive for this long; the body read is then resumed. Default 30 s.
	StallTimeout time.Duration
}

// Defaults returns p with every zero field set to its default.
func (p RetryPolicy) Defaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 8
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 200 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 20 * time.Second
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	if p.Resumes < 0 {
		p.Resumes = 0
	} else if p.Resumes == 0 {
		p.Resumes = 5
	}
	if p.Timeout <= 0 {
		p.Timeout = 10 * time.Minute
	}
	if p.StallTimeout <= 0 {
		p.StallTimeout = 30 * time.Second
	}
	return p
}

// requestBudget bounds one request with all its SDK retries: every
// attempt waiting StallTimeout for its headers, plus every backoff at its
// longest. With the defaults that is 4 min 25 s; it only matters when a
// transport has no response-header timeout of its own (GCS's).
func (p RetryPolicy) requestBudget() time.Duration {
	p = p.Defaults()
	d := time.Duration(p.MaxAttempts) * p.StallTimeout
	b := p.BaseDelay
	for range p.MaxAttempts - 1 {
		d += min(p.MaxDelay, b)
		if b < p.MaxDelay {
			b *= 2
		}
	}
	return d
}

// Backoff returns the pause before retry number retry (0 for the first):
// BaseDelay doubled per retry, capped at MaxDelay, with "equal jitter" (a
// random point in the upper half), so that many workers throttled at the
// same moment do not come back at the same moment, yet each waits at least
// half the nominal delay.
func (p RetryPolicy) Backoff(retry int) time.Duration {
	p = p.Defaults()
	d := p.MaxDelay
	if retry < 30 {
		if n := p.BaseDelay << retry; n > 0 && n < d {
			d = n
		}
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// OpError is a failure of one store operation on one object or prefix.
// Its text names the operation and the object and is scrubbed of anything
// that looks like a credential (SAS tokens and other query strings, user
// info in URLs, account keys), so it can go to logs and reports. It
// unwraps to the SDK's error so callers can still inspect it.
type OpError struct {
	Op   string // "open", "list", "read", "write", ...
	Name string // the object or prefix, as a URL or a local path
	// Msg, when set, replaces Err's text (SDK messages are often long and
	// multi-line); Err is still what Unwrap returns.
	Msg string
	Err error
}

func (e *OpError) Error() string {
	msg := e.Msg
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	return Scrub(e.Op + " " + e.Name + ": " + msg)
}

func (e *OpError) Unwrap() error { return e.Err }

// Fail builds an OpError marked with kind (nil for no class).
func Fail(kind error, op, name, msg string, err error) error {
	if err == nil && msg == "" {
		return nil
	}
	var e error = &OpError{Op: op, Name: name, Msg: msg, Err: err}
	if kind != nil {
		e = Mark(kind, e)
	}
	return e
}

var scrubbers = []struct {
	re   *regexp.Regexp
	with string
}{
	// Query strings of URLs carry SAS tokens, signed-URL signatures and
	// access tokens. Object URLs in flowsym never need one to be read.
	{regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://[^\s"'?#<>]*)\?[^\s"'#<>]*`), "$1?REDACTED"},
	// user:password@host
	{regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s"'@<>]*@`), "${1}REDACTED@"},
	// key=value secrets outside URLs (connection strings, logged headers).
	{regexp.MustCompile(`(?i)\b(SharedAccessSignature)=[^;\s"'<>]+`), "$1=REDACTED"},
	{regexp.MustCompile(`(?i)\b(AccountKey|sig|se|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|access_token|client_secret|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)=[^;&\s"'<>]+`), "$1=REDACTED"},
	{regexp.MustCompile(`(?i)\b(Authorization:\s*)\S.*`), "${1}REDACTED"},
}

// Scrub removes credentials from text meant for humans: query strings of
// URLs (SAS tokens), user info in URLs, and key=value secrets such as an
// Azure connection string's AccountKey.
func Scrub(s string) string {
	for _, sc := range scrubbers {
		s = sc.re.ReplaceAllString(s, sc.with)
	}
	return s
}

// IsNetworkError reports whether err is a failure of the connection
// rather than an answer from the store: refused, reset, timed out, cut.
func IsNetworkError(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// errWriterDone is returned by a writer used after Commit or Abort.
var errWriterDone = errors.New("object writer already committed or aborted")

// UploadWriter adapts an upload call that consumes an io.Reader (S3's
// upload manager, Azure's UploadStream) to an ObjectWriter: the upload runs
// in its own goroutine and reads what Write is given through a pipe, so
// memory stays bounded by the SDK's part buffers whatever the object's
// size. Both SDKs publish nothing unless the reader ends cleanly, which is
// what makes Abort safe: it fails the pipe and cancels the upload.
type UploadWriter struct {
	pw     *io.PipeWriter
	cancel context.CancelFunc
	done   chan struct{}
	err    error // the upload's result, valid after done

	mu       sync.Mutex
	finished bool
	wrap     func(error) error
}

// NewUploadWriter starts upload. wrap turns the upload's error into the
// error Commit returns (classification, the object's name).
func NewUploadWriter(ctx context.Context, upload func(ctx context.Context, body io.Reader) error, wrap func(error) error) *UploadWriter {
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	w := &UploadWriter{pw: pw, cancel: cancel, done: make(chan struct{}), wrap: wrap}
	go func() {
		defer close(w.done)
		err := upload(ctx, pr)
		if err == nil {
			// The SDK returned without reading to the end: nothing must
			// be published from a partial body, so this cannot happen
			// with the SDKs used; treat it as a failure all the same.
			if _, rerr := pr.Read(make([]byte, 1)); rerr != io.EOF {
				err = errors.New("upload finished before its body ended")
			}
		}
		w.err = err
		// Unblock a Write waiting on a reader that has gone.
		pr.CloseWithError(errors.Join(errUploadStopped, err))
	}()
	return w
}

var (
	errUploadStopped = errors.New("upload stopped")
	errAborted       = errors.New("upload aborted")
)

// Write implements io.Writer.
func (w *UploadWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	finished := w.finished
	w.mu.Unlock()
	if finished {
		return 0, errWriterDone
	}
	n, err := w.pw.Write(p)
	if err != nil {
		<-w.done
		return n, w.wrap(w.err)
	}
	return n, nil
}

// Commit ends the body and waits for the upload to be stored.
func (w *UploadWriter) Commit() error {
	w.mu.Lock()
	if w.finished {
		w.mu.Unlock()
		return errWriterDone
	}
	w.finished = true
	w.mu.Unlock()
	w.pw.Close()
	<-w.done
	w.cancel()
	if w.err != nil {
		return w.wrap(w.err)
	}
	return nil
}

// Abort fails the body, which makes the SDK give the upload up.
func (w *UploadWriter) Abort() error {
	w.mu.Lock()
	if w.finished {
		w.mu.Unlock()
		return nil
	}
	w.finished = true
	w.mu.Unlock()
	// Fail the body but keep the context alive while the SDK cleans up
	// (S3's manager aborts the multipart upload it started).
	w.pw.CloseWithError(errAborted)
	<-w.done
	w.cancel()
	return nil
}

// Deleter removes objects: a scheduled run removes the files of a run that
// was interrupted before it recorded them, so a rerun does not duplicate
// them. Deleting a missing object is not an error.
type Deleter interface {
	Delete(ctx context.Context, name string) error
}
