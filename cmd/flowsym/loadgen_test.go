package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowsym/flowsym/internal/loadgen"
)

// TestLoadEstateOneWayIsTruth writes the load estate with generate
// --records and analyzes it without and with its topology file: the one_way
// findings are exactly the generator's one-way connections (the count
// bench-e2e compares with DuckDB's), and no connection lacks coverage.
func TestLoadEstateOneWayIsTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and analyzes 200k records")
	}
	dir := t.TempDir()
	if code, _, stderr := flowsym(t, "generate", "--out", dir, "--records", "200000", "--seed", "11"); code != exitOK {
		t.Fatalf("generate: exit %d: %s", code, stderr)
	}
	truth, err := loadgen.ReadTruth(filepath.Join(dir, "truth.json"))
	if err != nil || truth.Records != 200_000 || truth.OneWay == 0 {
		t.Fatalf("truth %+v, %v", truth, err)
	}
	for _, args := range [][]string{{"--checks", "one_way"}, {"--config", filepath.Join(dir, "flowsym.yaml")}} {
		code, stdout, stderr := flowsym(t, append(append([]string{"analyze", "--format", "json", "--progress", "off"}, args...), filepath.Join(dir, "logs"))...)
		if code != exitOK {
			t.Fatalf("analyze %v: exit %d: %s", args, code, stderr)
		}
		var sum struct {
			Records      int64          `json:"records"`
			Insufficient int64          `json:"insufficient_coverage"`
			Findings     map[string]int `json:"findings"`
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
			t.Fatalf("summary line %q: %v", lines[len(lines)-1], err)
		}
		if n := int64(strings.Count(stdout, `"kind":"one_way"`)); n != truth.OneWay || int64(sum.Findings["one_way"]) != truth.OneWay {
			t.Errorf("analyze %v: %d one_way findings (summary %d), truth %d", args, n, sum.Findings["one_way"], truth.OneWay)
		}
		if sum.Records != truth.Records || sum.Insufficient != 0 {
			t.Errorf("analyze %v: %d records, %d lacking coverage; truth %d records", args, sum.Records, sum.Insufficient, truth.Records)
		}
	}
	if code, _, stderr := flowsym(t, "generate", "--out", dir, "--records", "1000"); code != exitUsage || !strings.Contains(stderr, "--overwrite") {
		t.Errorf("generate over an estate: exit %d: %s", code, stderr)
	}
}
