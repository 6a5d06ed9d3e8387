package normalize

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowsym/flowsym/internal/samples"
)

// TestGCPAzureSamples parses every GCP and Azure sample file, detecting
// the format as a run would, with exact record counts, the problems each
// file is known to have, and checks of field values read off the files.
func TestGCPAzureSamples(t *testing.T) {
	const (
		fabrikamNSG = "/SUBSCRIPTIONS/AAAA0A0A-BB1B-CC2C-DD3D-EEEEEE4E4E4E/RESOURCEGROUPS/FABRIKAMRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/FABRIAKMVM1-NSG"
		fabrikamSub = "aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e"
		zeroSub     = "00000000-0000-0000-0000-000000000000"
		vnetFlowLog = "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS2EUAP/FLOWLOGS/VNETFLOWLOG"
	)
	cases := []struct {
		file     string
		format   Format
		rows     int
		problems []string // substrings, in order
		all      map[string]string
		check    map[int]map[string]string
	}{
		{
			file: "gcp/elastic-beats-gcp-vpcflow-logentries-excerpt.ndjson", format: FormatGCPVPC, rows: 30,
			all: map[string]string{"cloud": "gcp", "log_kind": "gcp-vpc", "account": "my-sample-project", "region": "us-east1", "zone": "us-east1-b",
				"network": "default", "subnet": "default", "sampled": "true", "connection_only": "false", "protocol": "6", "action": "",
				"rev_packets": "", "rev_bytes": "", "log_version": "", "tcp_flags": ""},
			check: map[int]map[string]string{
				0: {"observer": "kibana", "instance": "kibana", "direction": "egress", "src_addr": "10.87.40.76", "dst_addr": "203.0.113.12",
					"src_port": "5601", "dst_port": "33478", "packets": "7", "bytes": "1776", "source_line": "1",
					"start_time": "2019-06-14T03:45:37.186193Z", "end_time": "2019-06-14T03:45:37.301953Z", "labels": ""},
				// DEST: the destination VM reports, even with the source annotated.
				1: {"observer": "kibana", "instance": "kibana", "direction": "ingress", "src_addr": "198.51.100.248", "dst_addr": "10.87.40.76",
					"src_port": "9200", "dst_port": "33970", "packets": "68", "bytes": "173663", "start_time": "2019-06-14T03:40:08.466657Z"},
				2: {"observer": "elasticsearch", "direction": "egress", "bytes": "155707"},
				// bytes_sent "0" is zero, not NULL.
				3:  {"observer": "elasticsearch", "bytes": "0", "packets": "1", "src_port": "22", "dst_addr": "192.0.2.23"},
				5:  {"observer": "kibana", "direction": "ingress", "src_addr": "192.0.2.117", "dst_port": "5601", "bytes": "1464"},
				16: {"observer": "simianhacker-demo", "direction": "ingress", "src_addr": "203.0.113.93", "bytes": "34509840", "packets": "8690", "source_line": "17"},
				21: {"observer": "simianhacker-demo", "direction": "egress", "dst_addr": "203.0.113.93", "bytes": "173805495", "packets": "44438"},
				29: {"observer": "kibana", "direction": "egress", "src_port": "33552", "dst_port": "9200", "packets": "363", "bytes": "63853",
					"source_line": "30", "end_time": "2019-06-14T03:49:55.213244Z"},
			},
		},
		{
			// Microsoft's sample is itself malformed: its third element is a
			// nested {"records": [...]} document.
			file: "azure/azure-docs-nsg-flowlog-v1-overview-example.json", format: FormatAzureNSG, rows: 9,
			problems: []string{`malformed record: records[2] at byte 3371 is itself a {"records": [...]} document`},
			all: map[string]string{"cloud": "azure", "log_kind": "azure-nsg", "log_version": "1", "account": fabrikamSub, "resource_id": fabrikamNSG,
				"mac": "000D3AF8801A", "observer": "000D3AF8801A", "connection_only": "true", "dst_addr": "10.1.0.4", "direction": "ingress",
				"packets": "", "rev_packets": "", "flow_state": "", "region": "", "sampled": ""},
			check: map[int]map[string]string{
				0: {"start_time": "2017-02-16T22:00:21Z", "end_time": "2017-02-16T22:00:21Z", "src_addr": "192.0.2.95", "src_port": "51529",
					"dst_port": "5358", "protocol": "6", "action": "reject", "rule": "DefaultRule_DenyAllInBound", "source_line": "1"},
				1: {"src_addr": "192.0.2.17", "dst_port": "3389", "action": "accept", "rule": "UserRule_default-allow-rdp", "source_line": "2"},
				5: {"src_addr": "198.51.100.194", "src_port": "53", "dst_port": "1732", "protocol": "17", "action": "reject",
					"start_time": "2017-02-16T22:01:21Z", "source_line": "6"},
				8: {"src_addr": "192.0.2.50", "src_port": "65078", "source_line": "9"},
			},
		},
		{
			file: "azure/azure-docs-nsg-flowlog-v1-record-read-article.json", format: FormatAzureNSG, rows: 40,
			all: map[string]string{"log_version": "1", "account": zeroSub, "mac": "000D3A18077E", "observer": "000D3A18077E", "connection_only": "true",
				"protocol": "6", "action": "accept",
				"resource_id": "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/CONTOSORG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/CONTOSONSG"},
			check: map[int]map[string]string{
				0: {"src_addr": "10.0.0.4", "dst_addr": "168.62.32.14", "src_port": "44904", "dst_port": "443", "direction": "egress",
					"rule": "DefaultRule_AllowInternetOutBound", "start_time": "2017-06-16T20:58:42Z", "source_line": "1"},
				35: {"dst_addr": "52.240.48.24", "src_port": "45322", "start_time": "2017-06-16T20:59:39Z", "source_line": "36"},
				// The empty "flows": [] rule entries count no tuples.
				36: {"src_addr": "13.82.225.93", "dst_port": "80", "direction": "ingress", "rule": "UserRule_web-rule", "source_line": "37"},
				39: {"src_port": "1336", "start_time": "2017-06-16T20:59:40Z", "source_line": "40"},
			},
		},
		{
			file: "azure/azure-docs-nsg-flowlog-v2-overview-example.json", format: FormatAzureNSG, rows: 11,
			all: map[string]string{"log_version": "2", "account": fabrikamSub, "resource_id": fabrikamNSG, "observer": "000D3AF87856", "mac": "000D3AF87856"},
			check: map[int]map[string]string{
				0: {"start_time": "2018-11-13T12:00:02Z", "src_addr": "192.0.2.190", "dst_addr": "10.5.16.4", "protocol": "17", "direction": "ingress",
					"action": "reject", "flow_state": "begin", "connection_only": "true", "packets": "", "bytes": "", "rev_packets": "", "rev_bytes": "",
					"rule": "DefaultRule_DenyAllInBound", "source_line": "1"},
				3: {"src_addr": "10.5.16.4", "dst_addr": "203.0.113.118", "direction": "egress", "action": "accept", "flow_state": "begin",
					"rule": "DefaultRule_AllowInternetOutBound"},
				4:  {"flow_state": "end", "connection_only": "false", "packets": "1", "bytes": "66", "rev_packets": "1", "rev_bytes": "66"},
				5:  {"flow_state": "continuing", "packets": "30", "bytes": "16978", "rev_packets": "24", "rev_bytes": "14008", "dst_addr": "203.0.113.115"},
				6:  {"flow_state": "end", "packets": "15", "bytes": "8489", "rev_packets": "12", "rev_bytes": "7054", "start_time": "2018-11-13T12:00:06Z"},
				10: {"src_addr": "176.119.4.30", "dst_port": "52801", "flow_state": "begin", "start_time": "2018-11-13T12:01:30Z", "source_line": "11"},
			},
		},
		{
			file: "azure/elastic-integrations-nsg-v2-testdata.json", format: FormatAzureNSG, rows: 11,
			all: map[string]string{"log_version": "2", "account": zeroSub, "observer": "000D3AF87856"},
			check: map[int]map[string]string{
				0:  {"src_addr": "94.102.49.190", "protocol": "17", "flow_state": "begin", "packets": ""},
				5:  {"dst_addr": "13.67.143.115", "packets": "30", "bytes": "16978", "rev_packets": "24", "rev_bytes": "14008"},
				10: {"src_addr": "176.119.4.30", "source_line": "11"},
			},
		},
		{
			file: "azure/elastic-integrations-nsg-v2-single-record-unwrapped.json", format: FormatAzureNSG, rows: 1,
			check: map[int]map[string]string{
				0: {"log_version": "2", "src_addr": "1.128.0.0", "dst_addr": "1.128.0.1", "src_port": "59932", "dst_port": "443", "protocol": "6",
					"direction": "egress", "action": "accept", "flow_state": "end", "packets": "1", "bytes": "66", "rev_packets": "1", "rev_bytes": "66",
					"start_time": "2018-11-13T11:59:39Z", "account": zeroSub, "observer": "000D3AF87856", "rule": "DefaultRule_AllowInternetOutBound", "source_line": "1"},
			},
		},
		{
			file: "azure/azure-docs-vnet-flowlog-v4-overview-example.json", format: FormatAzureVNet, rows: 19,
			all: map[string]string{"cloud": "azure", "log_kind": "azure-vnet", "log_version": "4", "account": zeroSub, "resource_id": vnetFlowLog,
				"target_resource": "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/MYRESOURCEGROUP/PROVIDERS/MICROSOFT.NETWORK/VIRTUALNETWORKS/MYVNET",
				"network":         "myVNet", "subnet": "", "observer": "00224871C205", "mac": "00224871C205", "encryption": "NX", "protocol": "6"},
			check: map[int]map[string]string{
				0: {"start_time": "2022-09-14T09:00:03.599Z", "end_time": "2022-09-14T09:00:03.599Z", "src_addr": "10.0.0.6", "dst_addr": "52.239.184.180",
					"src_port": "23956", "dst_port": "443", "direction": "egress", "flow_state": "begin", "action": "accept", "connection_only": "true",
					"packets": "", "rev_bytes": "", "rule": "DefaultRule_AllowInternetOutBound", "source_line": "1",
					"labels": "aclID=00000000-1234-abcd-ef00-c1c2c3c4c5c6"},
				1: {"flow_state": "end", "connection_only": "false", "packets": "3", "bytes": "767", "rev_packets": "2", "rev_bytes": "1580"},
				9: {"dst_addr": "104.16.218.84", "packets": "22", "bytes": "2217", "rev_packets": "33", "rev_bytes": "32466", "start_time": "2022-09-14T09:00:22.793Z"},
				10: {"src_addr": "101.33.218.153", "dst_port": "22", "direction": "ingress", "flow_state": "denied", "action": "reject", "connection_only": "false",
					"packets": "0", "rev_bytes": "0", "rule": "BlockHighRiskTCPPortsFromInternet",
					"labels": "aclID=01020304-abcd-ef00-1234-102030405060"},
				12: {"rule": "Internet", "src_addr": "20.106.221.10", "start_time": "2022-09-14T08:59:49.563Z"},
				18: {"dst_port": "31244", "source_line": "19"},
			},
		},
		{
			file: "azure/elastic-integrations-vnet-testdata.json", format: FormatAzureVNet, rows: 19,
			check: map[int]map[string]string{0: {"src_addr": "10.0.0.6", "source_line": "1"}, 18: {"dst_port": "31244", "source_line": "19"}},
		},
		{
			file: "azure/azure-docs-vnet-flowlog-v4-single-record-read-article.json", format: FormatAzureVNet, rows: 10,
			all: map[string]string{"observer": "0022485D8CF8", "network": "ContosoVnetWcus", "flow_state": "denied", "action": "reject", "direction": "ingress",
				"dst_addr": "192.168.0.4", "packets": "0", "labels": "aclID=db903ae8-908e-491b-b12b-afaafab9d9ed"},
			check: map[int]map[string]string{
				0: {"src_addr": "45.119.212.87", "dst_port": "3389", "start_time": "2023-07-09T03:58:51.557Z",
					"rule": "BlockHighRiskTCPPortsFromInternet_456b4993-6e57-4e46-aa4d-81767afff09c", "source_line": "1"},
				1: {"rule": "Internet_4b9ac3d8-dc7b-4b9e-8702-9e9c25b52451", "src_addr": "35.203.210.145"},
				9: {"src_addr": "194.26.135.247", "dst_port": "20232", "source_line": "10"},
			},
		},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		seen[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			data := readFile(t, samples.Path(t, tc.file))
			head := data[:min(len(data), sniffBytes)]
			if got := DetectFormat(filepath.Base(tc.file), head); got != tc.format {
				t.Errorf("DetectFormat = %q, want %q", got, tc.format)
			}
			got := decode(t, Options{}, tc.file, data)
			if got.err != nil {
				t.Fatal(got.err)
			}
			if len(got.problems) != len(tc.problems) {
				t.Fatalf("problems %q, want %d", got.problems, len(tc.problems))
			}
			for i, p := range tc.problems {
				if !strings.Contains(got.problems[i], p) {
					t.Errorf("problem %q does not say %q", got.problems[i], p)
				}
			}
			if len(got.rows) != tc.rows {
				t.Fatalf("got %d rows, want %d", len(got.rows), tc.rows)
			}
			for i, r := range got.rows {
				want(t, r, tc.all)
				if r["source_object"] != tc.file {
					t.Errorf("row %d: source_object = %q", i, r["source_object"])
				}
			}
			for i, cols := range tc.check {
				t.Run(fmt.Sprint("row", i), func(t *testing.T) { want(t, got.rows[i], cols) })
			}
		})
	}
	// Every sample file is covered.
	for _, dir := range []string{"gcp", "azure"} {
		files, _ := filepath.Glob(filepath.Join(samples.Dir(t), dir, "*"))
		for _, f := range files {
			if name := dir + "/" + filepath.Base(f); !seen[name] {
				t.Errorf("sample %s has no test", name)
			}
		}
	}
}

// TestAzureSampleCopiesAgree: the Elastic compact copy of Microsoft's VNet
// sample and the re-indented Microsoft one give the same rows.
func TestAzureSampleCopiesAgree(t *testing.T) {
	a := decode(t, Options{}, "x", readFile(t, samples.Path(t, "azure/azure-docs-vnet-flowlog-v4-overview-example.json")))
	b := decode(t, Options{}, "x", readFile(t, samples.Path(t, "azure/elastic-integrations-vnet-testdata.json")))
	if diff := cmp.Diff(a.dumps, b.dumps); diff != "" {
		t.Errorf("the two copies differ (-microsoft +elastic):\n%s", diff)
	}
}
