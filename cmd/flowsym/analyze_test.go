package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowsym/flowsym/internal/parquetcheck"
)

var update = flag.Bool("update", false, "rewrite golden files")

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("../../testdata/golden/cli", name)
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// TestAnalyzeGolden runs analyze and trace over testdata/analyze, a small
// estate with one finding of several kinds, and compares every format with
// its golden file.
func TestAnalyzeGolden(t *testing.T) {
	const cfg, logs = "../../testdata/analyze/flowsym.yaml", "../../testdata/analyze/logs"
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"analyze.txt", []string{"analyze", "--config", cfg, logs}},
		{"analyze.jsonl", []string{"analyze", "--config", cfg, "--format", "json", logs}},
		{"analyze-no-config.jsonl", []string{"analyze", "--format", "json", logs}},
		{"analyze.md", []string{"analyze", "--config", cfg, "--format", "markdown", logs}},
		{"trace-bypass.md", []string{"trace", "--config", cfg, "--format", "markdown", "--client", "10.1.5.5", "--server", "198.51.100.20:443", logs}},
		{"trace-bypass.json", []string{"trace", "--config", cfg, "--format", "json", "--client", "10.1.5.5", "--server", "198.51.100.20:443", logs}},
		{"trace-bypass.txt", []string{"trace", "--config", cfg, "--client", "10.1.5.5", "--server", "198.51.100.20:443", logs}},
		{"trace-healthy.txt", []string{"trace", "--config", cfg, "--client", "10.1.5.5:40001", "--server", "93.184.216.34", logs}},
		{"trace-none.txt", []string{"trace", "--config", cfg, "--client", "10.9.9.9", "--server", "10.8.8.8", "--proto", "udp", logs}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			code, stdout, stderr := flowsym(t, tc.args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			checkGolden(t, tc.golden, stdout)
		})
	}
}

