package normalize

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowsym/flowsym/internal/samples"
)

// jsonFuzzMax caps fuzz inputs: the parsers are linear, and large inputs
// only slow the fuzzer down (Prometheus's textparse fuzzers do the same).
const jsonFuzzMax = 64 << 10

// jsonFuzzSeeds adds the files of testdata/<sub> and of the shared samples'
// <sub> folder (when present) as seeds; each seed's comment is its path.
func jsonFuzzSeeds(f *testing.F, sub string, match func(name string) bool) {
	dirs := []string{filepath.Join("..", "testdata", sub)}
	if env := os.Getenv(samples.Env); env != "" {
		dirs = append(dirs, filepath.Join(env, sub))
	} else {
		dirs = append(dirs, filepath.Join("..", "..", "shared", "samples", sub))
	}
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, p := range files {
			if strings.HasSuffix(p, ".golden") || !match(filepath.Base(p)) {
				continue
			}
			if data, err := os.ReadFile(p); err == nil && len(data) <= jsonFuzzMax {
				f.Add(data) // seed: p
			}
		}
	}
}

// checkJSONInvariants holds for any input to a GCP or Azure parser.
func checkJSONInvariants(t *testing.T, data []byte, got decoded, cloud string, maxRows int) {
	t.Helper()
	if got.err != nil {
		t.Fatalf("run error: %v", got.err)
	}
	for _, p := range got.problems {
		if !strings.HasPrefix(p, "fuzz.json") {
			t.Fatalf("problem without the object name: %s", p)
		}
		if strings.Contains(p, "internal error") {
			t.Fatalf("internal error: %s", p)
		}
	}
	if len(got.rows) > maxRows {
		t.Fatalf("%d rows from an input that can hold at most %d", len(got.rows), maxRows)
	}
	prev := 0
	for _, r := range got.rows {
		if r["cloud"] != cloud || !strings.HasPrefix(r["log_kind"], cloud+"-") {
			t.Fatalf("cloud %q, log_kind %q", r["cloud"], r["log_kind"])
		}
		for _, col := range []string{"src_addr", "dst_addr", "nat_addr"} {
			if v, ok := r[col]; ok {
				a, err := netip.ParseAddr(v)
				if err != nil || a.String() != v || a.Zone() != "" {
					t.Fatalf("%s %q does not round-trip", col, v)
				}
			}
		}
		if r["src_addr"] == "" || r["dst_addr"] == "" {
			t.Fatalf("a row without its addresses: %v", r)
		}
		line, err := strconv.Atoi(r["source_line"])
		if err != nil || line < 1 {
			t.Fatalf("source_line %q", r["source_line"])
		}
		if cloud == "azure" {
			// Tuple ordinals grow through the document.
			if line <= prev {
				t.Fatalf("source_line %d after %d", line, prev)
			}
			if r["observer"] != r["mac"] {
				t.Fatalf("observer %q is not the MAC %q", r["observer"], r["mac"])
			}
		}
		prev = line
		if r["connection_only"] == "true" && (r["packets"] != "" || r["rev_packets"] != "" || r["bytes"] != "") {
			t.Fatalf("a connection-only row counts packets: %v", r)
		}
	}
}

// gcpMaxRows bounds the rows of a GCP object: each entry is an object
// holding a connection object, and an NDJSON line holds one entry.
func gcpMaxRows(data []byte) int { return bytes.Count(data, []byte("{")) / 2 }

// azureMaxRows bounds the rows of an Azure document: a tuple has at least
// seven commas.
func azureMaxRows(data []byte) int { return bytes.Count(data, []byte(",")) / 7 }

func FuzzParseGCPVPC(f *testing.F) {
	jsonFuzzSeeds(f, "gcp", func(name string) bool { return !strings.HasPrefix(name, "nat") })
	f.Add([]byte(`[{"jsonPayload":{"connection":{"src_ip":"::1","dest_ip":"::2"},"reporter":"DEST"}}]`)) // seed: minimal array
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > jsonFuzzMax {
			return
		}
		got := decode(t, Options{Format: FormatGCPVPC}, "fuzz.json", data)
		checkJSONInvariants(t, data, got, "gcp", gcpMaxRows(data))
	})
}

func FuzzParseGCPNAT(f *testing.F) {
	jsonFuzzSeeds(f, "gcp", func(name string) bool { return strings.HasPrefix(name, "nat") || strings.HasPrefix(name, "mixed") })
	f.Add([]byte(`{"jsonPayload":{"allocation_status":"DROPPED","connection":{"src_ip":"10.0.0.1","dest_ip":"1.1.1.1","protocol":"udp"}},"timestamp":"2026-11-20 10:00:00 UTC"}`)) // seed: minimal dropped entry
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > jsonFuzzMax {
			return
		}
		got := decode(t, Options{Format: FormatGCPNAT}, "fuzz.json", data)
		checkJSONInvariants(t, data, got, "gcp", gcpMaxRows(data))
		for _, r := range got.rows {
			if r["log_kind"] == KindGCPNAT && r["connection_only"] != "true" {
				t.Fatalf("a Cloud NAT row that is not connection_only: %v", r)
			}
		}
	})
}

func FuzzParseAzureNSG(f *testing.F) {
	jsonFuzzSeeds(f, "azure", func(name string) bool { return strings.Contains(name, "nsg") })
	f.Add([]byte(`{"properties":{"Version":1,"flows":[{"rule":"r","flows":[{"mac":"m","flowTuples":["1,::1,::2,1,2,T,I,A"]}]}]}}`)) // seed: minimal unwrapped v1
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > jsonFuzzMax {
			return
		}
		got := decode(t, Options{Format: FormatAzureNSG}, "fuzz.json", data)
		checkJSONInvariants(t, data, got, "azure", azureMaxRows(data))
	})
}

func FuzzParseAzureVNet(f *testing.F) {
	jsonFuzzSeeds(f, "azure", func(name string) bool { return strings.Contains(name, "vnet") })
	f.Add([]byte(`[{"flowLogVersion":4,"macAddress":"m","flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"r","flowTuples":["1,::1,::2,1,2,6,I,B,NX,0,0,0,0"]}]}]}}]`)) // seed: minimal array
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > jsonFuzzMax {
			return
		}
		got := decode(t, Options{Format: FormatAzureVNet}, "fuzz.json", data)
		checkJSONInvariants(t, data, got, "azure", azureMaxRows(data))
		for _, r := range got.rows {
			if r["log_kind"] == KindAzureVNet && (r["flow_state"] == "denied") != (r["action"] == "reject") {
				t.Fatalf("flow_state %q with action %q", r["flow_state"], r["action"])
			}
		}
	})
}
