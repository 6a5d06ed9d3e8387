package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flowsym/flowsym/internal/parquetcheck"
)

// estateLogs generates the demo estate once per test binary and returns
// its logs folder.
var estateLogs = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "flowsym-estate-*")
	if err != nil {
		return "", err
	}
	var out, errb bytes.Buffer
	if code := run(t0ctx(), []string{"generate", "--out", dir}, &out, &errb); code != 0 {
		return "", &exitError{code: code, err: os.ErrInvalid}
	}
	return filepath.Join(dir, "logs"), nil
})

// exportRows reads every Parquet file under dir and returns each row as a
// sorted key=value line, so two exports compare as multisets of rows. The
// input folders in roots are cut from source_object, so that exports of the
// same logs copied elsewhere compare equal.
func exportRows(t *testing.T, dir string, roots ...string) []string {
	t.Helper()
	var rows []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		part := strings.TrimPrefix(filepath.ToSlash(filepath.Dir(p)), filepath.ToSlash(dir))
		for _, r := range parquetcheck.Read(t, p).Rows {
			var kv []string
			for k, v := range r {
				for _, root := range roots {
					v = strings.TrimPrefix(v, root)
				}
				kv = append(kv, k+"="+v)
			}
			slices.Sort(kv)
			rows = append(rows, part+" "+strings.Join(kv, " "))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(rows)
	return rows
}

// copyTree copies the files of src whose path passes keep into dst.
func copyTree(t *testing.T, src, dst string, keep func(rel string) bool) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if !keep(rel) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func normalizeArgs(in, out, state string) []string {
	return []string{"normalize", in, "--out", out, "--state", state, "--progress", "off"}
}

// TestStateIncremental: run over part of the objects, add the rest and one
// Azure blob that grew during its hour, run again; the export then holds
// exactly the rows of one clean run over everything.
func TestStateIncremental(t *testing.T) {
	logs, err := estateLogs()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	clean := filepath.Join(tmp, "clean")
	if code, _, stderr := flowsym(t, "normalize", logs, "--out", clean, "--progress", "off"); code != exitOK {
		t.Fatalf("clean run: exit %d: %s", code, stderr)
	}
	want := exportRows(t, clean, logs)

	in, out, state := filepath.Join(tmp, "in"), filepath.Join(tmp, "out"), filepath.Join(tmp, "state.json")
	azure := "" // one Azure blob, first copied half-written
	firstHalf := copyTree(t, logs, in, func(rel string) bool {
		if strings.Contains(rel, "azure") && azure == "" {
			azure = rel
			return false
		}
		return rand.N(2) == 0 || strings.Contains(rel, "gcp")
	})
	halfWritten(t, filepath.Join(logs, azure), filepath.Join(in, azure))
	if code, _, stderr := flowsym(t, normalizeArgs(in, out, state)...); code != exitOK {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	rest := copyTree(t, logs, in, func(rel string) bool {
		_, err := os.Stat(filepath.Join(in, rel))
		return os.IsNotExist(err) || rel == azure
	})
	code, _, stderr := flowsym(t, normalizeArgs(in, out, state)...)
	if code != exitOK || !strings.Contains(stderr, "objects taken by earlier runs") {
		t.Fatalf("second run: exit %d: %s", code, stderr)
	}
	if diff := cmp.Diff(want, exportRows(t, out, in)); diff != "" {
		t.Errorf("after %d then %d objects, the export differs from one clean run (-clean +incremental):\n%.3000s", firstHalf, rest, diff)
	}
	// A third run with nothing new adds nothing.
	before := len(exportRows(t, out))
	if code, _, stderr := flowsym(t, normalizeArgs(in, out, state)...); code != exitOK || !strings.Contains(stderr, "wrote 0 rows") {
		t.Errorf("third run: exit %d: %s", code, stderr)
	}
	if after := len(exportRows(t, out)); after != before {
		t.Errorf("a run with nothing new changed the export from %d to %d rows", before, after)
	}
	var st struct {
		Objects map[string]struct{ Lines int64 } `json:"objects"`
	}
	data, _ := os.ReadFile(state)
	if err := json.Unmarshal(data, &st); err != nil || len(st.Objects) != firstHalf+rest {
		t.Errorf("state holds %d objects (%v), want %d", len(st.Objects), err, firstHalf+rest)
	}
}

// halfWritten writes the first half of an Azure PT1H.json's records, as a
// read in the middle of its hour sees it.
func halfWritten(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Records []json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.Records) < 2 {
		t.Fatalf("%s: %v, %d records", src, err, len(doc.Records))
	}
	doc.Records = doc.Records[:len(doc.Records)/2]
	half, _ := json.Marshal(doc)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, half, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStateSurvivesKill kills a scheduled run at random moments (SIGKILL:
// no cleanup of its own) and reruns it: every time, the export equals one
// clean run, with no row lost or duplicated.
func TestStateSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it several times")
	}
	logs, err := estateLogs()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "flowsym")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	clean := filepath.Join(tmp, "clean")
	if code, _, stderr := flowsym(t, "normalize", logs, "--out", clean, "--progress", "off"); code != exitOK {
		t.Fatalf("clean run: exit %d: %s", code, stderr)
	}
	want := exportRows(t, clean)
	// How long a whole run takes here, to spread the kills over it.
	began := time.Now()
	if err := exec.Command(bin, normalizeArgs(logs, filepath.Join(tmp, "timing"), filepath.Join(tmp, "timing.json"))...).Run(); err != nil {
		t.Fatal(err)
	}
	whole := time.Since(began)
	killed := 0
	for i := range 6 {
		out, state := filepath.Join(tmp, "out", string(rune('a'+i))), filepath.Join(tmp, string(rune('a'+i))+".json")
		cmd := exec.Command(bin, normalizeArgs(logs, out, state)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill at a point spread over the run, the last ones near its end
		// where the files are committed.
		time.Sleep(time.Duration(float64(whole) * (0.15 + 0.17*float64(i))))
		_ = cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			killed++ // it was still running
		}
		if code, _, stderr := flowsym(t, normalizeArgs(logs, out, state)...); code != exitOK {
			t.Fatalf("rerun %d: exit %d: %s", i, code, stderr)
		}
		if diff := cmp.Diff(want, exportRows(t, out)); diff != "" {
			t.Fatalf("kill %d after %v of a %v run: the export differs from a clean run (-clean +killed and rerun):\n%.2000s",
				i, time.Duration(float64(whole)*(0.15+0.17*float64(i))), whole, diff)
		}
	}
	if killed == 0 {
		t.Error("no run was still going when killed: the test proved nothing")
	}
}
