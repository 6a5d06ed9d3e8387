package normalize

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"github.com/valyala/fastjson"

	"github.com/flowsym/flowsym/normalize/schema"
)

// TestGCPAzureGolden decodes every fixture in testdata/gcp and
// testdata/azure with format detection, as a run over a folder would, and
// compares rows and problems with its file in testdata/golden (go test
// ./normalize -update rewrites them). The same bytes gzipped must give the
// same result.
func TestGCPAzureGolden(t *testing.T) {
	n := 0
	for _, dir := range []string{"gcp", "azure"} {
		files, err := filepath.Glob(filepath.Join("..", "testdata", dir, "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, ".golden") {
				continue
			}
			n++
			name := dir + "/" + filepath.Base(path)
			t.Run(name, func(t *testing.T) {
				data := readFile(t, path)
				got := decode(t, Options{}, name, data)
				if got.err != nil {
					t.Fatalf("run error: %v", got.err)
				}
				golden := filepath.Join("../testdata/golden", filepath.Base(filepath.Dir(path)),
					strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))+".golden")
				checkGolden(t, golden, goldenText(got))
				zipped := decode(t, Options{}, name, gzipOf(t, data))
				if diff := cmp.Diff(goldenText(got), goldenText(zipped)); diff != "" {
					t.Errorf("gzip changes the result (-plain +gzip):\n%s", diff)
				}
			})
		}
	}
	if n < 20 {
		t.Fatalf("found only %d fixtures", n)
	}
}

