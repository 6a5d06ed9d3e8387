package ingesttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowsym/flowsym/ingest"
)

// NewStore returns an empty store for one subtest of Acceptance and the
// prefix under which the subtest may create objects: a URL such as
// "s3://bucket/" or "azblob://account/container/some/dir/", or a local
// directory ending in "/". Object names are that prefix followed by a key.
type NewStore func(t *testing.T) (ingest.Store, string)

// Option adjusts Acceptance to a store.
type Option func(*config)

type config struct {
	many        int
	listETags   bool
	largeObject int
}

// ManyObjects sets how many objects the pagination test writes (default
// 1,100: two pages at S3's and Azure's 1,000). Stores that are slow with
// many objects (fake-gcs-server) use fewer and a small page size.
func ManyObjects(n int) Option { return func(c *config) { c.many = n } }

// NoListETags tells Acceptance that List leaves Object.ETag empty (the
// local file system); Stat must still give one.
func NoListETags() Option { return func(c *config) { c.listETags = false } }

// LargeObject sets the size of the large-object write test (default
// 6 MiB, more than one 5 MiB S3 part).
func LargeObject(n int) Option { return func(c *config) { c.largeObject = n } }

// Acceptance is the behaviour every ingest.Store in flowsym must have, run
// the same way over the local file system and each cloud's emulator:
// listing (prefixes, order, pagination, one level at a time, names with
// ":" and "=" as in GCS and Azure layouts), opening whole and in ranges,
// classification of missing objects, atomic writes (a reader never sees
// half an object), conditional writes for state files, cancellation, and
// time-window listing.
func Acceptance(t *testing.T, newStore NewStore, opts ...Option) {
	cfg := config{many: 1100, listETags: true, largeObject: 6<<20 + 123}
	for _, o := range opts {
		o(&cfg)
	}
	t.Run("ListAndOpen", func(t *testing.T) { testListAndOpen(t, newStore, cfg) })
	t.Run("Names", func(t *testing.T) { testNames(t, newStore) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, newStore) })
	t.Run("Pagination", func(t *testing.T) { testPagination(t, newStore, cfg) })
	t.Run("ListDir", func(t *testing.T) { testListDir(t, newStore) })
	t.Run("Range", func(t *testing.T) { testRange(t, newStore) })
	t.Run("CreateCommitAbort", func(t *testing.T) { testCreate(t, newStore, cfg) })
	t.Run("Atomic", func(t *testing.T) { testAtomic(t, newStore) })
	t.Run("Conditional", func(t *testing.T) { testConditional(t, newStore) })
	t.Run("Canceled", func(t *testing.T) { testCanceled(t, newStore) })
	t.Run("ListWindow", func(t *testing.T) { testListWindow(t, newStore) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newStore) })
}

