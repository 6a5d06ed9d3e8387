package ingest

import (
	"testing"
	"time"
)

// TestKeySpan checks the time range each cloud's object layout gives. want
// is the range the key's dates name; KeySpan widens it by recordMargin on
// each side, which the test adds.
func TestKeySpan(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02T15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	const (
		sub     = "AAAA0A0A-BB1B-CC2C-DD3D-EEEEEE4E4E4E"
		nsgRoot = "insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/" + sub +
			"/RESOURCEGROUPS/HUB-RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/HUB-NSG"
		azureDate = "/y=2026/m=11/d=20/h=10/m=00/macAddress=000D3AF87856/PT1H.json"
	)
	cases := []struct {
		name       string
		key        string
		ok         bool
		start, end string // without the margin
	}{
		// AWS: plain layout, daily or hourly folders, the file name's
		// 5-minute slot refines either.
		{"aws daily", "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/20/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20261120T1005Z_a1b2.log.gz",
			true, "2026-11-20T10:05", "2026-11-20T10:10"},
		{"aws hourly", "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/20/10/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20261120T1055Z_a1b2.log.gz",
			true, "2026-11-20T10:55", "2026-11-20T11:00"},
		{"aws url", "s3://logs/AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/20/x.log.gz", true, "2026-11-20T00:00", "2026-11-21T00:00"},
		{"aws day folder", "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/20/", true, "2026-11-20T00:00", "2026-11-21T00:00"},
		{"aws month folder", "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/", true, "2026-11-01T00:00", "2026-12-01T00:00"},
		{"aws year folder", "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/", true, "2026-01-01T00:00", "2027-01-01T00:00"},
		{"aws region folder", "AWSLogs/123456789012/vpcflowlogs/us-east-1/", false, "", ""},
		{"aws parquet", "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/01/31/123456789012_vpcflowlogs_eu-west-1_fl-1_20260131T2355Z_x.log.parquet",
			true, "2026-01-31T23:55", "2026-02-01T00:00"},
		// A slot of another day in the name (a misfiled object) does not
		// narrow the folder's day.
		{"aws slot of another day", "AWSLogs/1/vpcflowlogs/us-east-1/2026/11/20/1_vpcflowlogs_us-east-1_fl-1_20261121T0005Z_x.log.gz",
			true, "2026-11-20T00:00", "2026-11-21T00:00"},
		// AWS Hive-compatible prefixes.
		{"aws hive hourly", "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=20/hour=10/123456789012_vpcflowlogs_us-east-1_fl-1_20261120T1015Z_x.log.parquet",
			true, "2026-11-20T10:15", "2026-11-20T10:20"},
		{"aws hive day", "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=20/",
			true, "2026-11-20T00:00", "2026-11-21T00:00"},
		{"aws hive year", "AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/", true, "2026-01-01T00:00", "2027-01-01T00:00"},
		// GCS sink: hourly shards S<n> and late-entry append shards A<n>:<ts>.
		{"gcs shard", "compute.googleapis.com/vpc_flows/2026/11/20/10:00:00_10:59:59_S0.json", true, "2026-11-20T10:00", "2026-11-20T11:00"},
		{"gcs second shard", "gs://logs/compute.googleapis.com/vpc_flows/2026/11/20/23:00:00_23:59:59_S12.json", true, "2026-11-20T23:00", "2026-11-21T00:00"},
		{"gcs append shard", "compute.googleapis.com/vpc_flows/2026/11/20/10:00:00_10:59:59_A0:1763638210.json", true, "2026-11-20T10:00", "2026-11-20T11:00"},
		{"gcs encoded colons", "compute.googleapis.com/vpc_flows/2026/11/20/10%3A00%3A00_10%3A59%3A59_S0.json", true, "2026-11-20T10:00", "2026-11-20T11:00"},
		{"gcs nat", "compute.googleapis.com/nat_flows/2026/11/20/07:00:00_07:59:59_S0.json", true, "2026-11-20T07:00", "2026-11-20T08:00"},
		{"gcs network management", "networkmanagement.googleapis.com/vpc_flows/2026/11/20/10:00:00_10:59:59_S1.json", true, "2026-11-20T10:00", "2026-11-20T11:00"},
		{"gcs year folder", "compute.googleapis.com/vpc_flows/2026/", true, "2026-01-01T00:00", "2027-01-01T00:00"},
		// Azure NSG: "m=" twice, the month and then the minute (always 00).
		{"azure nsg", nsgRoot + azureDate, true, "2026-11-20T10:00", "2026-11-20T11:00"},
		{"azure nsg hour folder", nsgRoot + "/y=2026/m=11/d=20/h=10/", true, "2026-11-20T10:00", "2026-11-20T11:00"},
		{"azure nsg minute folder", nsgRoot + "/y=2026/m=11/d=20/h=10/m=00/", true, "2026-11-20T10:00", "2026-11-20T11:00"},
		{"azure nsg month folder", nsgRoot + "/y=2026/m=02/", true, "2026-02-01T00:00", "2026-03-01T00:00"},
		{"azure resource folder", nsgRoot + "/", false, "", ""},
		// Azure VNet: the three path shapes Microsoft's pages show.
		{"azure vnet full id", "insights-logs-flowlogflowevent/flowLogResourceID=/SUBSCRIPTIONS/" + sub +
			"/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/HUBFLOWLOG" + azureDate,
			true, "2026-11-20T10:00", "2026-11-20T11:00"},
		{"azure vnet portal", "insights-logs-flowlogflowevent/flowLogResourceID=/" + sub + "_NETWORKWATCHERRG/NETWORKWATCHER_EASTUS_HUBFLOWLOG-HUB-RG-FLOWLOGS" + azureDate,
			true, "2026-11-20T10:00", "2026-11-20T11:00"},
		{"azure vnet powershell", "https://acct.blob.core.windows.net/insights-logs-flowlogflowevent/flowLogResourceID=/" + sub + "_NETWORKWATCHERRG/NETWORKWATCHER_EASTUS_HUBFLOWLOG" + azureDate,
			true, "2026-11-20T10:00", "2026-11-20T11:00"},
		// Names that look like years are not dates (bugs: the first
		// four-digit segment used to win and pruned whole years away).
		{"azure resource group named like a year", "insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/" + sub +
			"/RESOURCEGROUPS/2024/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/2023" + azureDate,
			true, "2026-11-20T10:00", "2026-11-20T11:00"},
		{"azure resource group folder named like a year", "insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/" + sub + "/RESOURCEGROUPS/2024/", false, "", ""},
		{"prefix named like a year", "archive/2025/AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/20/x.log.gz", true, "2026-11-20T00:00", "2026-11-21T00:00"},
		{"prefix folder named like a year", "archive/2025/", false, "", ""},
		{"dated prefix above a deeper date", "backup/2025/01/AWSLogs/1/vpcflowlogs/us-east-1/2026/11/20/x.log.gz", true, "2026-11-20T00:00", "2026-11-21T00:00"},
		// A local copy in any YYYY/MM[/DD] layout.
		{"local copy", "copies/2026/11/20/flows.log", true, "2026-11-20T00:00", "2026-11-21T00:00"},
		{"local copy month", "copies/2026/11/", true, "2026-11-01T00:00", "2026-12-01T00:00"},
		// A day the month does not have ends the date at the month.
		{"31 november", "copies/2026/11/31/flows.log", true, "2026-11-01T00:00", "2026-12-01T00:00"},
		{"29 february", "copies/2028/02/29/flows.log", true, "2028-02-29T00:00", "2028-03-01T00:00"},
		{"hour out of range", "copies/2026/11/20/24/flows.log", true, "2026-11-20T00:00", "2026-11-21T00:00"},
		// No date at all.
		{"no date", "flows/sample.json", false, "", ""},
		{"account id only", "AWSLogs/123456789012/vpcflowlogs/", false, "", ""},
		{"year out of range", "copies/1999/11/20/x.log", false, "", ""},
		{"empty", "", false, "", ""},
		{"port in a name", "captures/host-8080/x.log", false, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := KeySpan(tc.key)
			if ok != tc.ok {
				t.Fatalf("KeySpan(%q) ok = %v, want %v (span %v)", tc.key, ok, tc.ok, got)
			}
			if !ok {
				if !got.IsZero() {
					t.Errorf("undated key has span %v", got)
				}
				return
			}
			want := Span{Start: at(tc.start).Add(-recordMargin), End: at(tc.end).Add(recordMargin)}
			if !got.Start.Equal(want.Start) || !got.End.Equal(want.End) {
				t.Errorf("KeySpan(%q) = [%s, %s), want [%s, %s)", tc.key,
					got.Start.Format(time.RFC3339), got.End.Format(time.RFC3339),
					want.Start.Format(time.RFC3339), want.End.Format(time.RFC3339))
			}
		})
	}
}