// TestAnalyzeJSONContract checks every line against the field names tools
// rely on (ANALYSIS.md's JSON finding).
func TestAnalyzeJSONContract(t *testing.T) {
	_, stdout, _ := flowsym(t, "analyze", "--config", "../../testdata/analyze/flowsym.yaml", "--format", "json", "../../testdata/analyze/logs")
	want := []string{"kind", "severity", "protocol", "client", "server", "first_seen", "last_seen", "reason", "confidence", "observers", "detail", "evidence"}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	n := 0
	for sc.Scan() {
		n++
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if len(m) != len(want) {
			t.Errorf("line %d has %d fields, want %d", n, len(m), len(want))
		}
		for _, k := range want {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks %q", n, k)
			}
		}
		var obs []map[string]json.RawMessage
		json.Unmarshal(m["observers"], &obs)
		for _, o := range obs {
			for _, k := range []string{"name", "id", "role", "forward", "reverse", "records"} {
				if _, ok := o[k]; !ok {
					t.Errorf("line %d: an observer lacks %q", n, k)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no findings")
	}
}

func TestAnalyzeBadConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("observers:\n  - name: a\n    role: nat\n    match: {cidrs: [10.0.0.0/33]}\n"), 0o644)
	code, _, stderr := flowsym(t, "analyze", "--config", bad, "../../testdata/analyze/logs")
	if code != exitUsage || !strings.Contains(stderr, "bad.yaml:4: bad CIDR") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	code, _, stderr = flowsym(t, "analyze", "--format", "xml", "../../testdata/analyze/logs")
	if code != exitUsage || !strings.Contains(stderr, `--format "xml"`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
	code, _, stderr = flowsym(t, "trace", "--client", "10.1.5.5", "../../testdata/analyze/logs")
	if code != exitUsage || !strings.Contains(stderr, "needs --client and --server") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	code, _, stderr = flowsym(t, "trace", "--client", "10.1.5.5", "--server", "x:1", "../../testdata/analyze/logs")
	if code != exitUsage || !strings.Contains(stderr, "--server") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// TestScheduledJobOutputs checks what a scheduler and a log pipeline see:
// the exit code of --fail-on, the JSON summary line on stderr, the metrics
// file, and --out written whole.
func TestScheduledJobOutputs(t *testing.T) {
	dir := t.TempDir()
	metrics, out := filepath.Join(dir, "flowsym.prom"), filepath.Join(dir, "findings.jsonl")
	code, stdout, stderr := flowsym(t, "analyze", "--config", "../../testdata/analyze/flowsym.yaml", "--format", "json",
		"--out", out, "--metrics-file", metrics, "--fail-on", "hub_bypass,asymmetric", "../../testdata/analyze/logs")
	if code != exitFindings || !strings.Contains(stderr, "findings matched --fail-on: 1 hub_bypass") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout is not empty with --out: %q", stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil || strings.Count(string(data), "\n") != 3 {
		t.Errorf("--out holds %q (%v)", data, err)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	var sum map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("last stderr line is not the JSON summary: %q", lines[len(lines)-1])
	}
	for k, want := range map[string]any{"event": "flowsym.run", "command": "analyze", "exit_code": 1.0, "objects": 1.0, "records": 22.0, "connections": 6.0} {
		if sum[k] != want {
			t.Errorf("summary %s = %v, want %v", k, sum[k], want)
		}
	}
	if f := sum["findings"].(map[string]any); f["hub_bypass"] != 1.0 || f["one_way"] != 2.0 {
		t.Errorf("summary findings %v", f)
	}
	prom, err := os.ReadFile(metrics)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`flowsym_findings{command="analyze",kind="hub_bypass"} 1`,
		`flowsym_last_run_exit_code{command="analyze"} 1`,
		`flowsym_records{command="analyze"} 22`,
		"# TYPE flowsym_connections gauge",
	} {
		if !strings.Contains(string(prom), want) {
			t.Errorf("metrics file lacks %q:\n%s", want, prom)
		}
	}
	// Without a matching finding the run succeeds.
	if code, _, stderr := flowsym(t, "analyze", "--config", "../../testdata/analyze/flowsym.yaml", "--fail-on", "unapproved_nat", "../../testdata/analyze/logs"); code != exitOK {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if code, _, stderr := flowsym(t, "analyze", "--fail-on", "typo", "../../testdata/analyze/logs"); code != exitUsage || !strings.Contains(stderr, `--fail-on "typo"`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
	html := filepath.Join(dir, "report.html")
	if code, _, stderr := flowsym(t, "analyze", "--config", "../../testdata/analyze/flowsym.yaml", "--format", "html", "--out", html, "../../testdata/analyze/logs"); code != exitOK {
		t.Fatalf("html: exit %d: %s", code, stderr)
	}
	page, _ := os.ReadFile(html)
	if !strings.Contains(string(page), `data-kind="hub_bypass"`) || !strings.HasPrefix(strings.TrimSpace(string(page)), "<!DOCTYPE html>") {
		t.Errorf("the HTML report lacks the hub_bypass finding: %.200s", page)
	}
}

// TestAnalyzeSpillsTheSame runs with a memory limit so small that every
// connection spills to disk, and with several shards: the findings are
// those of the default run, byte for byte.
func TestAnalyzeSpillsTheSame(t *testing.T) {
	args := []string{"analyze", "--config", "../../testdata/analyze/flowsym.yaml", "--format", "json", "../../testdata/analyze/logs"}
	_, want, _ := flowsym(t, args...)
	for _, extra := range [][]string{
		{"--memory-limit", "1", "--spill-dir", t.TempDir()},
		{"--concurrency", "3"},
		{"--memory-limit", "0"},
	} {
		code, got, stderr := flowsym(t, append(args, extra...)...)
		if code != exitOK || got != want {
			t.Errorf("%v: exit %d, output differs:\n%s\nstderr: %s", extra, code, got, stderr)
		}
	}
	if code, _, stderr := flowsym(t, append(args, "--memory-limit", "lots")...); code != exitUsage || !strings.Contains(stderr, "--memory-limit") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1000": 1000, "512MiB": 512 << 20, "2GiB": 2 << 30, "1.5G": 3 << 29, "10MB": 10e6, "4k": 4096} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1", "5XB"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) accepted", bad)
		}
	}
}

