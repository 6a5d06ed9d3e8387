// Package faulttest proves that a store's retries and resumptions neither
// lose nor repeat a record: it decodes gzip AWS flow logs with
// normalize.Decoder straight from an emulator, then again through a proxy
// that injects the failures clouds produce (throttling, 5xx, connections
// reset before or in the middle of a body, stalled and slow bodies), and
// compares the records one by one. It also checks that an object that
// keeps failing is reported, by name, and that the rest of the run is
// intact.
//
// It is a package of its own because it imports normalize, whose tests
// import ingesttest.
package faulttest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/ingesttest"
	"github.com/flowsym/flowsym/normalize"
)

// Target is a store under test.
type Target struct {
	// Backend is the emulator's URL, which the proxy forwards to.
	Backend string
	// Direct reaches the emulator without the proxy; Prefix is the URL
	// prefix under which Run writes its objects.
	Direct ingest.Store
	Prefix string
	// Through returns a store that reaches the same objects through proxy,
	// configured with policy, the way a user would configure it (the
	// standard endpoint variables).
	Through func(t *testing.T, proxy *ingesttest.Proxy, policy ingest.RetryPolicy) ingest.Store
	// Busy and Broken are the cloud's "slow down" and "internal error"
	// responses (ingesttest.S3SlowDown, GCSTooMany, AzureServerBusy, …).
	Busy, Broken ingesttest.Fault
	// Secrets must appear in no error message.
	Secrets []string
}

// Policy is the retry policy of the store reached through the proxy:
// short delays and a short stall timeout so the test runs in seconds.
var Policy = ingest.RetryPolicy{
	MaxAttempts:  6,
	BaseDelay:    5 * time.Millisecond,
	MaxDelay:     50 * time.Millisecond,
	Resumes:      4,
	Timeout:      time.Minute,
	StallTimeout: 400 * time.Millisecond,
}

const (
	objects = 24
	records = 400
	stall   = 3 * time.Second // well past Policy.StallTimeout
)

