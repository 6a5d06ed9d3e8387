package normalize

import (
	"fmt"
	"strings"

	"github.com/flowsym/flowsym/normalize/schema"
)

// conv says how an AWS field's text becomes a column value.
type conv uint8

const (
	convSkip      conv = iota // a field flowsym does not know: ignored
	convStr                   // text as is
	convAddr                  // IPv4 or IPv6 address
	convPort                  // 0..65535
	convProto                 // 0..255
	convCount                 // non-negative int64 counter
	convSmall                 // non-negative int32 (flags, codes, version)
	convEpoch                 // Unix seconds
	convAction                // ACCEPT / REJECT
	convStatus                // OK / NODATA / SKIPDATA
	convDirection             // ingress / egress
	convLabel                 // kept in the labels map under the AWS name
	convTag                   // a label whose value AWS percent-encodes
)

// awsField is one field of the AWS VPC or Transit Gateway flow-log format.
type awsField struct {
	name    string
	version int
	col     schema.Col
	conv    conv
	tgw     bool // only Transit Gateway logs have it
}

// awsFields lists every field AWS documents for VPC flow logs (versions 2
// to 11) and Transit Gateway flow logs (version 6), in the order of AWS's
// tables. Fields without a column of their own keep their value in labels.
var awsFields = []awsField{
	{"version", 2, schema.LogVersion, convSmall, false},
	{"account-id", 2, schema.Account, convStr, false},
	{"interface-id", 2, schema.Observer, convStr, false},
	{"srcaddr", 2, schema.SrcAddr, convAddr, false},
	{"dstaddr", 2, schema.DstAddr, convAddr, false},
	{"srcport", 2, schema.SrcPort, convPort, false},
	{"dstport", 2, schema.DstPort, convPort, false},
	{"protocol", 2, schema.Protocol, convProto, false},
	{"packets", 2, schema.Packets, convCount, false},
	{"bytes", 2, schema.Bytes, convCount, false},
	{"start", 2, schema.StartTime, convEpoch, false},
	{"end", 2, schema.EndTime, convEpoch, false},
	{"action", 2, schema.Action, convAction, false},
	{"log-status", 2, schema.LogStatus, convStatus, false},
	{"vpc-id", 3, schema.Network, convStr, false},
	{"subnet-id", 3, schema.Subnet, convStr, false},
	{"instance-id", 3, schema.Instance, convStr, false},
	{"tcp-flags", 3, schema.TCPFlags, convSmall, false},
	{"type", 3, 0, convLabel, false},
	{"pkt-srcaddr", 3, schema.PktSrcAddr, convAddr, false},
	{"pkt-dstaddr", 3, schema.PktDstAddr, convAddr, false},
	{"region", 4, schema.Region, convStr, false},
	{"az-id", 4, schema.Zone, convStr, false},
	{"sublocation-type", 4, 0, convLabel, false},
	{"sublocation-id", 4, 0, convLabel, false},
	{"pkt-src-aws-service", 5, schema.PktSrcAWSService, convStr, false},
	{"pkt-dst-aws-service", 5, schema.PktDstAWSService, convStr, false},
	{"flow-direction", 5, schema.Direction, convDirection, false},
	{"traffic-path", 5, schema.TrafficPath, convSmall, false},
	{"ecs-cluster-arn", 7, 0, convLabel, false},
	{"ecs-cluster-name", 7, 0, convLabel, false},
	{"ecs-container-instance-arn", 7, 0, convLabel, false},
	{"ecs-container-instance-id", 7, 0, convLabel, false},
	{"ecs-container-id", 7, 0, convLabel, false},
	{"ecs-second-container-id", 7, 0, convLabel, false},
	{"ecs-service-name", 7, 0, convLabel, false},
	{"ecs-task-definition-arn", 7, 0, convLabel, false},
	{"ecs-task-arn", 7, 0, convLabel, false},
	{"ecs-task-id", 7, 0, convLabel, false},
	{"reject-reason", 8, schema.RejectReason, convStr, false},
	{"resource-id", 9, schema.ResourceID, convStr, false},
	{"encryption-status", 10, schema.Encryption, convStr, false},
	{"instance-tag", 11, 0, convTag, false},
	{"instance-tag-2", 11, 0, convTag, false},
	{"interface-tag", 11, 0, convTag, false},
	{"interface-tag-2", 11, 0, convTag, false},
	{"asg-tag", 11, 0, convTag, false},
	{"asg-tag-2", 11, 0, convTag, false},
	{"interface-type", 11, schema.InterfaceType, convStr, false},
	{"next-hop-interface-id", 11, schema.NextHopInterface, convStr, false},
	{"next-hop-subnet-id", 11, 0, convLabel, false},
	{"next-hop-az-id", 11, 0, convLabel, false},
	{"next-hop-vpc-id", 11, 0, convLabel, false},
	{"next-hop-interface-type", 11, 0, convLabel, false},
	// Transit Gateway flow logs.
	{"resource-type", 6, 0, convLabel, true},
	{"tgw-id", 6, schema.TGWID, convStr, true},
	{"tgw-attachment-id", 6, schema.Observer, convStr, true},
	{"tgw-src-vpc-account-id", 6, 0, convLabel, true},
	{"tgw-dst-vpc-account-id", 6, 0, convLabel, true},
	{"tgw-src-vpc-id", 6, 0, convLabel, true},
	{"tgw-dst-vpc-id", 6, 0, convLabel, true},
	{"tgw-src-subnet-id", 6, 0, convLabel, true},
	{"tgw-dst-subnet-id", 6, 0, convLabel, true},
	{"tgw-src-eni", 6, 0, convLabel, true},
	{"tgw-dst-eni", 6, 0, convLabel, true},
	{"tgw-src-az-id", 6, 0, convLabel, true},
	{"tgw-dst-az-id", 6, 0, convLabel, true},
	{"tgw-pair-attachment-id", 6, schema.TGWPairAttachment, convStr, true},
	{"packets-lost-no-route", 6, schema.PacketsLostNoRoute, convCount, true},
	{"packets-lost-blackhole", 6, schema.PacketsLostBlackhole, convCount, true},
	{"packets-lost-mtu-exceeded", 6, schema.PacketsLostMTUExceeded, convCount, true},
	{"packets-lost-ttl-expired", 6, schema.PacketsLostTTLExpired, convCount, true},
}

