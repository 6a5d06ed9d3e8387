package flowbeam_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/flowsym/flowsym/correlate"
	"github.com/flowsym/flowsym/dist/beam/flowbeam"
	"github.com/flowsym/flowsym/dist/beam/internal/beamtest"
	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/ingesttest/emulator"
	"github.com/flowsym/flowsym/ingest/stores"
	"github.com/flowsym/flowsym/report"
)

// TestMain runs the tests on Prism, Beam's local runner, in this process
// (LOOPBACK: the workers are this process's goroutines).
func TestMain(m *testing.M) {
	flowbeam.Register()
	dir, err := os.MkdirTemp("", "flowbeam-test-*")
	if err != nil {
		panic(err)
	}
	testDir = dir
	code := ptest.MainRetWithDefault(m, "prism")
	emulator.StopAzurite()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run builds the pipeline of opts and runs it with ptest's runner.
func run(t testing.TB, opts flowbeam.Options) {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	if err := flowbeam.Build(s, opts); err != nil {
		t.Fatal(err)
	}
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
}

// TestDemoEqualsCLI runs the pipeline over the demo estate and expects
// the CLI's answer: the same findings file, byte for byte, and the same
// export rows in every folder.
func TestDemoEqualsCLI(t *testing.T) {
	f := setup(t)
	cliExport := filepath.Join(t.TempDir(), "export")
	want, _ := f.analyze(t, cliExport, f.logs)

	out := t.TempDir()
	run(t, flowbeam.Options{Inputs: []string{f.logs}, Topology: f.topology, TopologyName: f.config,
		Output: filepath.Join(out, "findings.jsonl"), Export: filepath.Join(out, "export")})
	got, err := os.ReadFile(filepath.Join(out, "findings.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sameFindings(t, want, got)
	sameExport(t, readTree(t, cliExport), readTree(t, filepath.Join(out, "export")))
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"export", "findings.jsonl"}) {
		t.Errorf("output folder holds %q; want the export and the findings only", names)
	}
}

// TestWindowShardsAndSmallState narrows the run to a window (as --since
// and --until) and to three of the four checks, splits the findings into
// shards, and makes every decode worker hand its state over every few
// hundred keys and build tiny batches: still the CLI's answer.
func TestWindowShardsAndSmallState(t *testing.T) {
	f := setup(t)
	since, until := "2026-11-20T10:20:00Z", "2026-11-20T10:47:30Z"
	cliExport := filepath.Join(t.TempDir(), "export")
	checks := []string{"asymmetric", "one_way", "unapproved_nat"} // all but hub_bypass, as analyze --checks
	want, _ := f.analyze(t, cliExport, "--since", since, "--until", until, "--checks", strings.Join(checks, ","), f.logs)

	out := t.TempDir()
	opts := flowbeam.Options{Inputs: []string{f.logs}, Topology: f.topology, TopologyName: f.config,
		Output: filepath.Join(out, "findings.jsonl"), OutputShards: 3, Export: filepath.Join(out, "export"),
		MaxKeys: 300, BatchRows: 500, Checks: checks}
	var err error
	if opts.Since, err = ingest.ParseTime(since, time.Now()); err != nil {
		t.Fatal(err)
	}
	if opts.Until, err = ingest.ParseTime(until, time.Now()); err != nil {
		t.Fatal(err)
	}
	run(t, opts)

	var all []correlate.Finding
	for i := range 3 {
		name := filepath.Join(out, "findings-0000"+string(rune('0'+i))+"-of-00003.jsonl")
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var shard []correlate.Finding
		for line := range bytes.Lines(data) {
			var fd correlate.Finding
			if err := json.Unmarshal(line, &fd); err != nil {
				t.Fatal(err)
			}
			shard = append(shard, fd)
		}
		if !slices.IsSortedFunc(shard, correlate.CompareFindings) {
			t.Errorf("%s is not sorted worst first", name)
		}
		all = append(all, shard...)
	}
	slices.SortFunc(all, correlate.CompareFindings)
	var got bytes.Buffer
	if err := report.JSON(&got, all); err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("no findings in the window: pick another")
	}
	sameFindings(t, want, got.Bytes())
	sameExport(t, readTree(t, cliExport), readTree(t, filepath.Join(out, "export")))
}

