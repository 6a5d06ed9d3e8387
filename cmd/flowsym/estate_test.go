package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// truthKey identifies a finding the way the estate's truth lists it.
type truthKey struct {
	Kind     string `json:"kind"`
	Protocol int    `json:"protocol"`
	Client   string `json:"client"`
	Server   string `json:"server"`
	Reason   string `json:"reason"`
	UDPOnly  bool   `json:"udp_only"`
}

func readJSONLines[T any](t *testing.T, data string) []T {
	t.Helper()
	var out []T
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		out = append(out, v)
	}
	return out
}

func keysOf(list []truthKey) []string {
	var out []string
	for _, k := range list {
		out = append(out, strings.Join([]string{k.Kind, k.Reason, k.Client, k.Server, string(rune('0' + k.Protocol%10))}, " "))
	}
	slices.Sort(out)
	return out
}

// TestDemoEstatePrecisionRecall generates the demo estate and checks that
// analyze finds every injected fault and nothing else (precision and
// recall 1.0 against the generator's own list), with and without --udp,
// and counts the same connections that lack coverage.
func TestDemoEstatePrecisionRecall(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := flowsym(t, "generate", "--out", dir); code != exitOK {
		t.Fatalf("generate: exit %d: %s", code, stderr)
	}
	truthData, err := os.ReadFile(filepath.Join(dir, "truth.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	truth := readJSONLines[truthKey](t, string(truthData))
	if len(truth) < 10 {
		t.Fatalf("the truth lists only %d findings", len(truth))
	}
	var summary struct {
		Insufficient int `json:"insufficient_coverage"`
	}
	data, _ := os.ReadFile(filepath.Join(dir, "truth-summary.json"))
	if err := json.Unmarshal(data, &summary); err != nil {
		t.Fatal(err)
	}
	for _, udp := range []bool{false, true} {
		args := []string{"analyze", "--config", filepath.Join(dir, "flowsym.yaml"), "--format", "json", filepath.Join(dir, "logs")}
		var want []truthKey
		for _, k := range truth {
			if !k.UDPOnly || udp {
				k.UDPOnly = false
				want = append(want, k)
			}
		}
		if udp {
			args = append(args, "--udp")
		}
		code, stdout, stderr := flowsym(t, args...)
		if code != exitOK {
			t.Fatalf("analyze: exit %d: %s", code, stderr)
		}
		got := readJSONLines[truthKey](t, stdout)
		if diff := cmp.Diff(keysOf(want), keysOf(got)); diff != "" {
			t.Errorf("udp=%v: findings differ from the truth (-truth +analyze):\n%s", udp, diff)
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		var run runSummary
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &run); err != nil {
			t.Fatal(err)
		}
		if run.Insufficient != int64(summary.Insufficient) || run.InputErrors != 0 {
			t.Errorf("udp=%v: %d connections lacked coverage (truth %d), %d input errors", udp, run.Insufficient, summary.Insufficient, run.InputErrors)
		}
	}
}
