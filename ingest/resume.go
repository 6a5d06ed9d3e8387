package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Fetch requests the bytes [start, end) of one object; end < 0 means to
// the end of the object. A non-empty etag pins the version: the store must
// then fail with ErrPrecondition or ErrNotFound if the object changed.
// Errors are classified (ErrNotFound, ErrPermission, ErrTransient), except
// context errors, which are returned as they are.
type Fetch func(ctx context.Context, start, end int64, etag string) (Fetched, error)

// Fetched is one response of a Fetch.
type Fetched struct {
	Body io.ReadCloser
	// ETag is the version being read (on GCS, the generation).
	ETag string
	// End is one past the offset of the last byte Body will deliver, or
	// -1 when the store did not say. A body that ends early is resumed.
	End int64
}

// EmptyFetch is what a Fetch returns for a range that starts at or past
// the end of the object.
func EmptyFetch(start int64) Fetched { return Fetched{Body: http.NoBody, End: start} }

// OpenResumable opens bytes [start, end) of the object name (end < 0: to
// its end) with fetch and returns a reader that survives connection
// failures: when a body read fails, or stalls for p.StallTimeout, it
// re-requests the rest from the byte offset reached, pinned to the same
// version, up to p.Resumes times with jittered backoff. So a reset
// connection neither loses nor repeats a byte. The whole read is bounded
// by p.Timeout.
//
// The first request's error is returned as is, classified by fetch. A read
// that cannot be completed fails with an OpError marked ErrTransient whose
// text says how far it got; it never wraps a context error unless ctx
// itself is done, because callers take those to mean "stop the run".
func OpenResumable(ctx context.Context, name string, start, end int64, p RetryPolicy, fetch Fetch) (io.ReadCloser, error) {
	p = p.Defaults()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if end >= 0 && end <= start {
		return &resumable{name: name, err: io.EOF, closed: true}, nil
	}
	objCtx, objCancel := context.WithTimeout(ctx, p.Timeout)
	r := &resumable{
		name:      name,
		policy:    p,
		fetch:     fetch,
		parent:    ctx,
		objCtx:    objCtx,
		objCancel: objCancel,
		off:       start,
		end:       end,
	}
	r.timer = time.AfterFunc(time.Hour, r.onStall)
	r.timer.Stop()
	err := r.open()
	// The SDK retried what failed; what it could not retry is a request
	// flowsym aborted because no response came within StallTimeout.
	for err != nil && r.wasStalled() && r.stopped() == nil && r.resumes < p.Resumes {
		if !r.sleep(r.policy.Backoff(r.resumes)) {
			break
		}
		r.resumes++
		err = r.open()
	}
	if err != nil {
		r.timer.Stop()
		err = r.contextual(err, "open")
		objCancel()
		return nil, err
	}
	return r, nil
}

// sleep waits d unless the object's context ends first.
func (r *resumable) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.objCtx.Done():
		return false
	case <-t.C:
		return true
	}
}

type resumable struct {
	name   string
	policy RetryPolicy
	fetch  Fetch

	parent    context.Context
	objCtx    context.Context
	objCancel context.CancelFunc
	timer     *time.Timer

	mu      sync.Mutex // guards cancel and stalled against the timer
	cancel  context.CancelFunc
	stalled bool

	body    io.ReadCloser
	etag    string
	off     int64
	end     int64 // exclusive; -1 until known
	resumes int
	pending error // a body error that came with data, handled next Read
	err     error // sticky result
	closed  bool
}

var _ Versioned = (*resumable)(nil)

func (r *resumable) ETag() string { return r.etag }

// open requests the rest of the object from r.off.
func (r *resumable) open() error {
	actx, cancel := context.WithCancel(r.objCtx)
	// The timer also bounds the request, SDK retries included, in case
	// the SDK's transport has no response-header timeout of its own.
	r.setAttempt(cancel)
	r.timer.Reset(r.policy.requestBudget())
	f, err := r.fetch(actx, r.off, r.end, r.etag)
	r.timer.Stop()
	if err != nil {
		cancel()
		return err
	}
	r.body = f.Body
	if r.etag == "" {
		r.etag = f.ETag
	}
	if f.End >= 0 && (r.end < 0 || f.End < r.end) {
		r.end = f.End
	}
	return nil
}

func (r *resumable) setAttempt(cancel context.CancelFunc) {
	r.mu.Lock()
	r.cancel = cancel
	r.stalled = false
	r.mu.Unlock()
}

func (r *resumable) onStall() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stalled = true
	if r.cancel != nil {
		r.cancel()
	}
}

func (r *resumable) wasStalled() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stalled
}