func gzipOf(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGCPAzureFixtureFacts pins the facts the golden files hold that the
// design depends on, so that an -update cannot quietly change them.
func TestGCPAzureFixtureFacts(t *testing.T) {
	load := func(t *testing.T, file string) decoded {
		t.Helper()
		got := decode(t, Options{}, file, readFile(t, filepath.Join("..", "testdata", file)))
		if got.err != nil {
			t.Fatal(got.err)
		}
		return got
	}
	t.Run("gcp reporter decides observer and direction", func(t *testing.T) {
		got := load(t, "gcp/vpc-ipv6-gke.ndjson")
		if len(got.rows) != 7 || len(got.problems) != 0 {
			t.Fatalf("%d rows, problems %q", len(got.rows), got.problems)
		}
		want(t, got.rows[0], map[string]string{"observer": "gke-prod-pool-1-abcd", "instance": "gke-prod-pool-1-abcd", "direction": "egress",
			"src_addr": "2600:1900:4000::a", "dst_addr": "2600:1900:4000::10", "account": "spoke-project", "network": "spoke-vpc",
			"subnet": "gke-nodes", "zone": "us-east1-b", "region": "us-east1", "sampled": "true", "connection_only": "false",
			"packets": "42", "bytes": "12345", "rev_packets": "", "start_time": "2026-11-20T10:04:00Z", "end_time": "2026-11-20T10:04:59.999999Z"})
		want(t, got.rows[1], map[string]string{"observer": "gke-prod-pool-1-abcd", "direction": "ingress", "src_port": "5432"})
		if !strings.Contains(got.rows[0]["labels"], "src_gke_details.pod.pod_name=api-7d9f-abcde") ||
			!strings.Contains(got.rows[0]["labels"], "dest_gke_details.service=data/db,data/db-headless") {
			t.Errorf("labels %q", got.rows[0]["labels"])
		}
		want(t, got.rows[2], map[string]string{"protocol": "58", "src_port": "", "dst_port": ""})
		// Without metadata the reporter's address is the observer.
		want(t, got.rows[3], map[string]string{"observer": "10.20.0.5", "instance": "", "account": "spoke-project", "zone": "us-east1-b",
			"region": "us-east1", "subnet": "gke-nodes", "network": ""})
		want(t, got.rows[4], map[string]string{"observer": "onprem-tunnel-1", "direction": "egress", "account": "hub-project",
			"network": "hub-vpc", "region": "us-east1", "labels": "src_gateway.type=VPN_TUNNEL"})
		want(t, got.rows[5], map[string]string{"action": "reject", "packets": "2", "bytes": "120",
			"labels": "disposition=DROPPED drop_reason=FIREWALL_DENY"})
		want(t, got.rows[6], map[string]string{"zone": "us-east1-c", "region": "us-east1", "account": "spoke-project"})
	})
	t.Run("gcp truncated last line", func(t *testing.T) {
		got := load(t, "gcp/vpc-truncated.ndjson")
		if len(got.rows) != 2 || len(got.problems) != 1 || !strings.Contains(got.problems[0], "damaged object: the last line, 3, is cut") {
			t.Fatalf("%d rows, problems %q", len(got.rows), got.problems)
		}
	})
	t.Run("gcp cut JSON document", func(t *testing.T) {
		got := load(t, "gcp/vpc-entries-cut.json")
		if len(got.rows) != 1 || len(got.problems) != 1 || !strings.Contains(got.problems[0], "damaged object: the document is cut at byte") ||
			!strings.Contains(got.problems[0], "in entries[1]") {
			t.Fatalf("%d rows, problems %q", len(got.rows), got.problems)
		}
	})
	t.Run("cloud nat", func(t *testing.T) {
		got := load(t, "gcp/nat.ndjson")
		if len(got.rows) != 6 || len(got.problems) != 2 {
			t.Fatalf("%d rows, problems %q", len(got.rows), got.problems)
		}
		want(t, got.rows[0], map[string]string{"log_kind": "gcp-nat", "observer": "hub-nat", "instance": "vm-1", "account": "host-project",
			"nat_addr": "34.120.0.10", "nat_port": "34889", "action": "accept", "connection_only": "true", "direction": "egress",
			"start_time": "2026-11-20T10:46:00.60224Z", "end_time": "2026-11-20T10:46:00.60224Z", "packets": "", "sampled": "",
			"labels": "allocation_status=OK endpoint.project_id=service-project-1 gateway_identifiers.router_name=hub-router"})
		want(t, got.rows[1], map[string]string{"action": "reject", "nat_addr": "", "nat_port": "", "protocol": "6", "instance": "vm-busy",
			"labels": "allocation_status=DROPPED endpoint.project_id=service-project-1 gateway_identifiers.router_name=hub-router"})
		want(t, got.rows[3], map[string]string{"action": "reject", "nat_addr": "", "nat_port": ""})
		want(t, got.rows[4], map[string]string{"start_time": "", "account": "", "observer": "hub-nat"})
		want(t, got.rows[5], map[string]string{"action": "", "labels": "allocation_status=PENDING endpoint.project_id=service-project-1 gateway_identifiers.router_name=hub-router"})
	})
	t.Run("nsg v1 is connection only", func(t *testing.T) {
		got := load(t, "azure/nsg-v1.json")
		if len(got.rows) != 3 || len(got.problems) != 0 {
			t.Fatalf("%d rows, problems %q", len(got.rows), got.problems)
		}
		for _, r := range got.rows {
			want(t, r, map[string]string{"connection_only": "true", "packets": "", "flow_state": "", "log_version": "1",
				"mac": "000D3AF8801A", "observer": "000D3AF8801A", "account": "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e"})
		}
		want(t, got.rows[2], map[string]string{"protocol": "17", "direction": "egress", "source_line": "3"})
	})
	t.Run("nsg v2 counters", func(t *testing.T) {
		got := load(t, "azure/nsg-v2.json")
		if len(got.rows) != 7 || len(got.problems) != 0 {
			t.Fatalf("%d rows, problems %q", len(got.rows), got.problems)
		}
		want(t, got.rows[0], map[string]string{"flow_state": "begin", "connection_only": "true", "packets": "", "rev_bytes": "", "action": "reject"})
		want(t, got.rows[3], map[string]string{"flow_state": "continuing", "connection_only": "false", "packets": "30", "bytes": "16978",
			"rev_packets": "24", "rev_bytes": "14008"})
		want(t, got.rows[4], map[string]string{"flow_state": "end", "rev_packets": "0", "rev_bytes": "0"})
		want(t, got.rows[5], map[string]string{"packets": "9223372036854775807", "src_addr": "2001:db8:5::4"})
		want(t, got.rows[6], map[string]string{"flow_state": "end", "connection_only": "false", "packets": "", "rev_packets": ""})
	})
	t.Run("unknown version keeps ordinals", func(t *testing.T) {
		got := load(t, "azure/nsg-unknown-version.json")
		if len(got.rows) != 3 || len(got.problems) != 1 || !strings.Contains(got.problems[0], "unknown format") ||
			!strings.Contains(got.problems[0], "records[1]") || !strings.Contains(got.problems[0], "its 3 tuples were skipped") {
			t.Fatalf("%d rows, problems %q", len(got.rows), got.problems)
		}
		if got.rows[2]["source_line"] != "6" {
			t.Errorf("the tuple after the skipped record has source_line %s, want 6", got.rows[2]["source_line"])
		}
	})
	t.Run("cut documents keep complete records", func(t *testing.T) {
		for file, rows := range map[string]int{"azure/nsg-cut.json": 3, "azure/vnet-cut.json": 1, "azure/vnet-unclosed.json": 12} {
			got := load(t, file)
			damaged := 0
			for _, p := range got.problems {
				if strings.Contains(p, "damaged object") {
					damaged++
				}
			}
			if len(got.rows) != rows || damaged != 1 {
				t.Errorf("%s: %d rows (want %d), problems %q", file, len(got.rows), rows, got.problems)
			}
		}
	})
	t.Run("a corrupt record is skipped, the records after it kept", func(t *testing.T) {
		got := load(t, "azure/nsg-corrupt.json")
		if len(got.rows) != 4 || len(got.problems) != 1 || !strings.Contains(got.problems[0], "malformed record: records[1] at byte 563") {
			t.Fatalf("%d rows, problems %q", len(got.rows), got.problems)
		}
		// The corrupt record's tuples cannot be counted: ordinals go on
		// from the record before it.
		want(t, got.rows[2], map[string]string{"source_line": "3", "start_time": "2026-11-20T10:02:00Z"})
	})
	t.Run("vnet states and encryption", func(t *testing.T) {
		got := load(t, "azure/vnet-states.json")
		if len(got.rows) != 12 || len(got.problems) != 3 {
			t.Fatalf("%d rows, problems %q", len(got.rows), got.problems)
		}
		want(t, got.rows[0], map[string]string{"flow_state": "begin", "connection_only": "true", "packets": "", "encryption": "X", "action": "accept",
			"network": "hub-vnet", "subnet": "nva", "start_time": "2026-11-20T10:00:03.599Z"})
		want(t, got.rows[3], map[string]string{"flow_state": "denied", "action": "reject", "packets": "0", "encryption": "NX_HW_NOT_SUPPORTED"})
		// A 10-digit timestamp is seconds.
		want(t, got.rows[4], map[string]string{"start_time": "2026-11-20T10:00:04Z", "protocol": "17"})
		want(t, got.rows[9], map[string]string{"encryption": "", "flow_state": "end"})
		want(t, got.rows[10], map[string]string{"rule": "unspecified", "labels": "aclID=unspecified"})
		want(t, got.rows[11], map[string]string{"observer": "0022487BC205", "network": "", "log_version": "4",
			"target_resource": "/SUBSCRIPTIONS/AAAA0A0A-BB1B-CC2C-DD3D-EEEEEE4E4E4E/RESOURCEGROUPS/HUB-RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKINTERFACES/NVA-1-NIC",
			"labels":          "aclID=db903ae8-908e-491b-b12b-afaafab9d9ed"})
	})
}

// TestGCPFieldEdges runs single entries through the parser: values the
// exports write in more than one way, and values that make a record bad.
func TestGCPFieldEdges(t *testing.T) {
	entry := func(payload string) []byte {
		return []byte(`{"logName":"projects/p/logs/compute.googleapis.com%2Fvpc_flows","jsonPayload":{"reporter":"SRC",` +
			`"src_instance":{"vm_name":"vm"},` + payload + `}}` + "\n")
	}
	conn := `"connection":{"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","src_port":1,"dest_port":2,"protocol":6}`
	cases := []struct {
		name    string
		payload string
		cols    map[string]string // nil: the record must be rejected
		problem string
	}{
		{"counters as strings", conn + `,"bytes_sent":"1776","packets_sent":"7"`, map[string]string{"bytes": "1776", "packets": "7"}, ""},
		{"counters as numbers", conn + `,"bytes_sent":1776,"packets_sent":7`, map[string]string{"bytes": "1776", "packets": "7"}, ""},
		{"int64 max", conn + `,"bytes_sent":"9223372036854775807"`, map[string]string{"bytes": "9223372036854775807"}, ""},
		{"beyond int64", conn + `,"bytes_sent":"9223372036854775808"`, nil, `field bytes_sent: "9223372036854775808": not an integer`},
		{"negative", conn + `,"packets_sent":"-1"`, nil, `field packets_sent: "-1": out of range`},
		{"fraction", conn + `,"packets_sent":"1.0"`, nil, `field packets_sent: "1.0": not an integer`},
		{"exponent", conn + `,"packets_sent":1e3`, nil, `field packets_sent: "1e3": not an integer`},
		{"empty counter is null", conn + `,"packets_sent":"","bytes_sent":null`, map[string]string{"bytes": "", "packets": ""}, ""},
		{"counter as object", conn + `,"packets_sent":{}`, nil, `field packets_sent: "{}": not an integer`},
		{"ports as strings", `"connection":{"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","src_port":"53","dest_port":"5353","protocol":"17"}`,
			map[string]string{"src_port": "53", "dst_port": "5353", "protocol": "17"}, ""},
		{"protocol name", `"connection":{"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","protocol":"ICMP"}`, map[string]string{"protocol": "1"}, ""},
		{"unknown protocol name", `"connection":{"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","protocol":"quic"}`, nil, `"quic": not a protocol number or name`},
		{"ipv4 mapped ipv6", `"connection":{"src_ip":"::ffff:10.0.0.1","dest_ip":"2001:db8::2"}`, map[string]string{"src_addr": "10.0.0.1", "dst_addr": "2001:db8::2"}, ""},
		{"missing dest_ip", `"connection":{"src_ip":"10.0.0.1"}`, nil, "field connection.dest_ip is missing"},
		{"bad address", `"connection":{"src_ip":"10.0.0","dest_ip":"10.0.0.2"}`, nil, `field connection.src_ip: "10.0.0": not an IP address`},
		{"address with zone", `"connection":{"src_ip":"fe80::1%eth0","dest_ip":"10.0.0.2"}`, nil, "not an IP address"},
		{"rfc3339 nanoseconds", conn + `,"start_time":"2026-11-20T10:00:00.123456789Z"`, map[string]string{"start_time": "2026-11-20T10:00:00.123456Z"}, ""},
		{"bigquery timestamp", conn + `,"start_time":"2026-11-20 10:00:00.5 UTC"`, map[string]string{"start_time": "2026-11-20T10:00:00.5Z"}, ""},
		{"no zone is UTC", conn + `,"start_time":"2026-11-20T10:00:00"`, map[string]string{"start_time": "2026-11-20T10:00:00Z"}, ""},
		{"offset", conn + `,"start_time":"2026-11-20T12:30:00+02:30"`, map[string]string{"start_time": "2026-11-20T10:00:00Z"}, ""},
		{"epoch seconds", conn + `,"start_time":1763632800`, map[string]string{"start_time": "2025-11-20T10:00:00Z"}, ""},
		{"epoch millis string", conn + `,"start_time":"1763632800123"`, map[string]string{"start_time": "2025-11-20T10:00:00.123Z"}, ""},
		{"epoch micros", conn + `,"start_time":1763632800123456`, map[string]string{"start_time": "2025-11-20T10:00:00.123456Z"}, ""},
		{"epoch nanos", conn + `,"start_time":"1763632800123456789"`, map[string]string{"start_time": "2025-11-20T10:00:00.123456Z"}, ""},
		{"float seconds", conn + `,"start_time":1763632800.25`, map[string]string{"start_time": "2025-11-20T10:00:00.25Z"}, ""},
		{"bad timestamp", conn + `,"end_time":"2026-13-01T00:00:00Z"`, nil, `field end_time: "2026-13-01T00:00:00Z": not a timestamp`},
		{"no such day", conn + `,"end_time":"2026-02-29T00:00:00Z"`, nil, "not a timestamp"},
		{"negative epoch", conn + `,"end_time":-5`, nil, "not a timestamp"},
		{"year 10000", conn + `,"end_time":"10000-01-01T00:00:00Z"`, nil, "not a timestamp"},
		{"timestamp as bool", conn + `,"end_time":true`, nil, "not a timestamp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := decode(t, Options{Format: FormatGCPVPC}, "edge.json", entry(tc.payload))
			if got.err != nil {
				t.Fatal(got.err)
			}
			if tc.cols == nil {
				if len(got.rows) != 0 || len(got.problems) != 1 || !strings.Contains(got.problems[0], tc.problem) ||
					!strings.Contains(got.problems[0], "edge.json:1: malformed record") {
					t.Fatalf("rows %v, problems %q, want one containing %q", got.rows, got.problems, tc.problem)
				}
				return
			}
			if len(got.rows) != 1 || len(got.problems) != 0 {
				t.Fatalf("%d rows, problems %q", len(got.rows), got.problems)
			}
			want(t, got.rows[0], tc.cols)
		})
	}
}

