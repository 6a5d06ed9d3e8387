package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowsym/flowsym/ingest"
)

// fakeStore serves one object through a Fetch, failing as told.
type fakeStore struct {
	mu      sync.Mutex
	data    []byte
	etag    string
	calls   []string // "start-end@etag" per fetch
	fail    func(call int, start int64) fetchFault
	changed bool // the object was replaced after the first fetch
}

type fetchFault struct {
	openErr   error         // the fetch fails
	cutAfter  int           // the body fails after this many bytes (0: never)
	cutErr    error         // with this error (default: a reset)
	shortBy   int           // the body ends cleanly this many bytes early
	stallAt   int           // the body blocks after this many bytes until its context ends (0: never)
	hang      bool          // the fetch blocks until its context ends
	delay     time.Duration // the fetch takes this long
	extraSent int           // the body carries this many more bytes than asked
}

var errReset = errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer")

func (f *fakeStore) fetch(ctx context.Context, start, end int64, etag string) (ingest.Fetched, error) {
	f.mu.Lock()
	call := len(f.calls)
	f.calls = append(f.calls, fmt.Sprintf("%d-%d@%s", start, end, etag))
	var fault fetchFault
	if f.fail != nil {
		fault = f.fail(call, start)
	}
	changed := f.changed && call > 0
	f.mu.Unlock()
	if fault.hang {
		<-ctx.Done()
		return ingest.Fetched{}, ctx.Err()
	}
	time.Sleep(fault.delay)
	if fault.openErr != nil {
		return ingest.Fetched{}, fault.openErr
	}
	if etag != "" && (etag != f.etag || changed) {
		return ingest.Fetched{}, ingest.Mark(ingest.ErrPrecondition, errors.New("412 precondition failed"))
	}
	if start >= int64(len(f.data)) {
		return ingest.EmptyFetch(start), nil
	}
	stop := int64(len(f.data))
	if end >= 0 && end < stop {
		stop = end
	}
	body := f.data[start:stop]
	sent := min(int64(len(body)+fault.extraSent), int64(len(f.data))-start)
	b := &faultyBody{ctx: ctx, data: f.data[start : start+sent], fault: fault}
	if fault.shortBy > 0 {
		b.data = b.data[:len(b.data)-fault.shortBy]
	}
	return ingest.Fetched{Body: b, ETag: f.etag, End: start + int64(len(body))}, nil
}

type faultyBody struct {
	ctx   context.Context
	data  []byte
	off   int
	fault fetchFault
}

func (b *faultyBody) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	if b.fault.stallAt > 0 && b.off >= b.fault.stallAt {
		<-b.ctx.Done()
		return 0, fmt.Errorf("read: %w", b.ctx.Err())
	}
	if b.fault.cutAfter > 0 && b.off >= b.fault.cutAfter {
		if b.fault.cutErr != nil {
			return 0, b.fault.cutErr
		}
		return 0, errReset
	}
	if b.off >= len(b.data) {
		return 0, io.EOF
	}
	n := len(p)
	for _, lim := range []int{b.fault.cutAfter, b.fault.stallAt} {
		if lim > 0 && b.off+n > lim {
			n = lim - b.off
		}
	}
	n = copy(p[:n], b.data[b.off:])
	b.off += n
	return n, nil
}

func (b *faultyBody) Close() error { return nil }

var fastPolicy = ingest.RetryPolicy{
	MaxAttempts:  3,
	BaseDelay:    time.Millisecond,
	MaxDelay:     5 * time.Millisecond,
	Resumes:      3,
	Timeout:      5 * time.Second,
	StallTimeout: 100 * time.Millisecond,
}

func object(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + i>>8)
	}
	return b
}

func TestResumableReader(t *testing.T) {
	data := object(100_000)
	tests := []struct {
		name      string
		start     int64
		end       int64
		fail      func(call int, start int64) fetchFault
		wantCalls []string
	}{
		{"clean", 0, -1, nil, []string{"0--1@"}},
		{"cut twice", 0, -1, func(call int, _ int64) fetchFault {
			if call < 2 {
				return fetchFault{cutAfter: 30_000}
			}
			return fetchFault{}
		}, []string{"0--1@", "30000-100000@\"v1\"", "60000-100000@\"v1\""}},
		{"ends early", 0, -1, func(call int, _ int64) fetchFault {
			if call == 0 {
				return fetchFault{shortBy: 1234}
			}
			return fetchFault{}
		}, []string{"0--1@", "98766-100000@\"v1\""}},
		{"stalls mid-body", 0, -1, func(call int, _ int64) fetchFault {
			if call == 0 {
				return fetchFault{stallAt: 50_000}
			}
			return fetchFault{}
		}, []string{"0--1@", "50000-100000@\"v1\""}},
		{"no response headers", 0, -1, func(call int, _ int64) fetchFault {
			return fetchFault{hang: call == 0}
		}, []string{"0--1@", "0--1@"}},
		{"resume fails once", 0, -1, func(call int, _ int64) fetchFault {
			switch call {
			case 0:
				return fetchFault{cutAfter: 10_000}
			case 1:
				return fetchFault{openErr: ingest.Mark(ingest.ErrTransient, errors.New("503 SlowDown"))}
			}
			return fetchFault{}
		}, []string{"0--1@", "10000-100000@\"v1\"", "10000-100000@\"v1\""}},
		{"range cut", 1000, 61000, func(call int, _ int64) fetchFault {
			if call == 0 {
				return fetchFault{cutAfter: 20_000}
			}
			return fetchFault{}
		}, []string{"1000-61000@", "21000-61000@\"v1\""}},
		{"store sends more than asked", 1000, 2000, func(int, int64) fetchFault {
			return fetchFault{extraSent: 500}
		}, []string{"1000-2000@"}},
		{"past the end", 100_000, -1, nil, []string{"100000--1@"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &fakeStore{data: data, etag: `"v1"`, fail: tt.fail}
			r, err := ingest.OpenResumable(context.Background(), "s3://b/k", tt.start, tt.end, fastPolicy, fs.fetch)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
			end := int64(len(data))
			if tt.end >= 0 {
				end = tt.end
			}
			if want := data[min(tt.start, end):end]; !bytes.Equal(got, want) {
				t.Errorf("read %d bytes, want %d (the bytes %d–%d)", len(got), len(want), tt.start, end)
			}
			if strings.Join(fs.calls, " ") != strings.Join(tt.wantCalls, " ") {
				t.Errorf("fetches %q, want %q", fs.calls, tt.wantCalls)
			}
			if v, ok := r.(ingest.Versioned); !ok || (len(got) > 0 && v.ETag() != `"v1"`) {
				t.Errorf("reader version %v", r)
			}
		})
	}
}

