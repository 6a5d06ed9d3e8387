package ingest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/ingesttest"
)

// layouts name one object per slot of each cloud's key layout.
var layouts = map[string]struct {
	root string
	name func(t time.Time) string
	step time.Duration
}{
	"aws-hourly": {
		root: "s3://flowlogs/AWSLogs/",
		name: func(t time.Time) string {
			return "s3://flowlogs/AWSLogs/123456789012/vpcflowlogs/us-east-1/" + t.Format("2006/01/02/15/") +
				"123456789012_vpcflowlogs_us-east-1_fl-0123_" + t.Format("20060102T1504Z") + "_abcd.log.gz"
		},
		step: time.Hour,
	},
	"aws-daily": {
		root: "s3://flowlogs/AWSLogs/",
		name: func(t time.Time) string {
			return "s3://flowlogs/AWSLogs/123456789012/vpcflowlogs/us-east-1/" + t.Format("2006/01/02/") +
				"123456789012_vpcflowlogs_us-east-1_fl-0123_" + t.Format("20060102T1504Z") + "_abcd.log.gz"
		},
		step: 5 * time.Minute,
	},
	"aws-hive": {
		root: "s3://flowlogs/prefix/AWSLogs/",
		name: func(t time.Time) string {
			return "s3://flowlogs/prefix/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/" +
				t.Format("year=2006/month=01/day=02/hour=15/") +
				"123456789012_vpcflowlogs_eu-west-1_fl-0123_" + t.Format("20060102T1504Z") + "_abcd.log.parquet"
		},
		step: time.Hour,
	},
	"gcs-sink": {
		root: "gs://flowlogs/",
		name: func(t time.Time) string {
			log := "vpc_flows"
			if t.Hour()%2 == 1 {
				log = "nat_flows"
			}
			return "gs://flowlogs/compute.googleapis.com/" + log + t.Format("/2006/01/02/15:00:00_15:59:59_S0.json")
		},
		step: time.Hour,
	},
	"azure-vnet": {
		root: "azblob://acct/insights-logs-flowlogflowevent/",
		name: func(t time.Time) string {
			return "azblob://acct/insights-logs-flowlogflowevent/flowLogResourceID=/0000-1111_NETWORKWATCHERRG/NETWORKWATCHER_EASTUS_FL1/" +
				t.Format("y=2006/m=01/d=02/h=15/m=00/") + "macAddress=000D3A1B2C3D/PT1H.json"
		},
		step: time.Hour,
	},
}

func fill(name func(time.Time) string, from, to time.Time, step time.Duration) *ingesttest.Mem {
	m := ingesttest.NewMem(nil)
	for t := from; t.Before(to); t = t.Add(step) {
		m.Put(name(t), []byte("x"))
	}
	return m
}

