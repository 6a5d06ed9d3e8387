package gcs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/gcs"
	"github.com/flowsym/flowsym/ingest/ingesttest"
	"github.com/flowsym/flowsym/ingest/ingesttest/emulator"
	"github.com/flowsym/flowsym/ingest/ingesttest/faulttest"
)

// newBucket starts fake-gcs-server with one bucket and opens it the way
// flowsym does for a user: STORAGE_EMULATOR_HOST.
func newBucket(t *testing.T, opts gcs.Options) (*emulator.GCS, *gcs.Bucket) {
	t.Helper()
	srv := emulator.StartGCS(t)
	srv.CreateBucket(t, "flowlogs")
	emulator.GCSEnv(t, srv.Host)
	b, err := gcs.New(context.Background(), "flowlogs", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return srv, b
}

func TestAcceptance(t *testing.T) {
	ingesttest.Acceptance(t, func(t *testing.T) (ingest.Store, string) {
		// fake-gcs-server is quadratic in the objects of a bucket, so
		// pagination is shown with few objects and small pages.
		_, b := newBucket(t, gcs.Options{PageSize: 50, ChunkSize: 1 << 20})
		return b, "gs://flowlogs/"
	}, ingesttest.ManyObjects(240))
}

func TestFaults(t *testing.T) {
	srv, direct := newBucket(t, gcs.Options{})
	faulttest.Run(t, faulttest.Target{
		Backend: srv.Server.URL(),
		Direct:  direct,
		Prefix:  "gs://flowlogs/",
		Through: func(t *testing.T, proxy *ingesttest.Proxy, policy ingest.RetryPolicy) ingest.Store {
			t.Setenv("STORAGE_EMULATOR_HOST", proxy.Host)
			b, err := gcs.New(context.Background(), "flowlogs", gcs.Options{Retry: policy})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Close() })
			return b
		},
		Busy:   ingesttest.GCSTooMany,
		Broken: ingesttest.GCSUnavailable,
	})
}

// TestListCalls counts listing requests: pages of 100, and the pruned
// walk of a month of hourly GCS-sink shards for one hour.
func TestListCalls(t *testing.T) {
	srv := emulator.StartGCS(t)
	srv.CreateBucket(t, "flowlogs")
	proxy := ingesttest.NewProxy(t, srv.Server.URL(), nil)
	emulator.GCSEnv(t, proxy.Host)
	b, err := gcs.New(context.Background(), "flowlogs", gcs.Options{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	objects := map[string][]byte{}
	for d := 1; d <= 30; d++ {
		for h := range 24 {
			objects[fmt.Sprintf("gs://flowlogs/compute.googleapis.com/vpc_flows/2024/06/%02d/%02d:00:00_%02d:59:59_S0.json", d, h, h)] = []byte("{}")
		}
	}
	ingesttest.PutAll(t, b, objects)

	proxy.ResetCounts()
	if got := len(ingesttest.ListNames(t, b, "gs://flowlogs/")); got != len(objects) {
		t.Fatalf("listed %d objects, want %d", got, len(objects))
	}
	flat := proxy.Requests(ingesttest.KindList)
	if want := (len(objects) + 99) / 100; flat != want {
		t.Errorf("flat listing of %d objects in pages of 100 took %d requests, want %d", len(objects), flat, want)
	}
	proxy.ResetCounts()
	window := ingest.Span{Start: mustTime("2024-06-15T10:00:00Z"), End: mustTime("2024-06-15T11:00:00Z")}
	var got []string
	if err := ingest.ListWindow(context.Background(), b, "gs://flowlogs/", window, func(o ingest.Object) error {
		got = append(got, o.Name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pruned := proxy.Requests(ingesttest.KindList)
	if len(got) != 3 || pruned != 6 {
		t.Errorf("one hour of a month: %d objects in %d list requests, want 3 in 6", len(got), pruned)
	}
	t.Logf("a month of hourly shards (%d): flat listing %d requests of 100; one hour: %d requests for %d objects", len(objects), flat, pruned, len(got))
}

func TestMissingBucket(t *testing.T) {
	newBucket(t, gcs.Options{})
	b, err := gcs.New(context.Background(), "no-such-bucket", gcs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = b.Stat(context.Background(), "gs://no-such-bucket/x")
	if !errors.Is(err, ingest.ErrNotFound) || !strings.Contains(err.Error(), "gs://no-such-bucket/x") {
		t.Errorf("stat in a missing bucket: %v, want ErrNotFound naming it", err)
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
