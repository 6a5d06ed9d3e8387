package flowbeam_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/google/go-cmp/cmp"

	"github.com/flowsym/flowsym/dist/beam/internal/beamtest"
	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/stores"
)

// fixture is what every test shares, made once per test process: the
// flowsym CLI built from this checkout, the demo estate it generates, and
// the CLI's own analysis of it (findings and export).
type fixture struct {
	dir      string // temporary folder of the test process
	cli      string // the flowsym binary
	demo     string // the demo estate: demo/logs, demo/flowsym.yaml
	logs     string
	config   string
	topology []byte
}

var (
	fixtureOnce sync.Once
	shared      *fixture
	fixtureErr  error
	testDir     string // removed by TestMain
)

func setup(t testing.TB) *fixture {
	t.Helper()
	fixtureOnce.Do(func() { shared, fixtureErr = newFixture() })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return shared
}

func newFixture() (*fixture, error) {
	f := &fixture{dir: testDir}
	f.cli = filepath.Join(f.dir, "flowsym")
	if err := goBuild(beamtest.Root(), f.cli, "./cmd/flowsym", "-ldflags", "-X main.version="+cliVersion); err != nil {
		return nil, err
	}
	f.demo = filepath.Join(f.dir, "demo")
	if out, err := exec.Command(f.cli, "generate", "--out", f.demo).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("flowsym generate: %v\n%s", err, out)
	}
	f.logs, f.config = filepath.Join(f.demo, "logs"), filepath.Join(f.demo, "flowsym.yaml")
	var err error
	f.topology, err = os.ReadFile(f.config)
	return f, err
}

// cliVersion is the version the test's flowsym is built with; the Beam
// runs are given it too, so the OCSF exports' metadata can be compared.
const cliVersion = "9.9.9-test"

// goBuild builds pkg of the module in dir into out.
func goBuild(dir, out, pkg string, flags ...string) error {
	// The go command that runs the tests is on PATH; go test does not
	// say where it is otherwise.
	cmd := exec.Command("go", append(append([]string{"build", "-o", out}, flags...), pkg)...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// analyze runs `flowsym analyze --format json` on inputs, with an export
// to exportDir when it is not empty, and returns the findings it printed
// and its run summary (the JSON line on stderr).
func (f *fixture) analyze(t testing.TB, exportDir string, args ...string) ([]byte, map[string]any) {
	t.Helper()
	all := []string{"analyze", "--config", f.config, "--format", "json", "--progress", "off"}
	if exportDir != "" {
		all = append(all, "--export", exportDir)
	}
	cmd := exec.Command(f.cli, append(all, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("flowsym analyze: %v\n%s", err, stderr.Bytes())
	}
	return stdout.Bytes(), summary(t, stderr.Bytes())
}

// summary finds the run summary line in a CLI's stderr.
func summary(t testing.TB, stderr []byte) map[string]any {
	t.Helper()
	for line := range bytes.Lines(stderr) {
		var m map[string]any
		if json.Unmarshal(line, &m) == nil && m["event"] == "flowsym.run" {
			return m
		}
	}
	t.Fatalf("no run summary in:\n%s", stderr)
	return nil
}

// readTree reads every object under root (a folder or an object-store
// prefix) through flowsym's stores, by name relative to root.
func readTree(t testing.TB, root string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	loc, err := stores.Parse(root)
	if err != nil {
		t.Fatal(err)
	}
	st, prefix, err := stores.Open(ctx, root, stores.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := st.(io.Closer); ok {
		defer c.Close()
	}
	if loc.Scheme == stores.Local {
		prefix = root
	}
	out := map[string][]byte{}
	err = st.List(ctx, prefix, func(o ingest.Object) error {
		r, err := st.Open(ctx, o.Name)
		if err != nil {
			return err
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		rel := strings.TrimPrefix(filepath.ToSlash(strings.TrimPrefix(o.Name, prefix)), "/")
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// exportRows turns an export's Parquet files into one line per row: the
// file's folder (its Hive partition) and the row's values as JSON,
// sorted, so that two exports compare row for row whatever files they are
// cut into. It also returns the number of files per folder.
func exportRows(t testing.TB, tree map[string][]byte) (rows []string, files map[string]int) {
	t.Helper()
	files = map[string]int{}
	for name, data := range tree {
		if !strings.HasSuffix(name, ".parquet") {
			t.Errorf("export holds a file that is not Parquet: %s", name)
			continue
		}
		dir := filepath.ToSlash(filepath.Dir(name))
		top, _, _ := strings.Cut(dir, "/")
		files[top]++
		rd, err := file.NewParquetReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fr, err := pqarrow.NewFileReader(rd, pqarrow.ArrowReadProperties{BatchSize: 4096}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sc := tbl.Schema()
		cols := make([][]any, tbl.NumCols())
		for c := range tbl.NumCols() {
			for _, chunk := range tbl.Column(int(c)).Data().Chunks() {
				for i := range chunk.Len() {
					cols[c] = append(cols[c], chunk.GetOneForMarshal(i))
				}
			}
		}
		for i := range tbl.NumRows() {
			var sb strings.Builder
			sb.WriteString(dir)
			for c := range cols {
				b, err := json.Marshal(cols[c][i])
				if err != nil {
					t.Fatal(err)
				}
				sb.WriteString(" " + sc.Field(c).Name + "=")
				sb.Write(b)
			}
			rows = append(rows, sb.String())
		}
		tbl.Release()
		rd.Close()
	}
	slices.Sort(rows)
	return rows, files
}

// sameExport compares two analysis exports row for row, and checks that
// every folder has files and that no temporary file was left.
func sameExport(t testing.TB, want, got map[string][]byte) {
	t.Helper()
	for name := range got {
		if strings.Contains(name, "_temporary") {
			t.Errorf("temporary file left in the export: %s", name)
		}
	}
	wantRows, wantFiles := exportRows(t, want)
	gotRows, gotFiles := exportRows(t, got)
	for _, dir := range []string{"flows", "connections", "findings"} {
		if wantFiles[dir] > 0 && gotFiles[dir] == 0 {
			t.Errorf("export folder %s/ has no file", dir)
		}
	}
	if len(wantRows) == 0 {
		t.Fatal("the CLI's export has no rows")
	}
	if diff := cmp.Diff(wantRows, gotRows); diff != "" {
		t.Errorf("export rows (-CLI +Beam):\n%s", diff)
	}
	count := func(rows []string, dir string) int {
		n := 0
		for _, r := range rows {
			if strings.HasPrefix(r, dir+"/") {
				n++
			}
		}
		return n
	}
	t.Logf("export rows equal: %d flows, %d connections, %d findings (CLI files %v, Beam files %v)",
		count(gotRows, "flows"), count(gotRows, "connections"), count(gotRows, "findings"), wantFiles, gotFiles)
}

// sameFindings compares findings files byte for byte, and reports a
// readable difference.
func sameFindings(t testing.TB, want, got []byte) {
	t.Helper()
	if bytes.Equal(want, got) {
		t.Logf("findings equal, byte for byte: %d findings", bytes.Count(got, []byte("\n")))
		return
	}
	t.Errorf("findings (-CLI +Beam):\n%s", cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")))
}