// testDelete: a deleted object is gone from Open and List; deleting a
// missing one is not an error.
func testDelete(t *testing.T, newStore NewStore) {
	st, base := newStore(t)
	d, ok := st.(ingest.Deleter)
	if !ok {
		t.Skip("the store cannot delete")
	}
	ctx := context.Background()
	Put(t, st, base+"keep/a.parquet", []byte("a"))
	Put(t, st, base+"keep/b.parquet", []byte("b"))
	if err := d.Delete(ctx, base+"keep/a.parquet"); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(ctx, st, base+"keep/a.parquet"); !errors.Is(err, ingest.ErrNotFound) {
		t.Errorf("open after delete: %v, want ErrNotFound", err)
	}
	var names []string
	if err := st.List(ctx, base+"keep/", func(o ingest.Object) error { names = append(names, o.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || !strings.HasSuffix(names[0], "keep/b.parquet") {
		t.Errorf("list after delete: %v", names)
	}
	if err := d.Delete(ctx, base+"keep/never-there.parquet"); err != nil {
		t.Errorf("deleting a missing object: %v", err)
	}
}

// Put writes one object through the store's Create.
func Put(t testing.TB, st ingest.Store, name string, data []byte) {
	t.Helper()
	if err := put(context.Background(), st, name, data); err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
}

func put(ctx context.Context, st ingest.Store, name string, data []byte) error {
	w, err := st.Create(ctx, name)
	if err != nil {
		return err
	}
	defer w.Abort()
	if _, err := w.Write(data); err != nil {
		return err
	}
	return w.Commit()
}

// PutAll writes objects with 16 writers at a time.
func PutAll(t testing.TB, st ingest.Store, objects map[string][]byte) {
	t.Helper()
	names := make(chan string)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for n := range names {
				if err := put(context.Background(), st, n, objects[n]); err != nil {
					errs <- fmt.Errorf("put %s: %w", n, err)
					return
				}
			}
		})
	}
	for n := range objects {
		select {
		case names <- n:
		case err := <-errs:
			close(names)
			wg.Wait()
			t.Fatal(err)
		}
	}
	close(names)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

// ReadAll opens name and reads it whole.
func ReadAll(t testing.TB, src ingest.Source, name string) []byte {
	t.Helper()
	b, err := readAll(context.Background(), src, name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

func readAll(ctx context.Context, src ingest.Source, name string) ([]byte, error) {
	r, err := src.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// ListNames lists prefix and returns the object names, in the order given.
func ListNames(t testing.TB, src ingest.Source, prefix string) []string {
	t.Helper()
	var names []string
	err := src.List(context.Background(), prefix, func(o ingest.Object) error {
		names = append(names, o.Name)
		return nil
	})
	if err != nil && !errors.Is(err, ingest.ErrNotFound) {
		t.Fatalf("list %s: %v", prefix, err)
	}
	return names
}

func listObjects(t *testing.T, src ingest.Source, prefix string) map[string]ingest.Object {
	t.Helper()
	got := map[string]ingest.Object{}
	err := src.List(context.Background(), prefix, func(o ingest.Object) error {
		if _, dup := got[o.Name]; dup {
			t.Errorf("list %s: %s listed twice", prefix, o.Name)
		}
		got[o.Name] = o
		return nil
	})
	if err != nil {
		t.Fatalf("list %s: %v", prefix, err)
	}
	return got
}

func content(name string, n int) []byte {
	return bytes.Repeat([]byte(name+"\n"), n)
}

func testListAndOpen(t *testing.T, newStore NewStore, cfg config) {
	st, base := newStore(t)
	keys := []string{
		"a/1.log.gz", "a/2.log.gz", "a/b/3.log.gz", "a/b/c/4.log.gz",
		"ab/5.log.gz", "z.log",
	}
	objects := map[string][]byte{}
	for i, k := range keys {
		objects[base+k] = content(k, i*7+1)
	}
	before := time.Now().Add(-time.Hour)
	PutAll(t, st, objects)

	check := func(prefix string, wantKeys ...string) {
		t.Helper()
		var want []string
		for _, k := range wantKeys {
			want = append(want, base+k)
		}
		got := ListNames(t, st, prefix)
		if !slices.Equal(got, want) {
			t.Errorf("list %s:\n got %q\nwant %q", prefix, got, want)
		}
	}
	check(base, keys...)
	check(base+"a/", "a/1.log.gz", "a/2.log.gz", "a/b/3.log.gz", "a/b/c/4.log.gz")
	check(base+"a/b/", "a/b/3.log.gz", "a/b/c/4.log.gz")
	check(base+"ab/", "ab/5.log.gz")
	check(base + "nothing/")

	listed := listObjects(t, st, base)
	for name, data := range objects {
		o := listed[name]
		if o.Size != int64(len(data)) {
			t.Errorf("%s: listed size %d, want %d", name, o.Size, len(data))
		}
		if o.Modified.Before(before) || o.Modified.After(time.Now().Add(time.Hour)) {
			t.Errorf("%s: listed modification time %v is not about now", name, o.Modified)
		}
		if cfg.listETags && o.ETag == "" {
			t.Errorf("%s: no ETag in the listing", name)
		}
		if got := ReadAll(t, st, name); !bytes.Equal(got, data) {
			t.Errorf("%s: read %d bytes, want the %d written", name, len(got), len(data))
		}
		if sr, ok := st.(ingest.Stater); ok {
			so, err := sr.Stat(context.Background(), name)
			if err != nil {
				t.Errorf("stat %s: %v", name, err)
			} else if so.Name != name || so.Size != o.Size || so.ETag == "" || (cfg.listETags && so.ETag != o.ETag) {
				t.Errorf("stat %s = %+v, listed %+v", name, so, o)
			}
		}
	}
}

// testNames uses the names that GCS and Azure layouts produce.
func testNames(t *testing.T, newStore NewStore) {
	st, base := newStore(t)
	keys := []string{
		"compute.googleapis.com/vpc_flows/2024/05/01/10:00:00_10:59:59_S0.json",
		"compute.googleapis.com/vpc_flows/2024/05/01/10:00:00_10:59:59_A0:1714560000.json",
		"insights-logs/resourceId=/SUBSCRIPTIONS/0000-AAAA/RESOURCEGROUPS/RG-1/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG_1/y=2024/m=05/d=01/h=10/m=00/macAddress=000D3A1B2C3D/PT1H.json",
		"AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2024/month=05/day=01/hour=10/f.log.parquet",
		"odd/a,b;c@d!e~f'g(h).log",
	}
	objects := map[string][]byte{}
	for _, k := range keys {
		objects[base+k] = content(k, 3)
	}
	PutAll(t, st, objects)
	got := listObjects(t, st, base)
	if len(got) != len(keys) {
		t.Errorf("listed %d objects, want %d: %v", len(got), len(keys), got)
	}
	for name, data := range objects {
		if _, ok := got[name]; !ok {
			t.Errorf("%s not listed", name)
		}
		if b := ReadAll(t, st, name); !bytes.Equal(b, data) {
			t.Errorf("%s: read back %q", name, b)
		}
	}
	dl, ok := st.(ingest.DirLister)
	if !ok {
		return
	}
	// Walk the Azure name down level by level, through "resourceId=/".
	az := base + keys[2]
	prefix := base + "insights-logs/"
	for {
		var entries []string
		if err := dl.ListDir(context.Background(), prefix, func(o ingest.Object) error {
			entries = append(entries, o.Name)
			return nil
		}); err != nil {
			t.Fatalf("listdir %s: %v", prefix, err)
		}
		if len(entries) != 1 || !strings.HasPrefix(az, entries[0]) {
			t.Fatalf("listdir %s = %q, want one step towards %s", prefix, entries, az)
		}
		if entries[0] == az {
			break
		}
		prefix = entries[0]
	}
}

func testNotFound(t *testing.T, newStore NewStore) {
	st, base := newStore(t)
	Put(t, st, base+"present", []byte("x"))
	missing := base + "missing/object.log.gz"
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, ingest.ErrNotFound) {
			t.Errorf("%s of a missing object: %v, want ErrNotFound", op, err)
		} else if !strings.Contains(err.Error(), "missing/object.log.gz") {
			t.Errorf("%s of a missing object: %q does not name it", op, err)
		}
		if errors.Is(err, ingest.ErrTransient) || errors.Is(err, ingest.ErrPermission) {
			t.Errorf("%s of a missing object: %v is also transient or denied", op, err)
		}
	}
	_, err := readAll(context.Background(), st, missing)
	check("open", err)
	if sr, ok := st.(ingest.Stater); ok {
		_, err := sr.Stat(context.Background(), missing)
		check("stat", err)
	}
	if ro, ok := st.(ingest.RangeOpener); ok {
		r, err := ro.OpenRange(context.Background(), missing, 1, 10)
		if err == nil {
			_, err = io.ReadAll(r)
			r.Close()
		}
		check("open range", err)
	}
}

func testPagination(t *testing.T, newStore NewStore, cfg config) {
	st, base := newStore(t)
	objects := map[string][]byte{}
	var want []string
	for i := range cfg.many {
		name := fmt.Sprintf("%smany/d%02d/%05d.log", base, i%30, i)
		objects[name] = []byte(name)
		want = append(want, name)
	}
	slices.Sort(want)
	PutAll(t, st, objects)
	if got := ListNames(t, st, base+"many/"); !slices.Equal(got, want) {
		t.Errorf("listed %d names, want the %d written, in order", len(got), len(want))
	}
	dl, ok := st.(ingest.DirLister)
	if !ok {
		return
	}
	dirs := listDir(t, dl, base+"many/")
	if len(dirs) != 30 || dirs[0] != base+"many/d00/" || dirs[29] != base+"many/d29/" {
		t.Errorf("listdir many/ = %d entries %q, want d00/ … d29/ once each", len(dirs), dirs)
	}
	if got := listDir(t, dl, base+"many/d0"); len(got) != 10 {
		t.Errorf("listdir many/d0 = %q, want d00/ … d09/", got)
	}
	if got := listDir(t, dl, base+"many/d07/"); len(got) != (cfg.many+22)/30 {
		t.Errorf("listdir many/d07/ = %d objects, want %d", len(got), (cfg.many+22)/30)
	}
}

func listDir(t *testing.T, dl ingest.DirLister, prefix string) []string {
	t.Helper()
	var got []string
	err := dl.ListDir(context.Background(), prefix, func(o ingest.Object) error {
		got = append(got, o.Name)
		if strings.HasSuffix(o.Name, "/") && (o.Size != 0 || o.ETag != "") {
			t.Errorf("listdir %s: directory entry %+v has object fields", prefix, o)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("listdir %s: %v", prefix, err)
	}
	slices.Sort(got)
	return got
}

func testListDir(t *testing.T, newStore NewStore) {
	st, base := newStore(t)
	dl, ok := st.(ingest.DirLister)
	if !ok {
		t.Skip("not an ingest.DirLister")
	}
	for _, k := range []string{"top.log", "d1/x.log", "d1/y/z.log", "d2/x.log", "d10/x.log", "e.log"} {
		Put(t, st, base+k, []byte(k))
	}
	if got, want := listDir(t, dl, base), []string{base + "d1/", base + "d10/", base + "d2/", base + "e.log", base + "top.log"}; !slices.Equal(got, want) {
		t.Errorf("listdir root:\n got %q\nwant %q", got, want)
	}
	if got, want := listDir(t, dl, base+"d1/"), []string{base + "d1/x.log", base + "d1/y/"}; !slices.Equal(got, want) {
		t.Errorf("listdir d1/:\n got %q\nwant %q", got, want)
	}
	if got, want := listDir(t, dl, base+"d1"), []string{base + "d1/", base + "d10/"}; !slices.Equal(got, want) {
		t.Errorf("listdir d1 (a partial name):\n got %q\nwant %q", got, want)
	}
	if got := listDir(t, dl, base+"nothing/"); len(got) != 0 {
		t.Errorf("listdir of a missing prefix = %q", got)
	}
}

func testRange(t *testing.T, newStore NewStore) {
	st, base := newStore(t)
	ro, ok := st.(ingest.RangeOpener)
	if !ok {
		t.Skip("not an ingest.RangeOpener")
	}
	name := base + "range.bin"
	data := make([]byte, 100_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	Put(t, st, name, data)
	size := int64(len(data))
	var etag string
	if sr, ok := st.(ingest.Stater); ok {
		o, err := sr.Stat(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		etag = o.ETag
	}
	for _, tc := range []struct{ off, n int64 }{
		{0, -1}, {0, 10}, {10, 20}, {size - 8, -1}, {size - 8, 8}, {size - 8, 100}, {1234, 50_000},
		{size, -1}, {size + 10, -1}, {size, 10}, {5, 0},
	} {
		r, err := ro.OpenRange(context.Background(), name, tc.off, tc.n)
		if err != nil {
			t.Errorf("open range %d+%d: %v", tc.off, tc.n, err)
			continue
		}
		got, err := io.ReadAll(r)
		if v, ok := r.(ingest.Versioned); ok && err == nil && etag != "" && v.ETag() != etag && len(got) > 0 {
			t.Errorf("open range %d+%d: reader reads version %s, stat says %s", tc.off, tc.n, v.ETag(), etag)
		}
		r.Close()
		lo := min(tc.off, size)
		hi := size
		if tc.n >= 0 {
			hi = min(size, tc.off+tc.n)
		}
		hi = max(hi, lo)
		if err != nil || !bytes.Equal(got, data[lo:hi]) {
			t.Errorf("open range %d+%d: %d bytes, err %v; want bytes %d–%d", tc.off, tc.n, len(got), err, lo, hi)
		}
	}
	r, err := st.Open(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if v, ok := r.(ingest.Versioned); ok && etag != "" && v.ETag() != etag {
		t.Errorf("open: reader reads version %s, stat says %s", v.ETag(), etag)
	}
}

func exists(t *testing.T, st ingest.Store, name string) bool {
	t.Helper()
	_, err := readAll(context.Background(), st, name)
	switch {
	case err == nil:
		return true
	case errors.Is(err, ingest.ErrNotFound):
		return false
	}
	t.Fatalf("read %s: %v", name, err)
	return false
}

func testCreate(t *testing.T, newStore NewStore, cfg config) {
	st, base := newStore(t)
	ctx := context.Background()

	t.Run("commit", func(t *testing.T) {
		name := base + "out/commit.bin"
		w, err := st.Create(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		w.Write([]byte("first half, "))
		if exists(t, st, name) || slices.Contains(ListNames(t, st, base+"out/"), name) {
			t.Errorf("%s visible before Commit", name)
		}
		w.Write([]byte("second half"))
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := ReadAll(t, st, name); string(got) != "first half, second half" {
			t.Errorf("read %q", got)
		}
		if _, err := w.Write([]byte("more")); err == nil {
			t.Error("Write after Commit succeeded")
		}
		if err := w.Commit(); err == nil {
			t.Error("second Commit succeeded")
		}
		if err := w.Abort(); err != nil {
			t.Errorf("Abort after Commit: %v", err)
		}
		if got := ReadAll(t, st, name); string(got) != "first half, second half" {
			t.Errorf("after Abort, read %q", got)
		}
	})

	t.Run("empty", func(t *testing.T) {
		name := base + "out/empty"
		w, err := st.Create(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := ReadAll(t, st, name); len(got) != 0 {
			t.Errorf("read %q", got)
		}
	})

	t.Run("abort", func(t *testing.T) {
		name := base + "out/abort.bin"
		w, err := st.Create(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("never"))
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(); err == nil {
			t.Error("Commit after Abort succeeded")
		}
		if exists(t, st, name) {
			t.Errorf("%s exists after Abort", name)
		}
		if got := ListNames(t, st, base+"out/"); slices.Contains(got, name) {
			t.Errorf("%s listed after Abort", name)
		}
	})

	t.Run("overwrite", func(t *testing.T) {
		name := base + "out/overwrite.bin"
		Put(t, st, name, []byte("version 1"))
		w, err := st.Create(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		w.Write([]byte("version 2, "))
		if got := ReadAll(t, st, name); string(got) != "version 1" {
			t.Errorf("during the write, read %q", got)
		}
		w.Write([]byte("whole"))
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := ReadAll(t, st, name); string(got) != "version 2, whole" {
			t.Errorf("after Commit, read %q", got)
		}
	})

	t.Run("large", func(t *testing.T) {
		data := make([]byte, cfg.largeObject)
		for i := range data {
			data[i] = byte(i ^ i>>11)
		}
		write := func(name string) ingest.ObjectWriter {
			w, err := st.Create(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			for off := 0; off < len(data); off += 64 << 10 {
				if _, err := w.Write(data[off:min(off+64<<10, len(data))]); err != nil {
					t.Fatal(err)
				}
			}
			return w
		}
		w := write(base + "out/large-aborted.bin")
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if exists(t, st, base+"out/large-aborted.bin") {
			t.Error("large object visible after Abort")
		}
		w = write(base + "out/large.bin")
		// Parts, chunks or blocks are uploaded by now; none may show.
		if exists(t, st, base+"out/large.bin") {
			t.Error("large object visible before Commit")
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := ReadAll(t, st, base+"out/large.bin"); !bytes.Equal(got, data) {
			t.Errorf("read %d bytes back, want the %d written", len(got), len(data))
		}
	})

	t.Run("canceled", func(t *testing.T) {
		name := base + "out/canceled.bin"
		cctx, cancel := context.WithCancel(ctx)
		w, err := st.Create(cctx, name)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		w.Write([]byte("half"))
		cancel()
		w.Write([]byte("more"))
		if err := w.Commit(); err == nil {
			t.Error("Commit with a canceled context succeeded")
		}
		if exists(t, st, name) {
			t.Errorf("%s exists after its context was canceled", name)
		}
	})
}

// testAtomic reads an object again and again while it is rewritten: every
// read must give one whole version.
func testAtomic(t *testing.T, newStore NewStore) {
	st, base := newStore(t)
	name := base + "state/atomic.bin"
	const versions = 5
	version := func(i int) []byte {
		return bytes.Repeat([]byte(fmt.Sprintf("version %d;", i)), 20_000) // 220 kB
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reads, missing int
	var bad []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			b, err := readAll(ctx, st, name)
			switch {
			case errors.Is(err, ingest.ErrNotFound):
				missing++
				continue
			case err != nil:
				if ctx.Err() == nil {
					bad = append(bad, err.Error())
				}
				return
			}
			reads++
			whole := false
			for i := 1; i <= versions; i++ {
				whole = whole || bytes.Equal(b, version(i))
			}
			if !whole {
				bad = append(bad, fmt.Sprintf("read %d bytes that are no whole version", len(b)))
			}
		}
	}()
	for i := 1; i <= versions; i++ {
		w, err := st.Create(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		data := version(i)
		for off := 0; off < len(data); off += 32 << 10 {
			w.Write(data[off:min(off+32<<10, len(data))])
			time.Sleep(2 * time.Millisecond)
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond)
	cancel()
	<-done
	if len(bad) > 0 {
		t.Errorf("%d bad reads, the first: %s", len(bad), bad[0])
	}
	t.Logf("%d whole reads, %d before the first commit", reads, missing)
}

func testConditional(t *testing.T, newStore NewStore) {
	st, base := newStore(t)
	cc, ok := st.(ingest.ConditionalCreator)
	sr, ok2 := st.(ingest.Stater)
	if !ok || !ok2 {
		t.Skip("not an ingest.ConditionalCreator and ingest.Stater")
	}
	ctx := context.Background()
	name := base + "state/run.json"
	write := func(ifMatch, data string) error {
		w, err := cc.CreateIf(ctx, name, ifMatch)
		if err != nil {
			return err
		}
		defer w.Abort()
		if _, err := w.Write([]byte(data)); err != nil {
			return err
		}
		return w.Commit()
	}
	if err := write("", "v1"); err != nil {
		t.Fatalf("create if absent, absent: %v", err)
	}
	if err := write("", "v1 again"); !errors.Is(err, ingest.ErrPrecondition) {
		t.Errorf("create if absent, present: %v, want ErrPrecondition", err)
	}
	o1, err := sr.Stat(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(o1.ETag, "v2"); err != nil {
		t.Fatalf("create if %s, at %s: %v", o1.ETag, o1.ETag, err)
	}
	o2, err := sr.Stat(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if o2.ETag == o1.ETag {
		t.Errorf("the ETag %s did not change with the content", o2.ETag)
	}
	if err := write(o1.ETag, "v3 from a stale reader"); !errors.Is(err, ingest.ErrPrecondition) {
		t.Errorf("create if %s, at %s: %v, want ErrPrecondition", o1.ETag, o2.ETag, err)
	}
	if got := ReadAll(t, st, name); string(got) != "v2" {
		t.Errorf("read %q, want v2", got)
	}
	r, err := st.Open(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := r.(ingest.Versioned); ok && v.ETag() != o2.ETag {
		t.Errorf("reader ETag %s, stat %s", v.ETag(), o2.ETag)
	}
	r.Close()
}

func testCanceled(t *testing.T, newStore NewStore) {
	st, base := newStore(t)
	Put(t, st, base+"x.log", []byte("x"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := readAll(ctx, st, base+"x.log"); !errors.Is(err, context.Canceled) {
		t.Errorf("open with a canceled context: %v", err)
	}
	err := st.List(ctx, base, func(ingest.Object) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("list with a canceled context: %v", err)
	}
}

// testListWindow runs the time-window planner over the store: a day and
// a half of hourly AWS partitions, one hour asked for.
func testListWindow(t *testing.T, newStore NewStore) {
	st, base := newStore(t)
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	objects := map[string][]byte{}
	for h := range 36 {
		slot := start.Add(time.Duration(h) * time.Hour)
		key := fmt.Sprintf("AWSLogs/123456789012/vpcflowlogs/us-east-1/%s/123456789012_vpcflowlogs_us-east-1_fl-1_%s_0.log.gz",
			slot.Format("2006/01/02/15"), slot.Format("20060102T1504Z"))
		objects[base+key] = []byte(key)
	}
	PutAll(t, st, objects)
	src := &Counting{Src: st}
	window := ingest.Span{Start: start.Add(10 * time.Hour), End: start.Add(11 * time.Hour)}
	var got []string
	err := ingest.ListWindow(context.Background(), src, base+"AWSLogs/", window, func(o ingest.Object) error {
		got = append(got, o.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !strings.Contains(got[0], "/2024/05/01/09/") || !strings.Contains(got[2], "/2024/05/01/11/") {
		t.Errorf("got %q, want the objects of hours 09, 10, 11", got)
	}
	flat := 0
	for _, c := range src.Calls() {
		if c.Op == "list" {
			flat++
		}
	}
	if calls := src.Calls(); flat != 3 || len(calls) != 10 {
		t.Errorf("%d listings (%d flat), want 10 (3 flat): %v", len(calls), flat, calls)
	}
}
