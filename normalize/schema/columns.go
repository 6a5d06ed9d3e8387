// Package schema defines flowsym's one normalized flow record: the ordered
// table of columns that every stage imports, the Arrow schema derived from
// it, a row builder that parsers append into, and a typed view that readers
// use. Parquet names, JSON keys and report headings all come from the table
// below, so a column is added or renamed in exactly one place.
//
// The package imports only Arrow so that every other package can depend on
// it without cycles.
package schema

// Kind is the value type of a column.
type Kind uint8

const (
	// KindString is UTF-8 text; NULL when the log does not give a value.
	KindString Kind = iota
	// KindInt32 holds ports, protocol numbers, TCP flags and small codes.
	KindInt32
	// KindInt64 holds counters and line numbers.
	KindInt64
	// KindTime is a UTC instant with microsecond precision. Microseconds,
	// not nanoseconds, because Spark, Athena and BigQuery read Parquet
	// TIMESTAMP(MICROS) natively and some of them reject NANOS.
	KindTime
	// KindAddr is an IP address. In Arrow it is a 16-byte fixed-size binary
	// (IPv4 stored IPv4-mapped) so that the correlator compares addresses
	// without parsing; in Parquet it is exported as text.
	KindAddr
	// KindBool is a flag.
	KindBool
	// KindLabels is a map of string to string for source-specific context
	// that has no column of its own (ECS task, GKE pod, resource tags).
	KindLabels
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInt32:
		return "int32"
	case KindInt64:
		return "int64"
	case KindTime:
		return "timestamp[us, UTC]"
	case KindAddr:
		return "address"
	case KindBool:
		return "bool"
	case KindLabels:
		return "map<string,string>"
	}
	return "unknown"
}

// Col is the position of a column in the table.
type Col int

// The columns, in table order. The order is the Arrow and Parquet column
// order; append new columns where they belong and update testdata/schema.txt.
const (
	StartTime Col = iota
	EndTime
	Cloud
	LogKind
	LogVersion
	Account
	Region
	Zone
	Network
	Subnet
	Observer
	Instance
	SrcAddr
	DstAddr
	SrcPort
	DstPort
	Protocol
	PktSrcAddr
	PktDstAddr
	Direction
	Action
	LogStatus
	Packets
	Bytes
	RevPackets
	RevBytes
	TCPFlags
	FlowState
	TrafficPath
	PktSrcAWSService
	PktDstAWSService
	ConnectionOnly
	Sampled
	NATAddr
	NATPort
	Rule
	MAC
	ResourceID
	TargetResource
	Encryption
	RejectReason
	InterfaceType
	NextHopInterface
	TGWID
	TGWPairAttachment
	PacketsLostNoRoute
	PacketsLostBlackhole
	PacketsLostMTUExceeded
	PacketsLostTTLExpired
	Labels
	SourceObject
	SourceLine

	// NumColumns is the number of columns; it is not a column.
	NumColumns
)

// Column describes one column of the normalized flow record.
type Column struct {
	// Name is the snake_case name used in Arrow, Parquet and JSON. It is a
	// contract with analysts' SQL: never rename a column lightly.
	Name string
	Kind Kind
	// Title is the heading in human-readable reports.
	Title string
	// Reverse is the column that holds the same fact for the other end or
	// the other direction (src_addr for dst_addr, rev_bytes for bytes), or
	// -1 when the column has no mirror.
	Reverse Col
	// Doc says what the column holds and where it comes from.
	Doc string
}

const none Col = -1