func collect(t *testing.T, src ingest.Source, root string, window ingest.Span) []string {
	t.Helper()
	var got []string
	err := ingest.ListWindow(context.Background(), src, root, window, func(o ingest.Object) error {
		got = append(got, o.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// reference is the slow, obviously correct plan: list everything and keep
// what KeySpan says can overlap.
func reference(t *testing.T, src ingest.Source, root string, window ingest.Span) []string {
	t.Helper()
	var got []string
	err := src.List(context.Background(), root, func(o ingest.Object) error {
		if s, ok := ingest.KeySpan(ingest.KeyOf(o.Name)); !ok || s.Overlaps(window) {
			got = append(got, o.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func hour(s string) time.Time {
	t, err := time.Parse("2006-01-02T15", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestListWindowHourOfYear is the pruning claim: one hour out of a year
// of hourly AWS objects lists the way down and three hours, not the year.
func TestListWindowHourOfYear(t *testing.T) {
	l := layouts["aws-hourly"]
	mem := fill(l.name, hour("2023-01-01T00"), hour("2024-01-01T00"), l.step)
	src := &ingesttest.Counting{Src: mem}
	window := ingest.Span{Start: hour("2023-06-15T10"), End: hour("2023-06-15T11")}
	got := collect(t, src, l.root, window)

	want := []string{l.name(hour("2023-06-15T09")), l.name(hour("2023-06-15T10")), l.name(hour("2023-06-15T11"))}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("objects (-got +want):\n%s", diff)
	}
	base := "s3://flowlogs/AWSLogs/123456789012/vpcflowlogs/us-east-1/"
	wantCalls := []string{
		"listdir s3://flowlogs/AWSLogs/ (1)",
		"listdir s3://flowlogs/AWSLogs/123456789012/ (1)",
		"listdir s3://flowlogs/AWSLogs/123456789012/vpcflowlogs/ (1)",
		"listdir " + base + " (1)",
		"listdir " + base + "2023/ (12)",
		"listdir " + base + "2023/06/ (30)",
		"listdir " + base + "2023/06/15/ (24)",
		"list " + base + "2023/06/15/09/ (1)",
		"list " + base + "2023/06/15/10/ (1)",
		"list " + base + "2023/06/15/11/ (1)",
	}
	var calls []string
	for _, c := range src.Calls() {
		calls = append(calls, c.String())
	}
	if diff := cmp.Diff(calls, wantCalls); diff != "" {
		t.Errorf("listings (-got +want):\n%s", diff)
	}
	t.Logf("%d listings returned %d entries; a flat listing returns %d", len(calls), src.Entries(), len(reference(t, mem, l.root, ingest.Span{})))
}

func TestListWindowLayouts(t *testing.T) {
	tests := []struct {
		layout    string
		window    ingest.Span
		want      int // objects
		maxCalls  int
		wantLists []string
	}{
		// A daily folder is the narrowest listing AWS's default layout
		// allows; the 5-minute slot in each name does the rest.
		{"aws-daily", ingest.Span{Start: hour("2023-06-15T10"), End: hour("2023-06-15T11")}, 36, 7, nil},
		{"aws-hive", ingest.Span{Start: hour("2023-06-15T10"), End: hour("2023-06-15T11")}, 3, 11, []string{"hour=09/", "hour=10/", "hour=11/"}},
		{"gcs-sink", ingest.Span{Start: hour("2023-06-15T10"), End: hour("2023-06-15T11")}, 3, 12, nil},
		{"azure-vnet", ingest.Span{Start: hour("2023-06-15T10"), End: hour("2023-06-15T11")}, 3, 11, []string{"h=09/", "h=10/", "h=11/"}},
		// Two whole days: the middle of the window is listed flat by day.
		{"aws-hourly", ingest.Span{Start: hour("2023-06-14T00"), End: hour("2023-06-16T00")}, 50, 14, []string{"13/23/", "14/", "15/", "16/00/"}},
	}
	for _, tt := range tests {
		t.Run(tt.layout, func(t *testing.T) {
			l := layouts[tt.layout]
			mem := fill(l.name, hour("2023-05-01T00"), hour("2023-08-01T00"), l.step)
			src := &ingesttest.Counting{Src: mem}
			got := collect(t, src, l.root, tt.window)
			if want := reference(t, mem, l.root, tt.window); !slices.Equal(got, want) {
				t.Errorf("got %d objects, the reference %d", len(got), len(want))
			}
			if len(got) != tt.want {
				t.Errorf("got %d objects, want %d", len(got), tt.want)
			}
			calls := src.Calls()
			if len(calls) > tt.maxCalls {
				t.Errorf("%d listings, want at most %d: %v", len(calls), tt.maxCalls, calls)
			}
			var lists []string
			for _, c := range calls {
				if c.Op == "list" {
					lists = append(lists, c.Prefix)
				}
			}
			if len(lists) != len(tt.wantLists) {
				t.Errorf("flat listings %v, want %v", lists, tt.wantLists)
			}
			for i := range min(len(lists), len(tt.wantLists)) {
				if !strings.HasSuffix(lists[i], tt.wantLists[i]) {
					t.Errorf("flat listing %d is %s, want …%s", i, lists[i], tt.wantLists[i])
				}
			}
		})
	}
}

// TestListWindowMatchesReference compares the pruned walk with the
// reference over random windows, for every layout.
func TestListWindowMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, l := range layouts {
		from, to := hour("2023-12-20T00"), hour("2024-03-10T00")
		mem := fill(l.name, from, to, max(l.step, 30*time.Minute))
		for i := range 25 {
			start := from.Add(-48*time.Hour + time.Duration(rng.Int64N(int64(to.Sub(from)+96*time.Hour))))
			length := time.Duration(rng.Int64N(int64(40 * 24 * time.Hour)))
			if i%4 == 0 {
				length = time.Duration(rng.Int64N(int64(3 * time.Hour)))
			}
			window := ingest.Span{Start: start.Truncate(time.Minute), End: start.Add(length + time.Minute).Truncate(time.Minute)}
			switch i {
			case 1:
				window.Start = time.Time{}
			case 2:
				window.End = time.Time{}
			}
			t.Run(fmt.Sprintf("%s/%d", name, i), func(t *testing.T) {
				got := collect(t, mem, l.root, window)
				want := reference(t, mem, l.root, window)
				if diff := cmp.Diff(got, want); diff != "" {
					t.Errorf("window %v–%v (-got +want):\n%s", window.Start, window.End, diff)
				}
			})
		}
	}
}

func TestListWindowRoots(t *testing.T) {
	l := layouts["aws-hourly"]
	mem := fill(l.name, hour("2023-06-14T00"), hour("2023-06-17T00"), l.step)
	window := ingest.Span{Start: hour("2023-06-15T10"), End: hour("2023-06-15T11")}
	one := l.name(hour("2023-06-15T10"))
	tests := []struct {
		name, root string
		window     ingest.Span
		want       int
	}{
		{"no trailing slash", "s3://flowlogs/AWSLogs", window, 3},
		{"root inside the dates", "s3://flowlogs/AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/06/", window, 3},
		{"root outside the window", "s3://flowlogs/AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/07/", window, 0},
		{"one object", one, window, 1},
		{"no window", "s3://flowlogs/AWSLogs/", ingest.Span{}, 72},
		{"nothing there", "s3://flowlogs/elsewhere/", window, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := collect(t, mem, tt.root, tt.window); len(got) != tt.want {
				t.Errorf("got %d objects, want %d: %v", len(got), tt.want, got)
			}
		})
	}
}

// A Source that cannot list by level is listed flat and filtered.
func TestListWindowFlatSource(t *testing.T) {
	l := layouts["gcs-sink"]
	mem := fill(l.name, hour("2023-06-14T00"), hour("2023-06-17T00"), l.step)
	window := ingest.Span{Start: hour("2023-06-15T10"), End: hour("2023-06-15T11")}
	got := collect(t, struct{ ingest.Source }{mem}, l.root, window)
	if want := reference(t, mem, l.root, window); !slices.Equal(got, want) || len(got) != 3 {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestKeyOf(t *testing.T) {
	for in, want := range map[string]string{
		"s3://bucket/a/b":            "a/b",
		"s3://2024/a":                "a",
		"azblob://acct/cont/y=2024/": "cont/y=2024/",
		"gs://bucket":                "",
		"/data/AWSLogs/x":            "/data/AWSLogs/x",
	} {
		if got := ingest.KeyOf(in); got != want {
			t.Errorf("KeyOf(%q) = %q, want %q", in, got, want)
		}
	}
}