// TestAzureTupleEdges runs single tuples through both Azure parsers.
func TestAzureTupleEdges(t *testing.T) {
	nsg := func(version, tuple string) []byte {
		return []byte(`{"records":[{"resourceId":"/SUBSCRIPTIONS/S/X","category":"NetworkSecurityGroupFlowEvent","properties":{"Version":` + version +
			`,"flows":[{"rule":"r","flows":[{"mac":"000D3AF87856","flowTuples":["` + tuple + `"]}]}]}}]}`)
	}
	vnet := func(tuple string) []byte {
		return []byte(`{"records":[{"flowLogVersion":4,"macAddress":"00224871C205","flowLogResourceID":"/SUBSCRIPTIONS/S/X",` +
			`"flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"r","flowTuples":["` + tuple + `"]}]}]}}]}`)
	}
	cases := []struct {
		name    string
		data    []byte
		cols    map[string]string
		problem string
	}{
		{"nsg v1", nsg("1", "1763632800,10.0.0.1,10.0.0.2,1,2,T,I,A"), map[string]string{"connection_only": "true", "direction": "ingress", "action": "accept", "protocol": "6"}, ""},
		{"nsg v2 denied begin", nsg("2", "1763632800,10.0.0.1,10.0.0.2,1,2,U,O,D,B,,,,"), map[string]string{"connection_only": "true", "action": "reject", "protocol": "17", "packets": ""}, ""},
		{"nsg v2 with v1 tuple", nsg("2", "1763632800,10.0.0.1,10.0.0.2,1,2,T,I,A"), nil, "has 8 fields, but the record says Version 2"},
		{"nsg no version guesses from fields", nsg("null", "1763632800,10.0.0.1,10.0.0.2,1,2,T,I,A,E,1,2,3,4"), map[string]string{"log_version": "", "packets": "1", "rev_bytes": "4"}, ""},
		{"nsg version as string", nsg(`"2"`, "1763632800,10.0.0.1,10.0.0.2,1,2,T,I,A,E,1,2,3,4"), map[string]string{"log_version": "2"}, ""},
		{"nsg version not a number", nsg(`"two"`, "1763632800,10.0.0.1,10.0.0.2,1,2,T,I,A,E,1,2,3,4"), nil, `records[0] at byte 12: Version "two" is not an integer; the record was skipped`},
		{"nsg millis are not seconds", nsg("2", "1763632800000,10.0.0.1,10.0.0.2,1,2,T,I,A,E,1,2,3,4"), nil, "not Unix seconds"},
		{"nsg counter overflow", nsg("2", "1763632800,10.0.0.1,10.0.0.2,1,2,T,I,A,E,18446744073709551616,2,3,4"), nil, "not a non-negative integer"},
		{"nsg empty ports", nsg("2", "1763632800,10.0.0.1,10.0.0.2,,,T,I,A,E,1,2,3,4"), map[string]string{"src_port": "", "dst_port": ""}, ""},
		{"nsg ipv6", nsg("2", "1763632800,2001:db8::1,::1,1,2,T,I,A,E,1,2,3,4"), map[string]string{"src_addr": "2001:db8::1", "dst_addr": "::1"}, ""},
		{"nsg lower-case letters", nsg("2", "1763632800,10.0.0.1,10.0.0.2,1,2,t,I,A,E,1,2,3,4"), nil, "want T, U or a protocol number"},
		{"vnet millis", vnet("1763632800123,10.0.0.1,10.0.0.2,1,2,6,O,C,NX,1,2,3,4"), map[string]string{"start_time": "2025-11-20T10:00:00.123Z", "end_time": "2025-11-20T10:00:00.123Z", "encryption": "NX"}, ""},
		{"vnet seconds", vnet("1763632800,10.0.0.1,10.0.0.2,1,2,6,O,C,NX,1,2,3,4"), map[string]string{"start_time": "2025-11-20T10:00:00Z"}, ""},
		{"vnet micros refused", vnet("1763632800123456,10.0.0.1,10.0.0.2,1,2,6,O,C,NX,1,2,3,4"), nil, "not Unix seconds or milliseconds"},
		{"vnet begin zeros are null", vnet("1763632800123,10.0.0.1,10.0.0.2,1,2,6,O,B,NX,0,0,0,0"), map[string]string{"packets": "", "rev_packets": "", "connection_only": "true"}, ""},
		{"vnet denied keeps zeros", vnet("1763632800123,10.0.0.1,10.0.0.2,1,2,6,I,D,NX,0,0,0,0"), map[string]string{"packets": "0", "action": "reject", "connection_only": "false"}, ""},
		{"vnet empty counters", vnet("1763632800123,10.0.0.1,10.0.0.2,1,2,6,O,E,NX,,,,"), map[string]string{"packets": "", "bytes": "", "connection_only": "false"}, ""},
		{"vnet protocol letters", vnet("1763632800123,10.0.0.1,10.0.0.2,1,2,T,O,E,NX,1,2,3,4"), map[string]string{"protocol": "6"}, ""},
		{"vnet protocol 256", vnet("1763632800123,10.0.0.1,10.0.0.2,1,2,256,O,E,NX,1,2,3,4"), nil, "want T, U or a protocol number"},
		{"vnet 12 fields", vnet("1763632800123,10.0.0.1,10.0.0.2,1,2,6,O,E,NX,1,2,3"), nil, "has 12 fields, want 13"},
		{"vnet state lower case", vnet("1763632800123,10.0.0.1,10.0.0.2,1,2,6,O,e,NX,1,2,3,4"), nil, "want B, C, E or D"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := decode(t, Options{}, "edge.json", tc.data)
			if got.err != nil {
				t.Fatal(got.err)
			}
			if tc.problem != "" {
				if len(got.rows) != 0 || len(got.problems) != 1 || !strings.Contains(got.problems[0], tc.problem) ||
					!strings.HasPrefix(got.problems[0], "edge.json") {
					t.Fatalf("rows %v, problems %q, want one containing %q", got.rows, got.problems, tc.problem)
				}
				return
			}
			if len(got.rows) != 1 || len(got.problems) != 0 {
				t.Fatalf("%d rows, problems %q", len(got.rows), got.problems)
			}
			want(t, got.rows[0], tc.cols)
		})
	}
}

