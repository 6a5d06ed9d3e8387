package s3_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/ingesttest"
	"github.com/flowsym/flowsym/ingest/ingesttest/emulator"
	"github.com/flowsym/flowsym/ingest/ingesttest/faulttest"
	"github.com/flowsym/flowsym/ingest/s3"
)

// newBucket starts gofakes3 with one bucket and opens it the way flowsym
// does for a user: the default chain, with AWS_ENDPOINT_URL_S3.
func newBucket(t testing.TB, opts s3.Options) (*emulator.S3, *s3.Bucket) {
	t.Helper()
	srv := emulator.StartS3(t)
	srv.CreateBucket(t, "flowlogs")
	emulator.S3Env(t, srv.URL)
	b, err := s3.New(context.Background(), "flowlogs", opts)
	if err != nil {
		t.Fatal(err)
	}
	return srv, b
}

func TestAcceptance(t *testing.T) {
	ingesttest.Acceptance(t, func(t *testing.T) (ingest.Store, string) {
		// 5 MiB parts: the large-object test then uploads in two parts.
		_, b := newBucket(t, s3.Options{PartSize: 5 << 20})
		return b, "s3://flowlogs/"
	})
}

// A store rooted below the bucket's top works the same.
func TestAcceptanceUnderPrefix(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	ingesttest.Acceptance(t, func(t *testing.T) (ingest.Store, string) {
		_, b := newBucket(t, s3.Options{})
		return b, "s3://flowlogs/some/prefix/"
	}, ingesttest.ManyObjects(120))
}

func TestFaults(t *testing.T) {
	srv, direct := newBucket(t, s3.Options{})
	faulttest.Run(t, faulttest.Target{
		Backend: srv.URL,
		Direct:  direct,
		Prefix:  "s3://flowlogs/",
		Through: func(t *testing.T, proxy *ingesttest.Proxy, policy ingest.RetryPolicy) ingest.Store {
			t.Setenv("AWS_ENDPOINT_URL_S3", proxy.URL)
			b, err := s3.New(context.Background(), "flowlogs", s3.Options{Retry: policy})
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		Busy:    ingesttest.S3SlowDown,
		Broken:  ingesttest.S3InternalError,
		Secrets: []string{emulator.S3SecretKey},
	})
}

// gofakes3's s3mem repeats a common prefix at page boundaries when it
// lists with a delimiter; ListDir must give each level once.
func TestListDirDeduplicatesPrefixes(t *testing.T) {
	srv, b := newBucket(t, s3.Options{PageSize: 7})
	for h := range 24 {
		for i := range 3 {
			srv.Put(t, "flowlogs", fmt.Sprintf("day/%02d/%d.log", h, i), []byte("x"))
		}
	}
	seen := map[string]int{}
	err := b.ListDir(context.Background(), "s3://flowlogs/day/", func(o ingest.Object) error {
		seen[o.Name]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 24 {
		t.Errorf("%d levels, want 24: %v", len(seen), seen)
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", name, n)
		}
	}
}

// TestListCalls counts the ListObjectsV2 requests that reach the server:
// pages of a flat listing, and the pruned walk of a year of hourly
// partitions for one hour.
func TestListCalls(t *testing.T) {
	srv := emulator.StartS3(t)
	srv.CreateBucket(t, "flowlogs")
	proxy := ingesttest.NewProxy(t, srv.URL, nil)
	emulator.S3Env(t, proxy.URL)
	b, err := s3.New(context.Background(), "flowlogs", s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	year := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	for h := year; h.Year() == 2023; h = h.Add(time.Hour) {
		key := fmt.Sprintf("AWSLogs/123456789012/vpcflowlogs/us-east-1/%s/123456789012_vpcflowlogs_us-east-1_fl-1_%s_0.log.gz",
			h.Format("2006/01/02/15"), h.Format("20060102T1504Z"))
		srv.Put(t, "flowlogs", key, []byte("x"))
		n++
	}

	if got := len(ingesttest.ListNames(t, b, "s3://flowlogs/AWSLogs/")); got != n {
		t.Fatalf("flat listing: %d objects, want %d", got, n)
	}
	flat := proxy.Requests(ingesttest.KindList)
	if want := (n + 999) / 1000; flat != want {
		t.Errorf("flat listing of %d objects took %d requests, want %d pages of 1,000", n, flat, want)
	}

	proxy.ResetCounts()
	window := ingest.Span{Start: time.Date(2023, 6, 15, 10, 0, 0, 0, time.UTC), End: time.Date(2023, 6, 15, 11, 0, 0, 0, time.UTC)}
	var got []string
	err = ingest.ListWindow(context.Background(), b, "s3://flowlogs/AWSLogs/", window, func(o ingest.Object) error {
		got = append(got, o.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pruned := proxy.Requests(ingesttest.KindList)
	if len(got) != 3 || pruned != 10 {
		t.Errorf("one hour of a year: %d objects in %d list requests, want 3 in 10", len(got), pruned)
	}
	t.Logf("a year of hourly objects (%d): flat listing %d requests; one hour: %d requests for %d objects", n, flat, pruned, len(got))
}

// The generic AWS_ENDPOINT_URL works as well as the S3-specific one.
func TestGenericEndpointVariable(t *testing.T) {
	srv := emulator.StartS3(t)
	srv.CreateBucket(t, "flowlogs")
	srv.Put(t, "flowlogs", "a.log", []byte("hello"))
	emulator.S3Env(t, "")
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	b, err := s3.New(context.Background(), "flowlogs", s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ingesttest.ReadAll(t, b, "s3://flowlogs/a.log"); string(got) != "hello" {
		t.Errorf("read %q", got)
	}
}

func TestMissingBucket(t *testing.T) {
	newBucket(t, s3.Options{})
	b, err := s3.New(context.Background(), "no-such-bucket", s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = b.List(context.Background(), "s3://no-such-bucket/", func(ingest.Object) error { return nil })
	if !errors.Is(err, ingest.ErrNotFound) || !strings.Contains(err.Error(), "s3://no-such-bucket/") {
		t.Errorf("list of a missing bucket: %v, want ErrNotFound naming it", err)
	}
}

func TestNamesOutsideTheBucket(t *testing.T) {
	_, b := newBucket(t, s3.Options{})
	if _, err := b.Open(context.Background(), "s3://other/a.log"); err == nil || !strings.Contains(err.Error(), "not in s3://flowlogs/") {
		t.Errorf("open of another bucket's object: %v", err)
	}
	if _, err := b.Open(context.Background(), "gs://flowlogs/a.log"); err == nil {
		t.Error("open of a gs:// name succeeded")
	}
}