// TestAnalyzeExportScheduled runs analyze --export with a --state twice:
// the export holds each finding once, and the findings read back with an
// independent reader match the JSON report.
func TestAnalyzeExportScheduled(t *testing.T) {
	dir := t.TempDir()
	exp, state := filepath.Join(dir, "export"), filepath.Join(dir, "state.json")
	args := []string{"analyze", "--config", "../../testdata/analyze/flowsym.yaml", "--format", "json", "--export", exp, "--state", state, "../../testdata/analyze/logs"}
	_, report, _ := flowsym(t, "analyze", "--config", "../../testdata/analyze/flowsym.yaml", "--format", "json", "../../testdata/analyze/logs")
	for run := range 2 {
		if code, _, stderr := flowsym(t, args...); code != exitOK {
			t.Fatalf("run %d: exit %d: %s", run, code, stderr)
		}
	}
	byKind := map[string]int{}
	flows := 0
	filepath.WalkDir(exp, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		rows := parquetcheck.Read(t, p).Rows
		switch {
		case strings.Contains(p, "/findings/"):
			for _, r := range rows {
				byKind[r["kind"]]++
			}
		case strings.Contains(p, "/flows/"):
			flows += len(rows)
		}
		return nil
	})
	want := map[string]int{}
	for _, f := range readJSONLines[truthKey](t, report) {
		want[f.Kind]++
	}
	if diff := cmp.Diff(want, byKind); diff != "" {
		t.Errorf("findings in the export after two runs (-report +export):\n%s", diff)
	}
	if flows != 22 {
		t.Errorf("%d flows in the export after two runs, want the 22 records (coverage rows included) once", flows)
	}
	if code, _, stderr := flowsym(t, "analyze", "--state", state, "../../testdata/analyze/logs"); code != exitUsage || !strings.Contains(stderr, "give --export too") {
		t.Errorf("--state without --export: exit %d: %s", code, stderr)
	}
	if code, _, stderr := flowsym(t, "analyze", "--export", filepath.Join(dir, "x"), "--export-schema", "csv", "../../testdata/analyze/logs"); code != exitUsage || !strings.Contains(stderr, "--export-schema") {
		t.Errorf("bad schema: exit %d: %s", code, stderr)
	}
}

// TestChecksRestrictsFindings: --checks one_way raises exactly the one_way
// findings of a full run, and says which checks it left out.
func TestChecksRestrictsFindings(t *testing.T) {
	args := []string{"analyze", "--config", "../../testdata/analyze/flowsym.yaml", "--format", "json", "../../testdata/analyze/logs"}
	code, full, stderr := flowsym(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, only, stderr := flowsym(t, append(args, "--checks", "one_way")...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(full), "\n") {
		if strings.Contains(line, `"kind":"one_way"`) {
			want = append(want, line)
		}
	}
	if got := strings.Split(strings.TrimSpace(only), "\n"); len(want) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("--checks one_way gave\n%s\nwant the one_way lines of a full run\n%s", only, strings.Join(want, "\n"))
	}
	_, text, _ := flowsym(t, "analyze", "--config", "../../testdata/analyze/flowsym.yaml", "--checks", "one_way", "../../testdata/analyze/logs")
	if !strings.Contains(text, "checks not run (--checks): asymmetric, hub_bypass, unapproved_nat") || strings.Contains(text, "hub_bypass    ") {
		t.Errorf("the text report does not say which checks were left out:\n%s", text)
	}
	if code, _, stderr := flowsym(t, "analyze", "--checks", "one_way", "--fail-on", "hub_bypass", "../../testdata/analyze/logs"); code != exitUsage || !strings.Contains(stderr, "--checks does not run") {
		t.Errorf("--fail-on a check not run: exit %d: %s", code, stderr)
	}
}