// Run runs the fault suite against target.
func Run(t *testing.T, target Target) {
	slot := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var names []string
	data := map[string][]byte{}
	for i := range objects {
		name := target.Prefix + ingesttest.AWSKey("123456789012", "us-east-1", slot.Add(time.Duration(i)*5*time.Minute), i)
		names = append(names, name)
		data[name] = ingesttest.AWSObject(uint64(i+1), records, slot.Add(time.Duration(i)*5*time.Minute))
	}
	slices.Sort(names)
	ingesttest.PutAll(t, target.Direct, data)

	clean, problems := decode(t, target.Direct, target.Prefix)
	if problems.Total() != 0 || len(clean) != objects*records {
		t.Fatalf("clean run: %d records, want %d; problems: %v", len(clean), objects*records, problems.Examples())
	}

	// index tells the object a read is for from the number AWSKey puts
	// at the end of its name.
	index := func(r *http.Request) int {
		p := strings.TrimSuffix(r.URL.Path, ".log.gz")
		n, err := strconv.ParseInt(p[strings.LastIndexByte(p, '_')+1:], 16, 64)
		if err != nil {
			return -1
		}
		return int(n)
	}
	firstTries := []ingesttest.Fault{
		target.Busy,
		target.Broken,
		{Kind: ingesttest.FaultResetBeforeHeaders},
		{Kind: ingesttest.FaultResetMidBody},
		{Kind: ingesttest.FaultStallMidBody, Stall: stall},
		{Kind: ingesttest.FaultSlowBody},
		{Kind: ingesttest.FaultStallHeaders, Stall: stall},
	}
	flaky := func(r *http.Request, kind ingesttest.Kind, attempt int) ingesttest.Fault {
		switch kind {
		case ingesttest.KindList:
			if attempt == 0 {
				return target.Busy // every listing page fails once
			}
		case ingesttest.KindRead:
			i := index(r)
			switch {
			case i < 0:
			case attempt == 0:
				return firstTries[i%len(firstTries)]
			case attempt == 1 && i%3 == 0:
				// A second cut, on the resumed (ranged) request.
				return ingesttest.Fault{Kind: ingesttest.FaultResetMidBody}
			}
		}
		return ingesttest.Fault{}
	}
	proxy := ingesttest.NewProxy(t, target.Backend, flaky)
	through := target.Through(t, proxy, Policy)

	t.Run("transient faults lose and repeat nothing", func(t *testing.T) {
		start := time.Now()
		got, problems := decode(t, through, target.Prefix)
		for _, p := range problems.Examples() {
			t.Errorf("problem: %v", p)
		}
		if diff := compare(got, clean); diff != "" {
			t.Errorf("records through the faults differ from the clean run: %s", diff)
		}
		for k := ingesttest.FaultStatus; k <= ingesttest.FaultStallHeaders; k++ {
			if proxy.Injected(k) == 0 {
				t.Errorf("no %s fault was injected", k)
			}
		}
		t.Logf("%d records from %d objects in %v through %d list and %d read requests; faults: status %d, reset before headers %d, reset mid-body %d, stalled mid-body %d, slow body %d, stalled headers %d",
			len(got), objects, time.Since(start).Round(time.Millisecond), proxy.Requests(ingesttest.KindList), proxy.Requests(ingesttest.KindRead),
			proxy.Injected(ingesttest.FaultStatus), proxy.Injected(ingesttest.FaultResetBeforeHeaders), proxy.Injected(ingesttest.FaultResetMidBody),
			proxy.Injected(ingesttest.FaultStallMidBody), proxy.Injected(ingesttest.FaultSlowBody), proxy.Injected(ingesttest.FaultStallHeaders))
	})

	t.Run("objects that keep failing are reported", func(t *testing.T) {
		refused, cut := names[0], names[1]
		proxy.SetPlan(func(r *http.Request, kind ingesttest.Kind, attempt int) ingesttest.Fault {
			if kind != ingesttest.KindRead {
				return ingesttest.Fault{}
			}
			switch index(r) {
			case 0:
				return target.Busy
			case 1:
				// Half the object, then no progress at all: SDKs that
				// reopen by themselves (GCS) would otherwise creep to the
				// end by halves.
				if attempt == 0 {
					return ingesttest.Fault{Kind: ingesttest.FaultResetMidBody}
				}
				return ingesttest.Fault{Kind: ingesttest.FaultResetAfterHeaders}
			}
			return ingesttest.Fault{}
		})
		got, problems := decode(t, through, target.Prefix)
		ex := problems.Examples()
		if problems.Errors() != 2 || len(ex) != 2 {
			t.Fatalf("%d problems, want 2 (%s refused, %s cut every time): %v", problems.Errors(), refused, cut, ex)
		}
		for _, p := range ex {
			if !errors.Is(p, ingest.ErrTransient) {
				t.Errorf("problem %v is not marked transient", p)
			}
			for _, s := range target.Secrets {
				if s != "" && strings.Contains(p.Error(), s) {
					t.Errorf("problem %q shows a credential", p)
				}
			}
			t.Logf("reported: %v", p)
		}
		if ex[0].Object != refused || !errors.Is(ex[0], normalize.ErrUnreadable) {
			t.Errorf("first problem %v, want %s unreadable", ex[0], refused)
		}
		if ex[1].Object != cut || !errors.Is(ex[1], normalize.ErrDamaged) || !strings.Contains(ex[1].Error(), "gave up after 4 resumptions") {
			t.Errorf("second problem %v, want %s damaged after 4 resumptions", ex[1], cut)
		}
		// Everything else arrived once; of the cut object, what came
		// before the last cut at most once, and nothing of the refused one.
		want := map[string]int{}
		for row, n := range clean {
			if !strings.Contains(row, refused) && !strings.Contains(row, cut) {
				want[row] = n
			}
		}
		partial := map[string]int{}
		for row, n := range got {
			if strings.Contains(row, cut) {
				partial[row] = n
				if clean[row] != 1 || n != 1 {
					t.Errorf("a record of the cut object came %d times: %s", n, row)
				}
				delete(got, row)
			}
		}
		if diff := compare(got, want); diff != "" {
			t.Errorf("records of the other objects: %s", diff)
		}
		t.Logf("kept %d records of the cut object, read before the connection broke", len(partial))
	})
}

// decode lists prefix and decodes every object with 8 workers. Each record
// becomes one string of all its columns (the object and line included).
func decode(t *testing.T, src ingest.Source, prefix string) (map[string]int, *normalize.Problems) {
	t.Helper()
	d := normalize.NewDecoder(normalize.Options{})
	problems := normalize.NewProblems(-1, 100)
	rows := map[string]int{}
	list := func(yield func(normalize.Job) error) error {
		return src.List(context.Background(), prefix, func(o ingest.Object) error {
			return yield(normalize.Job{Source: src, Object: o})
		})
	}
	sink := func(rec arrow.RecordBatch) error {
		for i := range int(rec.NumRows()) {
			var b strings.Builder
			for c := range int(rec.NumCols()) {
				b.WriteString(rec.Column(c).ValueStr(i))
				b.WriteByte('|')
			}
			rows[b.String()]++
		}
		return nil
	}
	if err := d.Run(context.Background(), normalize.RunConfig{Workers: 8, Problems: problems}, list, sink); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return rows, problems
}

// compare describes how got differs from want, or returns "".
func compare(got, want map[string]int) string {
	lost, extra, repeated := 0, 0, 0
	var example string
	for row, n := range want {
		switch g := got[row]; {
		case g == 0:
			lost++
			example = "lost: " + row
		case g > n:
			repeated++
			example = "repeated: " + row
		}
	}
	for row := range got {
		if want[row] == 0 {
			extra++
			example = "unexpected: " + row
		}
	}
	if lost+extra+repeated == 0 {
		return ""
	}
	return fmt.Sprintf("%d lost, %d repeated, %d unexpected, e.g. %s", lost, repeated, extra, example)
}
