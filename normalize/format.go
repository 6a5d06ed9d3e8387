package normalize

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"
)

// Log kinds, the values of the log_kind column.
const (
	KindAWSVPC    = "aws-vpc"
	KindAWSTGW    = "aws-tgw"
	KindGCPVPC    = "gcp-vpc"
	KindGCPNAT    = "gcp-nat"
	KindAzureNSG  = "azure-nsg"
	KindAzureVNet = "azure-vnet"
)

// Format is an object format: how an object's bytes are laid out. One
// format can yield several log kinds (AWS text holds VPC or TGW records).
type Format string

// The formats flowsym reads. The names are the values of --input-format.
const (
	FormatUnknown    Format = ""
	FormatAWSText    Format = "aws-text"
	FormatAWSParquet Format = "aws-parquet"
	FormatGCPVPC     Format = "gcp-vpc"
	FormatGCPNAT     Format = "gcp-nat"
	FormatAzureNSG   Format = "azure-nsg"
	FormatAzureVNet  Format = "azure-vnet"
)

// formatDocs describes every format for --help and error messages.
var formatDocs = map[Format]string{
	FormatAWSText:    "AWS VPC or Transit Gateway flow logs as text (S3 delivery, CloudWatch Logs or Firehose exports)",
	FormatAWSParquet: "AWS VPC or Transit Gateway flow logs delivered as Parquet",
	FormatGCPVPC:     "GCP VPC Flow Logs as a Cloud Logging sink writes them (NDJSON LogEntry)",
	FormatGCPNAT:     "GCP Cloud NAT logs as a Cloud Logging sink writes them",
	FormatAzureNSG:   "Azure NSG flow logs, version 1 or 2 (PT1H.json)",
	FormatAzureVNet:  "Azure VNet flow logs (PT1H.json)",
}

// Formats returns the names of every format, sorted.
func Formats() []Format {
	out := make([]Format, 0, len(formatDocs))
	for f := range formatDocs {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Describe returns a one-line description of a format.
func (f Format) Describe() string { return formatDocs[f] }

// ParseFormat checks a --input-format value; "" and "auto" mean detect.
func ParseFormat(s string) (Format, error) {
	if s == "" || s == "auto" {
		return FormatUnknown, nil
	}
	if _, ok := formatDocs[Format(s)]; ok {
		return Format(s), nil
	}
	names := make([]string, 0, len(formatDocs))
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return "", fmt.Errorf("unknown input format %q (want auto or one of %s)", s, strings.Join(names, ", "))
}

// DetectFormat picks the format of an object from its key layout and its
// first decompressed bytes. The key decides where a cloud's layout is
// unambiguous; otherwise the content does.
func DetectFormat(name string, head []byte) Format {
	if f := formatFromKey(name); f != FormatUnknown {
		if f == FormatAWSText && bytes.HasPrefix(head, parquetMagic) {
			return FormatAWSParquet
		}
		return f
	}
	return formatFromContent(head)
}

var parquetMagic = []byte("PAR1")

func formatFromKey(name string) Format {
	name = strings.ReplaceAll(name, "%2F", "/")
	switch {
	case strings.Contains(name, "insights-logs-networksecuritygroupflowevent"):
		return FormatAzureNSG
	case strings.Contains(name, "insights-logs-flowlogflowevent"):
		return FormatAzureVNet
	case strings.Contains(name, "/vpc_flows/") && strings.Contains(name, ".googleapis.com/"):
		return FormatGCPVPC
	case strings.Contains(name, "/nat_flows/") && strings.Contains(name, ".googleapis.com/"):
		return FormatGCPNAT
	case strings.Contains(name, "/vpcflowlogs/") || strings.Contains(name, "aws-service=vpcflowlogs") ||
		strings.Contains(name, "service=vpcflowlogs"):
		if strings.HasSuffix(path.Base(name), ".parquet") {
			return FormatAWSParquet
		}
		return FormatAWSText
	}
	return FormatUnknown
}

// formatFromContent looks at the first bytes: Parquet magic, a JSON
// document and the keys it starts with, or AWS text (a header line or a
// record whose fields are separated by spaces).
func formatFromContent(head []byte) Format {
	head = bytes.TrimLeft(head, " \t\r\n\ufeff")
	switch {
	case bytes.HasPrefix(head, parquetMagic):
		return FormatAWSParquet
	case len(head) > 0 && (head[0] == '{' || head[0] == '['):
		return formatFromJSON(head)
	case len(head) > 0:
		line, _, _ := bytes.Cut(head, []byte("\n"))
		if looksLikeAWSText(line) {
			return FormatAWSText
		}
	}
	return FormatUnknown
}

func formatFromJSON(head []byte) Format {
	has := func(s string) bool { return bytes.Contains(head, []byte(s)) }
	switch {
	case has(`"flowRecords"`) || has(`"FlowLogFlowEvent"`) || has(`"flowLogVersion"`):
		return FormatAzureVNet
	case has(`"NetworkSecurityGroupFlowEvent`) || has(`"flowTuples"`):
		return FormatAzureNSG
	// GCP: the log name first (a VPC record may one day carry a NAT
	// address), then members only one of the two has, for exports without
	// the LogEntry envelope (BigQuery rows, a query's jsonPayload.*).
	case has(`nat_flows`):
		return FormatGCPNAT
	case has(`vpc_flows`):
		return FormatGCPVPC
	case has(`"allocation_status"`) || has(`"gateway_identifiers"`) || has(`"nat_ip"`):
		return FormatGCPNAT
	case has(`"reporter"`) || has(`"bytes_sent"`) || has(`"src_instance"`) || has(`"dest_instance"`):
		return FormatGCPVPC
	case has(`"message"`):
		return FormatAWSText // CloudWatch Logs / Firehose envelope
	}
	return FormatUnknown
}

// looksLikeAWSText accepts a header line, or a line of at least six fields
// separated by spaces with no JSON or CSV punctuation.
func looksLikeAWSText(line []byte) bool {
	line = bytes.TrimRight(line, "\r")
	tokens := bytes.Fields(line)
	if isAWSHeader(tokens) {
		return true
	}
	return len(tokens) >= 6 && !bytes.ContainsAny(line, "{}\",;")
}