// store is an object store emulator with the demo estate in it.
type store struct {
	name  string
	start func(t *testing.T, f *fixture) (input, output string)
}

// stores lists the emulators: gofakes3 (S3), fake-gcs-server (GCS), both
// in this process, and Azurite (Azure Blob Storage), a child process.
var storeCases = []store{
	{"s3", func(t *testing.T, f *fixture) (string, string) {
		s3 := emulator.StartS3(t)
		emulator.S3Env(t, s3.URL)
		// Objects put straight into gofakes3 carry no checksum, which the
		// AWS SDK in Beam's S3 file system would log for every read.
		t.Setenv("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")
		s3.CreateBucket(t, "flowlogs")
		s3.CreateBucket(t, "lake")
		for rel, data := range demoObjects(t, f) {
			s3.Put(t, "flowlogs", "demo/"+rel, data)
		}
		return "s3://flowlogs/demo/", "s3://lake/run"
	}},
	{"gcs", func(t *testing.T, f *fixture) (string, string) {
		gcs := emulator.StartGCS(t)
		emulator.GCSEnv(t, gcs.Host)
		gcs.CreateBucket(t, "flowlogs")
		gcs.CreateBucket(t, "lake")
		for rel, data := range demoObjects(t, f) {
			gcs.Server.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "flowlogs", Name: "demo/" + rel}, Content: data})
		}
		return "gs://flowlogs/demo/", "gs://lake/run"
	}},
	{"azblob", func(t *testing.T, f *fixture) (string, string) {
		beamtest.Azurite(t, "flowlogs")
		beamtest.Azurite(t, "lake")
		root := "azblob://" + emulator.AzuriteAccount + "/flowlogs/demo/"
		put(t, root, demoObjects(t, f))
		return root, "azblob://" + emulator.AzuriteAccount + "/lake/run"
	}},
}

