package normalize

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flowsym/flowsym/internal/arrowpool"
	"github.com/flowsym/flowsym/normalize/schema"
)

// The benchmarks below parse a realistic object generated in memory and, in
// the same run, decode the same bytes into any with encoding/json: the
// cost of merely reading the JSON, which the parser must beat by 3x (the
// sub-benchmark decoder=encoding-json-any). Compare the two with
//
//	go test -run='^$' -bench='^BenchmarkParse(GCP|Azure)' -count=10 ./normalize > bench.txt
//	benchstat -col /decoder bench.txt

// benchRows is the size of each generated object.
const benchRows = 100_000

// benchParse runs parser p over data and, as the baseline, encoding/json.
func benchParse(b *testing.B, format string, p Parser, data []byte, rows int) {
	name := fmt.Sprintf("format=%s/rows=%dk", format, rows/1000)
	b.Run(name+"/decoder=flowsym", func(b *testing.B) {
		b.ReportAllocs()
		mem := arrowpool.NewDirty(0) // as Run allocates
		got := 0
		bld := schema.NewBuilder(mem, 0, func(rec arrow.RecordBatch) error {
			got += int(rec.NumRows())
			return nil
		})
		defer bld.Release()
		var problems int
		in := &Input{Name: "bench", Report: func(*Problem) error { problems++; return nil }}
		cpu := processCPU()
		for b.Loop() {
			got = 0
			in.R = bytes.NewReader(data)
			if err := p.Parse(context.Background(), in, bld); err != nil {
				b.Fatal(err)
			}
			if err := bld.Flush(); err != nil {
				b.Fatal(err)
			}
			if got != rows || problems != 0 {
				b.Fatalf("got %d rows and %d problems, want %d rows", got, problems, rows)
			}
		}
		reportRates(b, len(data), rows, processCPU()-cpu)
	})
	b.Run(name+"/decoder=encoding-json-any", func(b *testing.B) {
		b.ReportAllocs()
		cpu := processCPU()
		for b.Loop() {
			dec := json.NewDecoder(bytes.NewReader(data))
			for {
				var v any
				if err := dec.Decode(&v); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
		}
		reportRates(b, len(data), rows, processCPU()-cpu)
	})
}

// reportRates reports rows/s and MB/s of wall time, and the CPU time of
// the process per operation (GC included), which a busy machine disturbs
// less: compare cpu-ns/op between decoders when the machine is shared.
func reportRates(b *testing.B, size, rows int, cpu int64) {
	secs := b.Elapsed().Seconds()
	if secs == 0 {
		return
	}
	n := float64(b.N)
	b.ReportMetric(n*float64(rows)/secs, "rows/s")
	b.ReportMetric(n*float64(size)/secs/1e6, "MB/s")
	b.ReportMetric(float64(cpu)/n, "cpu-ns/op")
}

// BenchmarkParseGCPVPC: NDJSON LogEntries shaped like the shared sample
// (about 1 KB a line), SRC and DEST reporters, some GKE annotations.
//
//	go test -run='^$' -bench='^BenchmarkParseGCPVPC$' -count=10 ./normalize | benchstat -col /decoder -
func BenchmarkParseGCPVPC(b *testing.B) {
	benchParse(b, KindGCPVPC, &GCPVPC{}, genGCPVPC(benchRows), benchRows)
}

// BenchmarkParseGCPNAT: NDJSON Cloud NAT entries, one in 20 DROPPED.
//
//	go test -run='^$' -bench='^BenchmarkParseGCPNAT$' -count=10 ./normalize | benchstat -col /decoder -
func BenchmarkParseGCPNAT(b *testing.B) {
	benchParse(b, KindGCPNAT, &GCPNAT{}, genGCPNAT(benchRows), benchRows)
}

// BenchmarkParseAzureNSG: one PT1H.json of Version 2 records, 25 tuples
// per rule and two rules per record, B, C and E states mixed.
//
//	go test -run='^$' -bench='^BenchmarkParseAzureNSG$' -count=10 ./normalize | benchstat -col /decoder -
func BenchmarkParseAzureNSG(b *testing.B) {
	benchParse(b, KindAzureNSG, &AzureNSG{}, genAzureNSG(benchRows), benchRows)
}

// BenchmarkParseAzureVNet: one PT1H.json of flowLogVersion 4 records, two
// ACLs per record, B, C, E and D states mixed.
//
//	go test -run='^$' -bench='^BenchmarkParseAzureVNet$' -count=10 ./normalize | benchstat -col /decoder -
func BenchmarkParseAzureVNet(b *testing.B) {
	benchParse(b, KindAzureVNet, &AzureVNet{}, genAzureVNet(benchRows), benchRows)
}

func genGCPVPC(rows int) []byte {
	var sb strings.Builder
	for i := range rows {
		vm, peer := "web-"+fmt.Sprint(i%40), "db-"+fmt.Sprint(i%7)
		reporter, inst, vpc := "SRC", "src_instance", "src_vpc"
		if i%2 == 1 {
			reporter, inst, vpc = "DEST", "dest_instance", "dest_vpc"
		}
		gke := ""
		if i%5 == 0 {
			gke = fmt.Sprintf(`"src_gke_details":{"cluster":{"cluster_location":"us-east1","cluster_name":"prod"},"pod":{"pod_name":"api-%d","pod_namespace":"shop","workload":{"workload_name":"api","workload_type":"DEPLOYMENT"}}},`, i%300)
		}
		fmt.Fprintf(&sb, `{"insertId":"ins%07d","jsonPayload":{"bytes_sent":"%d","connection":{"dest_ip":"10.%d.%d.%d","dest_port":%d,"protocol":6,"src_ip":"10.87.%d.%d","src_port":443},"dest_location":{"asn":15169,"continent":"America","country":"usa"},"end_time":"2026-11-20T10:%02d:%02d.301953198Z",%s"packets_sent":"%d","reporter":"%s","rtt_msec":"36",%q:{"project_id":"my-project","region":"us-east1","vm_name":%q,"zone":"us-east1-b"},%q:{"project_id":"my-project","subnetwork_name":"default","vpc_name":"default"},"start_time":"2026-11-20T10:%02d:%02d.186193305Z"},"logName":"projects/my-project/logs/compute.googleapis.com%%2Fvpc_flows","receiveTimestamp":"2026-11-20T10:59:10.845445834Z","resource":{"labels":{"location":"us-east1-b","project_id":"my-project","subnetwork_id":"758019854043528829","subnetwork_name":"default"},"type":"gce_subnetwork"},"timestamp":"2026-11-20T10:59:10.845445834Z"}`+"\n",
			i, 100+i*37%900000, i%200, i%250, i%250, 1024+i%60000, i%250, i%250, i%60, i%60, gke, 1+i%500, reporter, inst, vm, vpc, i%60, i%60)
		_ = peer
	}
	return []byte(sb.String())
}

func genGCPNAT(rows int) []byte {
	var sb strings.Builder
	for i := range rows {
		status, nat := "OK", fmt.Sprintf(`"nat_ip":"34.120.0.%d","nat_port":%d,`, 10+i%4, 1024+i%60000)
		if i%20 == 0 {
			status, nat = "DROPPED", ""
		}
		fmt.Fprintf(&sb, `{"insertId":"nat%07d","jsonPayload":{"allocation_status":%q,"connection":{"dest_ip":"198.51.100.%d","dest_port":443,%s"protocol":6,"src_ip":"10.1.%d.%d","src_port":%d},"destination":{"geo_location":{"asn":13335,"continent":"America","country":"usa"}},"endpoint":{"project_id":"svc-project","region":"europe-west1","vm_name":"vm-%d","zone":"europe-west1-b"},"gateway_identifiers":{"gateway_name":"hub-nat","region":"europe-west1","router_name":"hub-router"},"vpc":{"project_id":"host-project","subnetwork_name":"subnet-1","vpc_name":"hub-vpc"}},"logName":"projects/host-project/logs/compute.googleapis.com%%2Fnat_flows","receiveTimestamp":"2026-11-20T10:46:08.123456789Z","resource":{"labels":{"gateway_name":"hub-nat","project_id":"host-project","region":"europe-west1","router_id":"987654321123456"},"type":"nat_gateway"},"timestamp":"2026-11-20T10:%02d:%02d.602240572Z"}`+"\n",
			i, status, i%250, nat, i%200, i%250, 30000+i%30000, i%50, i%60, i%60)
	}
	return []byte(sb.String())
}

func genAzureNSG(tuples int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"records":[`)
	n := 0
	for r := 0; n < tuples; r++ {
		if r > 0 {
			sb.WriteString(",\r\n")
		}
		fmt.Fprintf(&sb, `{"time":"2026-11-20T10:%02d:35.3899262Z","systemId":"66aa66aa-bb77-cc88-dd99-00ee00ee00ee","category":"NetworkSecurityGroupFlowEvent","resourceId":"/SUBSCRIPTIONS/AAAA0A0A-BB1B-CC2C-DD3D-EEEEEE4E4E4E/RESOURCEGROUPS/HUB-RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/HUB-NVA-NSG","operationName":"NetworkSecurityGroupFlowEvents","properties":{"Version":2,"flows":[`, r%60)
		for rule := range 2 {
			if rule > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `{"rule":"UserRule_allow-%d","flows":[{"mac":"000D3AF87856","flowTuples":[`, rule)
			for i := 0; i < 25 && n < tuples; i++ {
				if i > 0 {
					sb.WriteString(",")
				}
				switch n % 3 {
				case 0:
					fmt.Fprintf(&sb, `"%d,10.5.%d.%d,203.0.113.%d,%d,443,T,O,A,B,,,,"`, 1763632800+n%3600, n%200, n%250, n%250, 1024+n%60000)
				default:
					fmt.Fprintf(&sb, `"%d,10.5.%d.%d,203.0.113.%d,%d,443,T,O,A,C,%d,%d,%d,%d"`, 1763632800+n%3600, n%200, n%250, n%250, 1024+n%60000, n%100, n*7%100000, n%90, n*5%100000)
				}
				n++
			}
			sb.WriteString(`]}]}`)
		}
		sb.WriteString(`]}}`)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

func genAzureVNet(tuples int) []byte {
	var sb strings.Builder
	sb.WriteString(`{"records":[`)
	states := []string{"B", "C", "E", "D"}
	n := 0
	for r := 0; n < tuples; r++ {
		if r > 0 {
			sb.WriteString(",\r\n")
		}
		fmt.Fprintf(&sb, `{"time":"2026-11-20T10:%02d:52.5625085Z","flowLogVersion":4,"flowLogGUID":"abcdef01-2345-6789-0abc-def012345678","macAddress":"00224871C205","category":"FlowLogFlowEvent","flowLogResourceID":"/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/HUBVNETFLOWLOG","targetResourceID":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/hub-rg/providers/Microsoft.Network/virtualNetworks/hub-vnet","operationName":"FlowLogFlowEvent","flowRecords":{"flows":[`, r%60)
		for acl := range 2 {
			if acl > 0 {
				sb.WriteString(",")
			}
			fmt.Fprintf(&sb, `{"aclID":"00000000-1234-abcd-ef00-c1c2c3c4c5c%d","flowGroups":[{"rule":"DefaultRule_AllowInternetOutBound","flowTuples":[`, acl)
			for i := 0; i < 25 && n < tuples; i++ {
				if i > 0 {
					sb.WriteString(",")
				}
				st := states[n%4]
				c := fmt.Sprintf("%d,%d,%d,%d", n%100, n*7%100000, n%90, n*5%100000)
				if st == "B" || st == "D" {
					c = "0,0,0,0"
				}
				fmt.Fprintf(&sb, `"%d,10.0.%d.%d,52.239.%d.%d,%d,443,6,O,%s,NX,%s"`, 1763632800000+int64(n%3600000), n%200, n%250, n%200, n%250, 1024+n%60000, st, c)
				n++
			}
			sb.WriteString(`]}]}`)
		}
		sb.WriteString(`]}}`)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}