// table is the one definition of the normalized record. It is immutable.
var table = [NumColumns]Column{
	StartTime:   {"start_time", KindTime, "Start", none, "First packet of the record's aggregation window, UTC. AWS `start`, GCP `start_time`, Azure tuple time."},
	EndTime:     {"end_time", KindTime, "End", none, "Last packet of the aggregation window, UTC. AWS `end`, GCP `end_time`; Azure tuples carry one instant, so it equals start_time."},
	Cloud:       {"cloud", KindString, "Cloud", none, "`aws`, `gcp` or `azure`."},
	LogKind:     {"log_kind", KindString, "Log", none, "`aws-vpc`, `aws-tgw`, `gcp-vpc`, `gcp-nat`, `azure-nsg` or `azure-vnet`."},
	LogVersion:  {"log_version", KindInt32, "Version", none, "Format version the record states (AWS `version`, Azure NSG `Version`, VNet `flowLogVersion`)."},
	Account:     {"account", KindString, "Account", none, "AWS account id (may be the literal `unknown` AWS writes for service-owned interfaces), GCP project id, Azure subscription id."},
	Region:      {"region", KindString, "Region", none, "Cloud region of the observer."},
	Zone:        {"zone", KindString, "Zone", none, "AWS `az-id`, GCP zone."},
	Network:     {"network", KindString, "Network", none, "AWS VPC id, GCP VPC name, Azure VNet."},
	Subnet:      {"subnet", KindString, "Subnet", none, "AWS subnet id, GCP subnetwork name, Azure subnet."},
	Observer:    {"observer", KindString, "Observer", none, "Capture point: AWS interface id (or resource-id when the interface is `-`), TGW attachment id, GCP reporter VM or NAT gateway, Azure NIC MAC."},
	Instance:    {"instance", KindString, "Instance", none, "AWS instance id, GCP VM name of the reporter."},
	SrcAddr:     {"src_addr", KindAddr, "Source", DstAddr, "Source address as logged. For AWS this is the interface's primary address on NAT and TGW paths; see pkt_src_addr."},
	DstAddr:     {"dst_addr", KindAddr, "Destination", SrcAddr, "Destination address as logged."},
	SrcPort:     {"src_port", KindInt32, "Src port", DstPort, "Source port; 0 for ICMP in AWS logs."},
	DstPort:     {"dst_port", KindInt32, "Dst port", SrcPort, "Destination port."},
	Protocol:    {"protocol", KindInt32, "Proto", none, "IANA protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6)."},
	PktSrcAddr:  {"pkt_src_addr", KindAddr, "Pkt source", PktDstAddr, "AWS `pkt-srcaddr`: the source address in the packet itself."},
	PktDstAddr:  {"pkt_dst_addr", KindAddr, "Pkt destination", PktSrcAddr, "AWS `pkt-dstaddr`: the destination address in the packet itself."},
	Direction:   {"direction", KindString, "Dir", none, "`ingress` or `egress` relative to the observer. NULL when the log does not say (AWS formats without `flow-direction`)."},
	Action:      {"action", KindString, "Action", none, "`accept` or `reject`. NULL on NODATA/SKIPDATA rows and for logs without a decision (TGW)."},
	LogStatus:   {"log_status", KindString, "Status", none, "AWS `log-status`: `ok`, `nodata` (covered, no traffic) or `skipdata` (records lost)."},
	Packets:     {"packets", KindInt64, "Packets", RevPackets, "Packets in the record's own direction (source to destination)."},
	Bytes:       {"bytes", KindInt64, "Bytes", RevBytes, "Bytes in the record's own direction."},
	RevPackets:  {"rev_packets", KindInt64, "Rev packets", Packets, "Packets destination to source, for logs that count both directions (Azure NSG v2, VNet)."},
	RevBytes:    {"rev_bytes", KindInt64, "Rev bytes", Bytes, "Bytes destination to source, for logs that count both directions."},
	TCPFlags:    {"tcp_flags", KindInt32, "Flags", none, "TCP flags OR-ed over the window (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, SYN-ACK 18, URG 32)."},
	FlowState:   {"flow_state", KindString, "State", none, "Azure flow state: `begin`, `continuing`, `end` or `denied`."},
	TrafficPath: {"traffic_path", KindInt32, "Path", none, "AWS `traffic-path` code of egress traffic (1 same VPC, 2 IGW or gateway endpoint, 3 VGW, 4 intra-region peering, 5 inter-region peering, 6 local gateway, 7 gateway endpoint, 8 IGW)."},

	PktSrcAWSService: {"pkt_src_aws_service", KindString, "Src service", PktDstAWSService, "AWS `pkt-src-aws-service`: the ip-ranges service name of the packet source."},
	PktDstAWSService: {"pkt_dst_aws_service", KindString, "Dst service", PktSrcAWSService, "AWS `pkt-dst-aws-service`."},

	ConnectionOnly: {"connection_only", KindBool, "Conn only", none, "True when the record only says a connection existed and counts no packets (GCP Cloud NAT, Azure NSG v1); such records never show a direction as seen or missing."},
	Sampled:        {"sampled", KindBool, "Sampled", none, "True when counters are estimates from sampled packets (GCP VPC Flow Logs)."},
	NATAddr:        {"nat_addr", KindAddr, "NAT address", none, "Translated address (GCP Cloud NAT `nat_ip`)."},
	NATPort:        {"nat_port", KindInt32, "NAT port", none, "Translated port (GCP Cloud NAT `nat_port`)."},
	Rule:           {"rule", KindString, "Rule", none, "Azure NSG or admin rule that decided the flow."},
	MAC:            {"mac", KindString, "MAC", none, "Azure NIC MAC address, 12 upper-case hex digits."},
	ResourceID:     {"resource_id", KindString, "Resource", none, "AWS `resource-id`; Azure NSG resource id or VNet flow log resource id."},
	TargetResource: {"target_resource", KindString, "Target", none, "Azure VNet flow log target resource (VNet, subnet or NIC)."},
	Encryption:     {"encryption", KindString, "Encryption", none, "AWS `encryption-status` code or Azure VNet encryption state (`X`, `NX`, `NX_...`)."},
	RejectReason:   {"reject_reason", KindString, "Reject reason", none, "AWS `reject-reason` (`BPA`, `EC`)."},
	InterfaceType:  {"interface_type", KindString, "Interface type", none, "AWS `interface-type` of the capturing interface (`nat_gateway`, `transit_gateway`, ...)."},

	NextHopInterface:  {"next_hop_interface", KindString, "Next hop", none, "AWS `next-hop-interface-id`: the interface the flow goes to next."},
	TGWID:             {"tgw_id", KindString, "TGW", none, "AWS Transit Gateway id."},
	TGWPairAttachment: {"tgw_pair_attachment", KindString, "TGW pair", none, "AWS `tgw-pair-attachment-id`: the other attachment of the transit."},

	PacketsLostNoRoute:     {"packets_lost_no_route", KindInt64, "Lost no route", none, "TGW packets dropped for lack of a route."},
	PacketsLostBlackhole:   {"packets_lost_blackhole", KindInt64, "Lost blackhole", none, "TGW packets dropped by a blackhole route."},
	PacketsLostMTUExceeded: {"packets_lost_mtu_exceeded", KindInt64, "Lost MTU", none, "TGW packets dropped for exceeding the MTU."},
	PacketsLostTTLExpired:  {"packets_lost_ttl_expired", KindInt64, "Lost TTL", none, "TGW packets dropped because their TTL expired."},

	Labels:       {"labels", KindLabels, "Labels", none, "Other context the log gives, keyed by the source's own field name (AWS `ecs-task-id`, `instance-tag`, `type`; GKE pod and workload)."},
	SourceObject: {"source_object", KindString, "Object", none, "Object or file the record was read from."},
	SourceLine:   {"source_line", KindInt64, "Line", none, "1-based line in the object, or record index in a JSON document."},
}

// Columns returns the table of columns in order. The slice is a copy.
func Columns() []Column {
	out := make([]Column, NumColumns)
	copy(out, table[:])
	return out
}

// Info returns the description of column c.
func (c Col) Info() Column { return table[c] }

// Name returns the column's snake_case name.
func (c Col) Name() string { return table[c].Name }

// Kind returns the column's value type.
func (c Col) Kind() Kind { return table[c].Kind }

// Reverse returns the mirror column, or the column itself when it has none.
func (c Col) Reverse() Col {
	if r := table[c].Reverse; r != none {
		return r
	}
	return c
}

// Lookup finds a column by name.
func Lookup(name string) (Col, bool) {
	for i := range table {
		if table[i].Name == name {
			return Col(i), true
		}
	}
	return 0, false
}