func TestResumableReaderFailures(t *testing.T) {
	data := object(50_000)
	always := func(f fetchFault) func(int, int64) fetchFault {
		return func(int, int64) fetchFault { return f }
	}
	tests := []struct {
		name    string
		fail    func(call int, start int64) fetchFault
		changed bool
		policy  ingest.RetryPolicy
		want    string
		kind    error
	}{
		{"cut every time", always(fetchFault{cutAfter: 100}), false, fastPolicy, "gave up after 3 resumptions at byte 400: read tcp", ingest.ErrTransient},
		{"stalls every time", always(fetchFault{stallAt: 100}), false, fastPolicy, "gave up after 3 resumptions at byte 400: no bytes for 100ms", ingest.ErrTransient},
		{"changed while read", func(call int, _ int64) fetchFault {
			return fetchFault{cutAfter: 100 * (1 - min(call, 1))}
		}, true, fastPolicy, "the object changed or was deleted while it was read (at byte 100)", ingest.ErrTransient},
		{"denied on resume", func(call int, _ int64) fetchFault {
			if call == 0 {
				return fetchFault{cutAfter: 100}
			}
			return fetchFault{openErr: ingest.Mark(ingest.ErrPermission, errors.New("403 AccessDenied"))}
		}, false, fastPolicy, "403 AccessDenied", ingest.ErrPermission},
		{"error after the last byte", always(fetchFault{cutAfter: 50_000, cutErr: errors.New("checksum did not match")}), false, fastPolicy, "checksum did not match", nil},
		{"object timeout", always(fetchFault{delay: 30 * time.Millisecond, cutAfter: 100}), false,
			ingest.RetryPolicy{Resumes: 100, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, Timeout: 150 * time.Millisecond, StallTimeout: time.Second},
			"timed out after 150ms at byte ", ingest.ErrTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &fakeStore{data: data, etag: `"v1"`, fail: tt.fail, changed: tt.changed}
			r, err := ingest.OpenResumable(context.Background(), "s3://b/k", 0, -1, tt.policy, fs.fetch)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			_, err = io.ReadAll(r)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "read s3://b/k: ") && tt.kind != ingest.ErrPermission && tt.kind != nil {
				t.Errorf("error %q does not name the object", err)
			}
			if tt.kind != nil && !errors.Is(err, tt.kind) {
				t.Errorf("error %v is not %v", err, tt.kind)
			}
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v looks like the end of the run", err)
			}
		})
	}
}

func TestResumableReaderCanceled(t *testing.T) {
	fs := &fakeStore{data: object(50_000), etag: `"v1"`, fail: func(int, int64) fetchFault { return fetchFault{stallAt: 100} }}
	ctx, cancel := context.WithCancel(context.Background())
	r, err := ingest.OpenResumable(ctx, "s3://b/k", 0, -1, ingest.RetryPolicy{StallTimeout: time.Minute}, fs.fetch)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := io.ReadAll(r); !errors.Is(err, context.Canceled) {
		t.Errorf("read after the caller canceled: %v, want context.Canceled", err)
	}
	if _, err := ingest.OpenResumable(ctx, "s3://b/k", 0, -1, fastPolicy, fs.fetch); !errors.Is(err, context.Canceled) {
		t.Errorf("open with a canceled context: %v", err)
	}
}

func TestResumableReaderOpenErrors(t *testing.T) {
	notFound := ingest.Mark(ingest.ErrNotFound, errors.New("open s3://b/k: NoSuchKey"))
	fs := &fakeStore{data: object(10), fail: func(int, int64) fetchFault { return fetchFault{openErr: notFound} }}
	if _, err := ingest.OpenResumable(context.Background(), "s3://b/k", 0, -1, fastPolicy, fs.fetch); err != notFound {
		t.Errorf("open error %v, want the store's own", err)
	}
	fs = &fakeStore{data: object(10), fail: func(int, int64) fetchFault { return fetchFault{hang: true} }}
	_, err := ingest.OpenResumable(context.Background(), "s3://b/k", 0, -1, fastPolicy, fs.fetch)
	if !errors.Is(err, ingest.ErrTransient) || !strings.Contains(err.Error(), "no response for 303ms") || errors.Is(err, context.Canceled) {
		t.Errorf("open that never answers: %v", err)
	}
	if len(fs.calls) != 1+fastPolicy.Resumes {
		t.Errorf("%d tries, want %d", len(fs.calls), 1+fastPolicy.Resumes)
	}
}