// awsFieldIndex finds a field by its hyphenated name.
var awsFieldIndex = func() map[string]int {
	m := make(map[string]int, len(awsFields))
	for i, f := range awsFields {
		m[f.name] = i
	}
	return m
}()

// Formats that --aws-format names, for logs that carry no header line.
var awsPresets = map[string]string{
	// The default format of VPC flow logs (version 2), under two names.
	"v2":      awsDefaultFormat,
	"default": awsDefaultFormat,
	// The default format of Transit Gateway flow logs: every v2-v6 field.
	"tgw": "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id " +
		"tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id " +
		"tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end " +
		"log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded " +
		"packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service",
}

const awsDefaultFormat = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// AWSFormat is a compiled AWS flow-log format: the field of each position.
type AWSFormat struct {
	fields  []awsField
	unknown []string
	tgw     bool
}

// ParseAWSFormat compiles a format: a preset name ("v2", "default",
// "tgw") or field names separated by spaces or commas, as in the header of
// an S3 object or the LogFormat of the flow log (with or without the
// ${...} wrapping AWS uses there). Unknown names are kept as skipped
// positions and listed by Unknown; repeating a field is an error.
func ParseAWSFormat(spec string) (*AWSFormat, error) {
	if p, ok := awsPresets[strings.TrimSpace(spec)]; ok {
		spec = p
	}
	names := strings.FieldsFunc(spec, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	switch {
	case len(names) == 0:
		return nil, fmt.Errorf("empty AWS flow-log format")
	case len(names) > maxLineFields:
		return nil, fmt.Errorf("AWS flow-log format has %d fields; flowsym reads at most %d", len(names), maxLineFields)
	}
	f := &AWSFormat{fields: make([]awsField, len(names))}
	seen := map[string]bool{}
	for i, n := range names {
		n = strings.TrimSuffix(strings.TrimPrefix(n, "${"), "}")
		n = strings.ReplaceAll(strings.ToLower(n), "_", "-")
		if seen[n] {
			return nil, fmt.Errorf("AWS flow-log format names %q twice", n)
		}
		seen[n] = true
		idx, ok := awsFieldIndex[n]
		if !ok {
			f.fields[i] = awsField{name: n, conv: convSkip}
			f.unknown = append(f.unknown, n)
			continue
		}
		f.fields[i] = awsFields[idx]
		f.tgw = f.tgw || awsFields[idx].tgw
	}
	return f, nil
}

// Unknown lists the names the format has that flowsym does not know.
func (f *AWSFormat) Unknown() []string { return f.unknown }

// Len returns the number of fields.
func (f *AWSFormat) Len() int { return len(f.fields) }

// Kind returns the log kind the format describes.
func (f *AWSFormat) Kind() string {
	if f.tgw {
		return KindAWSTGW
	}
	return KindAWSVPC
}

// String returns the field names separated by spaces.
func (f *AWSFormat) String() string {
	names := make([]string, len(f.fields))
	for i, fl := range f.fields {
		names[i] = fl.name
	}
	return strings.Join(names, " ")
}

// isAWSHeader reports whether tokens form a header line: every token has the
// shape of a field name and most of them are names flowsym knows. Data
// values (numbers, addresses, "-", "eni-..." ids) never pass both tests.
func isAWSHeader(tokens [][]byte) bool {
	if len(tokens) == 0 {
		return false
	}
	known := 0
	for _, t := range tokens {
		if !fieldShaped(t) {
			return false
		}
		if _, ok := awsFieldIndex[string(t)]; ok {
			known++
		}
	}
	return known*2 > len(tokens)
}

func fieldShaped(t []byte) bool {
	if len(t) == 0 || t[0] < 'a' || t[0] > 'z' {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