func (r *resumable) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		var n int
		err := r.pending
		r.pending = nil
		if err == nil {
			if r.end >= 0 && r.off >= r.end {
				return 0, r.finish()
			}
			if r.end >= 0 && int64(len(p)) > r.end-r.off {
				p = p[:r.end-r.off] // never deliver bytes past the range
			}
			r.timer.Reset(r.policy.StallTimeout)
			n, err = r.body.Read(p)
			r.timer.Stop()
			r.off += int64(n)
		}
		switch {
		case err == nil:
			return n, nil
		case err == io.EOF && (r.end < 0 || r.off >= r.end):
			r.err = io.EOF
			return n, io.EOF
		case err == io.EOF:
			err = fmt.Errorf("body ended %d bytes early: %w", r.end-r.off, io.ErrUnexpectedEOF)
		}
		if n > 0 {
			r.pending = err
			return n, nil
		}
		if rerr := r.resume(err); rerr != nil {
			r.err = rerr
			return 0, rerr
		}
	}
}

// finish reads the body once more after its last byte, so that a body
// that checks something at its end (S3's checksum) can report it. Bytes
// past the range asked for are ignored.
func (r *resumable) finish() error {
	var one [1]byte
	r.timer.Reset(r.policy.StallTimeout)
	_, err := r.body.Read(one[:])
	r.timer.Stop()
	if err == nil || err == io.EOF {
		r.err = io.EOF
		return io.EOF
	}
	if serr := r.stopped(); serr != nil {
		r.err = serr
		return serr
	}
	if r.wasStalled() {
		err = fmt.Errorf("no end of body after %v", r.policy.StallTimeout)
	}
	r.err = Fail(nil, "read", r.name, "", detach(err))
	return r.err
}

// resume re-opens the object at r.off after cause broke the body.
func (r *resumable) resume(cause error) error {
	if r.wasStalled() {
		cause = fmt.Errorf("no bytes for %v", r.policy.StallTimeout)
	}
	if err := r.stopped(); err != nil {
		return err
	}
	if r.end >= 0 && r.off >= r.end {
		// Every byte arrived and then the body failed: a checksum check
		// at the end, say. Resuming would only read nothing.
		return Fail(nil, "read", r.name, "", detach(cause))
	}
	for r.resumes < r.policy.Resumes {
		r.closeBody()
		if !r.sleep(r.policy.Backoff(r.resumes)) {
			return r.stopped()
		}
		r.resumes++
		err := r.open()
		if err == nil {
			return nil
		}
		if serr := r.stopped(); serr != nil {
			return serr
		}
		if errors.Is(err, ErrPrecondition) || (r.etag != "" && errors.Is(err, ErrNotFound)) {
			return Fail(ErrTransient, "read", r.name, fmt.Sprintf("the object changed or was deleted while it was read (at byte %d); read it again", r.off), err)
		}
		if !errors.Is(err, ErrTransient) && !isContextErr(err) {
			return err // denied, say: another try will not help
		}
		cause = err
		if r.wasStalled() {
			cause = fmt.Errorf("no response for %v", r.policy.requestBudget().Round(time.Millisecond))
		}
	}
	return Fail(ErrTransient, "read", r.name,
		fmt.Sprintf("gave up after %d resumptions at byte %d: %v", r.policy.Resumes, r.off, Scrub(detach(cause).Error())), detach(cause))
}

// stopped reports why the read cannot go on, if the caller's context is
// done (its error as is) or the object timed out (a transient failure).
func (r *resumable) stopped() error {
	if err := r.parent.Err(); err != nil {
		return err
	}
	if r.objCtx.Err() != nil {
		return Fail(ErrTransient, "read", r.name, fmt.Sprintf("timed out after %v at byte %d", r.policy.Timeout, r.off), nil)
	}
	return nil
}

// contextual turns a failed first request into the error Open returns.
func (r *resumable) contextual(err error, op string) error {
	if serr := r.stopped(); serr != nil {
		if r.parent.Err() == nil {
			return Fail(ErrTransient, op, r.name, fmt.Sprintf("timed out after %v", r.policy.Timeout), nil)
		}
		return serr
	}
	if isContextErr(err) {
		if r.wasStalled() {
			return Fail(ErrTransient, op, r.name, fmt.Sprintf("no response for %v", r.policy.requestBudget().Round(time.Millisecond)), nil)
		}
		return Fail(ErrTransient, op, r.name, "", detach(err))
	}
	return err
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// detach keeps the text of an error that matches a context error but
// drops the match, so that an aborted attempt is not mistaken for the
// end of the run.
func detach(err error) error {
	if err != nil && isContextErr(err) {
		return errors.New(err.Error())
	}
	return err
}

func (r *resumable) closeBody() {
	r.mu.Lock()
	cancel := r.cancel
	r.cancel = nil
	r.mu.Unlock()
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
	if cancel != nil {
		cancel()
	}
}

func (r *resumable) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.timer.Stop()
	r.closeBody()
	r.objCancel()
	if r.err == nil {
		r.err = errReaderClosed
	}
	return nil
}

var errReaderClosed = errors.New("read after close")