func TestParseTimeText(t *testing.T) {
	cases := map[string]string{ // input -> RFC 3339 of the result, "" for an error
		"2026-11-20T10:00:00Z":              "2026-11-20T10:00:00Z",
		"2026-11-20t10:00:00z":              "2026-11-20T10:00:00Z",
		"2026-11-20T10:00:00.000001Z":       "2026-11-20T10:00:00.000001Z",
		"2026-11-20T10:00:00.0000009Z":      "2026-11-20T10:00:00Z",
		"2026-11-20 10:00:00 UTC":           "2026-11-20T10:00:00Z",
		"2026-11-20 10:00:00UTC":            "2026-11-20T10:00:00Z",
		"2026-11-20T10:00:00-05:00":         "2026-11-20T15:00:00Z",
		"2026-12-31T23:59:60Z":              "2027-01-01T00:00:00Z", // a leap second
		"1970-01-01T00:00:00Z":              "1970-01-01T00:00:00Z",
		"9999-12-31T23:59:59.999999Z":       "9999-12-31T23:59:59.999999Z",
		"1969-12-31T23:59:59Z":              "",
		"2026-11-20T10:00:00.Z":             "",
		"2026-11-20T10:00:00 PST":           "",
		"2026-11-20T10:00:00+0500":          "",
		"2026-11-20T25:00:00Z":              "",
		"2026-11-20":                        "",
		"20261120T100000Z":                  "",
		"1763632800":                        "2025-11-20T10:00:00Z",
		"1763632800.5":                      "2025-11-20T10:00:00.5Z",
		"1.7636328e9":                       "2025-11-20T10:00:00Z",
		"NaN":                               "",
		"+1763632800":                       "",
		"":                                  "",
		"2026-11-20T10:00:00Z garbage":      "",
		"2026-11-20T10:00:00.123456789123Z": "2026-11-20T10:00:00.123456Z",
	}
	for in, want := range cases {
		us, ok := parseTimeText([]byte(in))
		got := ""
		if ok {
			got = timeText(us)
		}
		if got != want {
			t.Errorf("parseTimeText(%q) = %q, want %q", in, got, want)
		}
	}
}