// demoObjects returns the demo estate's objects by name relative to logs/.
func demoObjects(t *testing.T, f *fixture) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(f.logs, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(f.logs, p)
		out[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// put writes objects under root through flowsym's stores.
func put(t *testing.T, root string, objects map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	st, prefix, err := stores.Open(ctx, root, stores.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for rel, data := range objects {
		w, err := st.Create(ctx, prefix+rel)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestObjectStores reads the demo estate from each emulator and writes the
// findings and the export back to it, through Beam's file systems (s3://,
// gs://) and flowsym's azblob:// one; the CLI reads the same objects, so
// evidence names agree.
func TestObjectStores(t *testing.T) {
	f := setup(t)
	for _, sc := range storeCases {
		t.Run(sc.name, func(t *testing.T) {
			input, output := sc.start(t, f)
			cliExport := filepath.Join(t.TempDir(), "export")
			want, _ := f.analyze(t, cliExport, input)
			if !bytes.Contains(want, []byte(strings.TrimSuffix(input, "/"))) {
				t.Fatalf("the CLI's evidence does not name %s objects", input)
			}
			run(t, flowbeam.Options{Inputs: []string{input}, Topology: f.topology,
				Output: output + "/findings.jsonl", Export: output + "/export"})
			tree := readTree(t, output+"/")
			sameFindings(t, want, tree["findings.jsonl"])
			exp := map[string][]byte{}
			for name, data := range tree {
				if rel, ok := strings.CutPrefix(name, "export/"); ok {
					exp[rel] = data
				} else if name != "findings.jsonl" {
					t.Errorf("unexpected object left in the output: %s", name)
				}
			}
			sameExport(t, readTree(t, cliExport), exp)
		})
	}
}

// TestOptionsRejected checks that Build refuses what the CLI refuses,
// before anything runs.
func TestOptionsRejected(t *testing.T) {
	good := flowbeam.Options{Inputs: []string{"logs"}, Output: "out.jsonl"}
	for _, tc := range []struct {
		name string
		edit func(*flowbeam.Options)
		want string
	}{
		{"no input", func(o *flowbeam.Options) { o.Inputs = nil }, "no input"},
		{"bad URL", func(o *flowbeam.Options) { o.Inputs = []string{"ftp://x/y"} }, "bad location"},
		{"no output", func(o *flowbeam.Options) { o.Output = "" }, "nothing to write"},
		{"bad topology", func(o *flowbeam.Options) { o.Topology = []byte("observers: [{role: nope}]") }, "topology:1"},
		{"bad format", func(o *flowbeam.Options) { o.InputFormat = "csv" }, "input format"},
		{"bad check", func(o *flowbeam.Options) { o.Checks = []string{"one-way"} }, "check"},
		{"bad window", func(o *flowbeam.Options) {
			o.Since, o.Until = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		}, "must be after"},
		{"bad schema", func(o *flowbeam.Options) { o.Export, o.ExportSchema = "x", "csv" }, "export schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.edit(&o)
			_, s := beam.NewPipelineWithRoot()
			err := flowbeam.Build(s, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestEmptyInput checks what finalize writes when no bundle wrote
// anything: as the CLI, an empty findings file (one per shard here) and one
// Parquet file without rows in connections/ and in findings/, in the NULL
// date partition.
func TestEmptyInput(t *testing.T) {
	f := setup(t)
	in := t.TempDir()
	cliExport := filepath.Join(t.TempDir(), "export")
	want, _ := f.analyze(t, cliExport, in)
	out := t.TempDir()
	run(t, flowbeam.Options{Inputs: []string{in}, Topology: f.topology, Output: filepath.Join(out, "f.jsonl"), OutputShards: 2,
		Export: filepath.Join(out, "export")})
	for _, name := range []string{"f-00000-of-00002.jsonl", "f-00001-of-00002.jsonl"} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || len(data) != 0 || len(want) != 0 {
			t.Errorf("%s: %q, %v; want an empty file, as the CLI's %q", name, data, err, want)
		}
	}
	folders := func(tree map[string][]byte) []string {
		var dirs []string
		for name := range tree {
			dirs = append(dirs, filepath.ToSlash(filepath.Dir(name)))
		}
		slices.Sort(dirs)
		return dirs
	}
	cli, beamTree := readTree(t, cliExport), readTree(t, filepath.Join(out, "export"))
	if got, want := folders(beamTree), folders(cli); !slices.Equal(got, want) {
		t.Errorf("export files in %q, want %q as the CLI", got, want)
	}
	if rows, _ := exportRows(t, beamTree); len(rows) != 0 {
		t.Errorf("an empty run exported %d rows", len(rows))
	}
}

func TestCheckEmpty(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := flowbeam.CheckEmpty(ctx, dir); err != nil {
		t.Errorf("empty folder: %v", err)
	}
	if err := flowbeam.CheckEmpty(ctx, filepath.Join(dir, "new")); err != nil {
		t.Errorf("missing folder: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
	if err := flowbeam.CheckEmpty(ctx, dir); err == nil {
		t.Error("a folder with a file passed")
	}
	s3 := emulator.StartS3(t)
	emulator.S3Env(t, s3.URL)
	s3.CreateBucket(t, "lake")
	if err := flowbeam.CheckEmpty(ctx, "s3://lake/run"); err != nil {
		t.Errorf("empty prefix: %v", err)
	}
	s3.Put(t, "lake", "run/flows/x.parquet", []byte("x"))
	if err := flowbeam.CheckEmpty(ctx, "s3://lake/run"); err == nil {
		t.Error("a prefix with an object passed")
	}
	if err := flowbeam.CheckEmpty(ctx, "s3://lake/runs"); err != nil {
		t.Errorf("a prefix next to one with objects: %v", err)
	}
}

// TestOCSFExport checks the export in the OCSF shape (--export-schema
// ocsf) against the CLI's, row for row.
func TestOCSFExport(t *testing.T) {
	f := setup(t)
	cliExport := filepath.Join(t.TempDir(), "export")
	f.analyze(t, cliExport, "--export-schema", "ocsf", "--run-id", "r1", f.logs)
	out := t.TempDir()
	run(t, flowbeam.Options{Inputs: []string{f.logs}, Topology: f.topology, Export: filepath.Join(out, "export"),
		ExportSchema: "ocsf", RunID: "r1", Version: cliVersion})
	sameExport(t, readTree(t, cliExport), readTree(t, filepath.Join(out, "export")))
}
