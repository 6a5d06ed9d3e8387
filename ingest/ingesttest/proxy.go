package ingesttest

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Kind is what a request to an object store does, as far as tests care.
type Kind int

const (
	KindOther Kind = iota
	KindList       // a listing page
	KindRead       // a read of an object's bytes
	KindWrite      // an upload or part of one
)

func (k Kind) String() string {
	return [...]string{"other", "list", "read", "write"}[k]
}

// Classify tells a listing from an object read or write in the REST
// dialects of S3 (path style), GCS (JSON and XML) and Azure Blob.
func Classify(r *http.Request) Kind {
	q := r.URL.Query()
	path := r.URL.Path
	switch r.Method {
	case http.MethodPut, http.MethodPost:
		return KindWrite
	case http.MethodGet:
	default:
		return KindOther
	}
	switch {
	case q.Has("list-type") || q.Get("comp") == "list": // S3, Azure
		return KindList
	case strings.HasPrefix(path, "/storage/v1/b/") && strings.HasSuffix(strings.TrimSuffix(path, "/"), "/o"): // GCS JSON
		return KindList
	case strings.HasPrefix(path, "/storage/v1/"):
		if q.Get("alt") == "media" {
			return KindRead
		}
		return KindOther // metadata
	case strings.HasPrefix(path, "/download/storage/v1/"):
		return KindRead
	case q.Has("restype") || q.Has("comp") || q.Has("uploads") || q.Has("location"):
		return KindOther
	case strings.Count(strings.Trim(path, "/"), "/") >= 1: // /bucket/key
		return KindRead
	}
	return KindOther
}

// FaultKind is a way a request can go wrong.
type FaultKind int

const (
	FaultNone FaultKind = iota
	// FaultStatus answers with Fault.Status and Fault.Body without asking
	// the store (503 SlowDown, 429, 500).
	FaultStatus
	// FaultResetBeforeHeaders resets the connection before any response.
	FaultResetBeforeHeaders
	// FaultResetMidBody sends the headers and half the body, then resets
	// the connection (RST, not FIN).
	FaultResetMidBody
	// FaultStallMidBody sends half the body and then nothing for
	// Fault.Stall, as a dead peer would.
	FaultStallMidBody
	// FaultSlowBody sends the body in 1 KiB pieces 2 ms apart: slow, but
	// never stalled.
	FaultSlowBody
	// FaultStallHeaders waits Fault.Stall before forwarding the request.
	FaultStallHeaders
	// FaultResetAfterHeaders sends the headers and resets the connection
	// before the first byte of the body: a read that makes no progress.
	FaultResetAfterHeaders
)

func (k FaultKind) String() string {
	return [...]string{"none", "status", "reset-before-headers", "reset-mid-body", "stall-mid-body", "slow-body", "stall-headers", "reset-after-headers"}[k]
}

// Fault is what the proxy does to one request.
type Fault struct {
	Kind   FaultKind
	Status int
	Header http.Header
	Body   string
	Stall  time.Duration
}

// Error responses as each cloud sends them when it is overloaded.
var (
	S3SlowDown = Fault{Kind: FaultStatus, Status: 503, Header: http.Header{"Content-Type": {"application/xml"}},
		Body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>`}
	S3InternalError = Fault{Kind: FaultStatus, Status: 500, Header: http.Header{"Content-Type": {"application/xml"}},
		Body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`}
	GCSTooMany = Fault{Kind: FaultStatus, Status: 429, Header: http.Header{"Content-Type": {"application/json"}},
		Body: `{"error":{"code":429,"message":"The rate of change requests to the object is too high.","errors":[{"reason":"rateLimitExceeded"}]}}`}
	GCSUnavailable = Fault{Kind: FaultStatus, Status: 503, Header: http.Header{"Content-Type": {"application/json"}},
		Body: `{"error":{"code":503,"message":"Backend Error","errors":[{"reason":"backendError"}]}}`}
	AzureServerBusy = Fault{Kind: FaultStatus, Status: 503, Header: http.Header{"Content-Type": {"application/xml"}, "X-Ms-Error-Code": {"ServerBusy"}},
		Body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>Egress is over the account limit.</Message></Error>`}
	AzureInternalError = Fault{Kind: FaultStatus, Status: 500, Header: http.Header{"Content-Type": {"application/xml"}, "X-Ms-Error-Code": {"InternalError"}},
		Body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>InternalError</Code><Message>The server encountered an internal error.</Message></Error>`}
)