func timeText(us int64) string {
	return time.UnixMicro(us).UTC().Format(time.RFC3339Nano)
}

func TestJSONInt(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  error
	}{
		{`1`, 1, nil}, {`"1"`, 1, nil}, {`-3`, -3, nil}, {`"-3"`, -3, nil},
		{`9223372036854775807`, 9223372036854775807, nil}, {`"9223372036854775807"`, 9223372036854775807, nil},
		{`9223372036854775808`, 0, errNotInt}, {`"-9223372036854775809"`, 0, errNotInt},
		{`null`, 0, errAbsent}, {`""`, 0, errAbsent}, {`1.5`, 0, errNotInt}, {`"0x10"`, 0, errNotInt},
		{`" 1"`, 0, errNotInt}, {`true`, 0, errNotInt}, {`[]`, 0, errNotInt},
	}
	var p fastjson.Parser
	for _, tc := range cases {
		v, err := p.Parse(`{"v":` + tc.in + `}`)
		if err != nil {
			t.Fatal(err)
		}
		n, _, err := jsonInt(v.Get("v"))
		if err != tc.err || n != tc.want {
			t.Errorf("jsonInt(%s) = %d, %v; want %d, %v", tc.in, n, err, tc.want, tc.err)
		}
	}
	if _, _, err := jsonInt(nil); err != errAbsent {
		t.Errorf("jsonInt(absent) = %v", err)
	}
}