// TestKeySpanNests checks that a folder's span holds the span of every
// object under it, which pruning relies on: a folder skipped for its span
// must not hide an object that overlaps the window.
func TestKeySpanNests(t *testing.T) {
	chains := [][]string{
		{"AWSLogs/1/vpcflowlogs/us-east-1/2026/", "AWSLogs/1/vpcflowlogs/us-east-1/2026/11/", "AWSLogs/1/vpcflowlogs/us-east-1/2026/11/30/",
			"AWSLogs/1/vpcflowlogs/us-east-1/2026/11/30/23/", "AWSLogs/1/vpcflowlogs/us-east-1/2026/11/30/23/1_vpcflowlogs_us-east-1_fl-1_20261130T2355Z_x.log.gz"},
		{"compute.googleapis.com/vpc_flows/2026/", "compute.googleapis.com/vpc_flows/2026/12/", "compute.googleapis.com/vpc_flows/2026/12/31/",
			"compute.googleapis.com/vpc_flows/2026/12/31/23:00:00_23:59:59_A3:1798765432.json"},
		{"r/y=2026/", "r/y=2026/m=02/", "r/y=2026/m=02/d=28/", "r/y=2026/m=02/d=28/h=23/", "r/y=2026/m=02/d=28/h=23/m=00/macAddress=X/PT1H.json"},
	}
	for _, chain := range chains {
		for i := 1; i < len(chain); i++ {
			outer, ok1 := KeySpan(chain[i-1])
			inner, ok2 := KeySpan(chain[i])
			if !ok1 || !ok2 {
				t.Fatalf("%q or %q has no date", chain[i-1], chain[i])
			}
			if inner.Start.Before(outer.Start) || inner.End.After(outer.End) {
				t.Errorf("%q %v is not inside %q %v", chain[i], inner, chain[i-1], outer)
			}
		}
	}
}