// Plan decides the fault for a request; attempt counts the earlier
// requests of the same kind to the same path (0 for the first), so a plan
// can fail the first tries of an object and let a later one through.
type Plan func(r *http.Request, kind Kind, attempt int) Fault

// Proxy is an HTTP reverse proxy on loopback that injects faults between
// an SDK and an emulator, and counts requests. It keeps the Host header,
// so an emulator that routes by host (fake-gcs-server) sees what the
// client sent.
type Proxy struct {
	URL  string // http://127.0.0.1:port
	Host string // 127.0.0.1:port

	target *url.URL
	plan   Plan
	tr     *http.Transport

	mu       sync.Mutex
	attempts map[string]int
	requests map[Kind]int
	injected map[FaultKind]int
}

// NewProxy starts a proxy to target (http://host:port); plan may be nil.
// It stops at the end of tb.
func NewProxy(tb testing.TB, target string, plan Plan) *Proxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{
		URL:      "http://" + ln.Addr().String(),
		Host:     ln.Addr().String(),
		target:   u,
		plan:     plan,
		tr:       &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
		attempts: map[string]int{},
		requests: map[Kind]int{},
		injected: map[FaultKind]int{},
	}
	srv := &http.Server{Handler: p, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	tb.Cleanup(func() {
		srv.Close()
		p.tr.CloseIdleConnections()
	})
	return p
}

// SetPlan replaces the fault plan and forgets the attempts counted.
func (p *Proxy) SetPlan(plan Plan) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.plan = plan
	p.attempts = map[string]int{}
}

// Requests returns the number of requests of a kind seen so far.
func (p *Proxy) Requests(k Kind) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests[k]
}

// Injected returns how many faults of a kind were injected.
func (p *Proxy) Injected(k FaultKind) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.injected[k]
}

// ResetCounts zeroes the request and fault counters.
func (p *Proxy) ResetCounts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = map[Kind]int{}
	p.injected = map[FaultKind]int{}
	p.attempts = map[string]int{}
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := Classify(r)
	key := kind.String() + " " + r.URL.Path
	if kind == KindList {
		key += "?" + r.URL.RawQuery
	}
	p.mu.Lock()
	attempt := p.attempts[key]
	p.attempts[key]++
	p.requests[kind]++
	plan := p.plan
	p.mu.Unlock()
	var f Fault
	if plan != nil {
		f = plan(r, kind, attempt)
	}
	if f.Kind != FaultNone {
		p.mu.Lock()
		p.injected[f.Kind]++
		p.mu.Unlock()
	}
	switch f.Kind {
	case FaultStatus:
		for k, v := range f.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(f.Status)
		io.WriteString(w, f.Body)
		return
	case FaultResetBeforeHeaders:
		reset(w)
		return
	case FaultStallHeaders:
		select {
		case <-time.After(f.Stall):
		case <-r.Context().Done():
			return
		}
	}

	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme = p.target.Scheme
	out.URL.Host = p.target.Host
	out.Host = r.Host
	out.Header.Del("Connection")
	if r.ContentLength == 0 {
		out.Body = nil
	}
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	half := resp.ContentLength / 2
	switch {
	case f.Kind == FaultResetAfterHeaders:
		rc.Flush()
		reset(w)
	case (f.Kind == FaultResetMidBody || f.Kind == FaultStallMidBody) && half > 0:
		io.CopyN(w, resp.Body, half)
		rc.Flush()
		if f.Kind == FaultStallMidBody {
			select {
			case <-time.After(f.Stall):
			case <-r.Context().Done():
			}
		}
		reset(w)
	case f.Kind == FaultSlowBody:
		buf := make([]byte, 1024)
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
				rc.Flush()
				time.Sleep(2 * time.Millisecond)
			}
			if err != nil {
				return
			}
		}
	default:
		io.Copy(w, resp.Body)
	}
}

// reset closes the client's connection with a TCP RST.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