func TestAzureHelpers(t *testing.T) {
	ids := []struct{ id, sub, vnet, subnet string }{
		{"/SUBSCRIPTIONS/ABC/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/N", "ABC", "", ""},
		{"/subscriptions/abc/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v1/subnets/s1", "abc", "v1", "s1"},
		{"/subscriptions/abc/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v1", "abc", "v1", ""},
		{"/subscriptions/", "", "", ""},
		{"subscriptions/abc", "", "", ""},
		{"", "", "", ""},
		{"/virtualNetworks/", "", "", ""},
	}
	for _, c := range ids {
		if got := string(subscriptionOf([]byte(c.id))); got != c.sub {
			t.Errorf("subscriptionOf(%q) = %q, want %q", c.id, got, c.sub)
		}
		if got := string(resourceName([]byte(c.id), "virtualNetworks")); got != c.vnet {
			t.Errorf("resourceName(%q, virtualNetworks) = %q, want %q", c.id, got, c.vnet)
		}
		if got := string(resourceName([]byte(c.id), "subnets")); got != c.subnet {
			t.Errorf("resourceName(%q, subnets) = %q, want %q", c.id, got, c.subnet)
		}
	}
	for in, want := range map[string]string{"000D3AF87856": "000D3AF87856", "00-0d-3a-f8-78-56": "000D3AF87856", "00:22:48:7b:C2:05": "0022487BC205", "": ""} {
		if got := appendMAC(nil, []byte(in)); string(got) != want {
			t.Errorf("appendMAC(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAzureCutEverywhere cuts a document at every byte: whatever the cut,
// every complete record before it is kept, and the damage is reported
// once, with its byte offset, without failing the run.
func TestAzureCutEverywhere(t *testing.T) {
	full := readFile(t, filepath.Join("..", "testdata", "azure", "nsg-v2.json"))
	doc := []byte(`{"records":[` + strings.Repeat(string(bytes.TrimSpace(recordOf(t, full)))+",", 3))
	doc = append(doc[:len(doc)-1], "]}"...)
	whole := decode(t, Options{Format: FormatAzureNSG}, "x.json", doc)
	if len(whole.rows) != 21 || len(whole.problems) != 0 {
		t.Fatalf("whole document: %d rows, problems %q", len(whole.rows), whole.problems)
	}
	step := 1
	if testing.Short() {
		step = 13
	}
	for cut := 0; cut < len(doc); cut += step {
		got := decode(t, Options{Format: FormatAzureNSG}, "x.json", doc[:cut])
		if got.err != nil {
			t.Fatalf("cut %d: run error %v", cut, got.err)
		}
		if len(got.rows)%7 != 0 {
			t.Fatalf("cut %d: %d rows, not whole records", cut, len(got.rows))
		}
		if cut > 0 && (len(got.problems) != 1 || !strings.Contains(got.problems[0], "damaged object") || !strings.Contains(got.problems[0], "at byte")) {
			t.Fatalf("cut %d: problems %q", cut, got.problems)
		}
		for i, r := range got.rows {
			if r["source_line"] != whole.rows[i]["source_line"] || r["src_addr"] != whole.rows[i]["src_addr"] {
				t.Fatalf("cut %d: row %d differs from the whole document's", cut, i)
			}
		}
	}
}

// recordOf returns the first record of a {"records": [...]} document.
func recordOf(t *testing.T, doc []byte) []byte {
	t.Helper()
	v, err := fastjson.ParseBytes(doc)
	if err != nil {
		t.Fatal(err)
	}
	return v.Get("records", "0").MarshalTo(nil)
}

// TestGCPCutEverywhere cuts NDJSON at every byte of its last two lines.
func TestGCPCutEverywhere(t *testing.T) {
	data := readFile(t, filepath.Join("..", "testdata", "gcp", "vpc-ipv6-gke.ndjson"))
	lines := bytes.SplitAfter(data, []byte("\n"))
	start := len(data) - len(lines[len(lines)-2]) - len(lines[len(lines)-3])
	step := 1
	if testing.Short() {
		step = 13
	}
	for cut := start; cut <= len(data); cut += step {
		got := decode(t, Options{Format: FormatGCPVPC}, "x.json", data[:cut])
		if got.err != nil {
			t.Fatal(got.err)
		}
		complete := bytes.Count(data[:cut], []byte("\n"))
		rows := len(got.rows)
		switch {
		case rows == complete && (len(got.problems) == 0 || strings.Contains(got.problems[0], "is cut")):
		case rows == complete+1 && len(got.problems) == 0: // cut just before the newline
		default:
			t.Fatalf("cut %d: %d rows from %d complete lines, problems %q", cut, rows, complete, got.problems)
		}
	}
}

// endlessAzure yields a VNet document of n records of 50 tuples each
// without holding it: the test of streaming.
type endlessAzure struct {
	n, i int
	buf  []byte
}

func (e *endlessAzure) Read(p []byte) (int, error) {
	for len(e.buf) == 0 {
		switch {
		case e.i == 0:
			e.buf = []byte(`{"records":[`)
		case e.i <= e.n:
			var sb strings.Builder
			if e.i > 1 {
				sb.WriteString(",\r\n")
			}
			sb.WriteString(`{"time":"2026-11-20T10:00:00Z","flowLogVersion":4,"macAddress":"00224871C205","flowLogResourceID":"/SUBSCRIPTIONS/S/X","flowRecords":{"flows":[{"aclID":"a","flowGroups":[{"rule":"r","flowTuples":[`)
			for j := range 50 {
				if j > 0 {
					sb.WriteByte(',')
				}
				fmt.Fprintf(&sb, `"1763632800%03d,10.0.%d.%d,52.239.184.180,%d,443,6,O,C,NX,1,2,3,4"`, j, e.i%250, j, 1024+j)
			}
			sb.WriteString(`]}]}]}}`)
			e.buf = []byte(sb.String())
		case e.i == e.n+1:
			e.buf = []byte("]}")
		default:
			return 0, io.EOF
		}
		e.i++
	}
	n := copy(p, e.buf)
	e.buf = e.buf[n:]
	return n, nil
}

// TestAzureStreamsLargeDocument parses a 256 MB document and checks that
// the heap never holds more than a small multiple of one batch: the
// document is never loaded whole.
func TestAzureStreamsLargeDocument(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	const records = 72_000 // 50 tuples and about 3.6 KB each
	src := &endlessAzure{n: records}
	var maxHeap uint64
	var ms runtime.MemStats
	rows := 0
	b := schema.NewBuilder(memory.NewGoAllocator(), 0, func(rec arrow.RecordBatch) error {
		rows += int(rec.NumRows())
		runtime.ReadMemStats(&ms)
		maxHeap = max(maxHeap, ms.HeapInuse)
		return nil
	})
	defer b.Release()
	in := &Input{Name: "big", R: countReader{src, new(int64)}, Report: func(p *Problem) error { return p }}
	if err := (&AzureVNet{}).Parse(context.Background(), in, b); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	size := *in.R.(countReader).n
	if rows != records*50 {
		t.Fatalf("%d rows, want %d", rows, records*50)
	}
	if size < 250_000_000 {
		t.Fatalf("the document is only %d bytes", size)
	}
	if maxHeap > 96<<20 {
		t.Errorf("heap reached %d MB reading a %d MB document", maxHeap>>20, size>>20)
	}
	t.Logf("%d MB document, %d rows, heap at most %d MB", size>>20, rows, maxHeap>>20)
}

type countReader struct {
	r io.Reader
	n *int64
}

func (c countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// TestGCPAzureStopsWhenAsked checks that a Report that says stop ends the
// parse with its error, and a cancelled context ends it too.
func TestGCPAzureStopsWhenAsked(t *testing.T) {
	stop := errors.New("stop")
	for _, file := range []string{"gcp/vpc-bad-fields.ndjson", "azure/nsg-bad-tuples.json"} {
		data := readFile(t, filepath.Join("..", "testdata", file))
		p := NewDecoder(Options{}).parsers[DetectFormat(file, data)]
		b := schema.NewBuilder(memory.NewGoAllocator(), 0, nil)
		calls := 0
		in := &Input{Name: file, R: bytes.NewReader(data), Report: func(*Problem) error { calls++; return stop }}
		if err := p.Parse(context.Background(), in, b); !errors.Is(err, stop) || calls != 1 {
			t.Errorf("%s: err %v after %d reports, want stop after 1", file, err, calls)
		}
		b.Release()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := schema.NewBuilder(memory.NewGoAllocator(), 0, nil)
	defer b.Release()
	in := &Input{Name: "big", R: &endlessAzure{n: 100}}
	if err := (&AzureVNet{}).Parse(ctx, in, b); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled parse: %v", err)
	}
}
