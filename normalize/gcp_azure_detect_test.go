package normalize

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDetectGCPAzure checks format detection from the key layouts the
// clouds write and, for keys that say nothing (a local copy, an export),
// from the first bytes.
func TestDetectGCPAzure(t *testing.T) {
	const (
		sub   = "AAAA0A0A-BB1B-CC2C-DD3D-EEEEEE4E4E4E"
		azure = "/y=2026/m=11/d=20/h=10/m=00/macAddress=000D3AF87856/PT1H.json"
	)
	vpcLine := `{"insertId":"a","jsonPayload":{"bytes_sent":"1","connection":{"src_ip":"10.0.0.1","dest_ip":"10.0.0.2"},"reporter":"SRC"},` +
		`"logName":"projects/p/logs/compute.googleapis.com%2Fvpc_flows"}` + "\n"
	natLine := `{"insertId":"a","jsonPayload":{"allocation_status":"OK","connection":{"src_ip":"10.0.0.1","dest_ip":"10.0.0.2","nat_ip":"34.1.1.1"}},` +
		`"logName":"projects/p/logs/compute.googleapis.com%2Fnat_flows"}` + "\n"
	keys := []struct {
		key  string
		want Format
	}{
		{"gs://logs/compute.googleapis.com/vpc_flows/2026/11/20/10:00:00_10:59:59_S0.json", FormatGCPVPC},
		{"compute.googleapis.com/vpc_flows/2026/11/20/10:00:00_10:59:59_A0:1763636400.json", FormatGCPVPC},
		{"gs://logs/networkmanagement.googleapis.com/vpc_flows/2026/11/20/10:00:00_10:59:59_S3.json", FormatGCPVPC},
		{"gs://logs/compute.googleapis.com/nat_flows/2026/11/20/10:00:00_10:59:59_S0.json", FormatGCPNAT},
		{"logs/compute.googleapis.com%2Fvpc_flows/2026/11/20/10:00:00_10:59:59_S0.json", FormatGCPVPC},
		{"azblob://acct/insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/" + sub +
			"/RESOURCEGROUPS/HUB/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/HUB-NSG" + azure, FormatAzureNSG},
		{"insights-logs-flowlogflowevent/flowLogResourceID=/SUBSCRIPTIONS/" + sub +
			"/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/HUB" + azure, FormatAzureVNet},
		{"insights-logs-flowlogflowevent/flowLogResourceID=/" + sub + "_NETWORKWATCHERRG/NETWORKWATCHER_EASTUS_HUB-HUB-RG-FLOWLOGS" + azure, FormatAzureVNet},
		{"insights-logs-flowlogflowevent/flowLogResourceID=/" + sub + "_NETWORKWATCHERRG/NETWORKWATCHER_EASTUS_HUB" + azure, FormatAzureVNet},
	}
	for _, k := range keys {
		// The key decides whatever the content (here: none, as for a
		// zero-length object).
		if got := DetectFormat(k.key, nil); got != k.want {
			t.Errorf("DetectFormat(%q) = %q, want %q", k.key, got, k.want)
		}
	}
	contents := []struct {
		name, head string
		want       Format
	}{
		{"vpc entry", vpcLine, FormatGCPVPC},
		{"nat entry", natLine, FormatGCPNAT},
		{"bigquery vpc row without log name", `{"jsonPayload":{"bytes_sent":"1","connection":{}}}`, FormatGCPVPC},
		{"query of jsonPayload.*", `{"connection":{"src_ip":"10.0.0.1"},"reporter":"DEST"}`, FormatGCPVPC},
		{"bigquery nat row, dropped", `{"jsonPayload":{"allocation_status":"DROPPED","connection":{}}}`, FormatGCPNAT},
		{"nat row, gateway only", `{"gateway_identifiers":{"gateway_name":"g"},"connection":{}}`, FormatGCPNAT},
		{"gcloud array", "[\n  {\n    \"insertId\": \"a\",\n    \"jsonPayload\": {\n      \"reporter\": \"SRC\"", FormatGCPVPC},
		{"nsg document", `{"records":[{"time":"2026-11-20T10:00:00Z","category":"NetworkSecurityGroupFlowEvent"`, FormatAzureNSG},
		{"nsg record, bom", "\ufeff" + `{"properties":{"Version":2,"flows":[{"rule":"r","flows":[{"mac":"M","flowTuples":[`, FormatAzureNSG},
		{"vnet document", `{"records":[{"time":"2026-11-20T10:00:00Z","flowLogVersion":4,`, FormatAzureVNet},
		{"vnet record", `{"flowRecords":{"flows":[]}}`, FormatAzureVNet},
		{"something else", `{"hello":"world"}`, FormatUnknown},
	}
	for _, c := range contents {
		if got := DetectFormat("copies/file.json", []byte(c.head)); got != c.want {
			t.Errorf("%s: DetectFormat = %q, want %q", c.name, got, c.want)
		}
	}
	// Our own fixtures, by content alone.
	for _, dir := range []string{"gcp", "azure"} {
		files, _ := filepath.Glob(filepath.Join("..", "testdata", dir, "*"))
		for _, f := range files {
			if strings.HasSuffix(f, ".golden") {
				continue
			}
			data := readFile(t, f)
			got := DetectFormat(filepath.Base(f), data[:min(len(data), sniffBytes)])
			if !strings.HasPrefix(string(got), dir+"-") {
				t.Errorf("%s: DetectFormat = %q", f, got)
			}
		}
	}
}
