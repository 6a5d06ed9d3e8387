package estate

import (
	"fmt"
	"net/netip"
)

// The estate's fixed names. They appear in the topology file, in object
// keys and in records; docs/demo-estate.md lists them.
const (
	awsAccount = "111122223333"
	awsRegion  = "us-east-1"

	gcpHostProject  = "hub-project"   // Shared VPC host: owns the network, Cloud NAT and the logs
	gcpSpokeProject = "spoke-project" // service project: owns the GKE nodes
	gcpRegion       = "us-central1"
	gcpVPC          = "shared-vpc"
	gcpSubnet       = "gke-prod-nodes"
	gcpSubnetID     = "4417862094861283412"
	gcpNATGateway   = "hub-nat"
	gcpRouter       = "hub-router"
	gcpRouterID     = "8123401234567890123"
	gcpCluster      = "prod"

	azSubscription = "00000000-0000-0000-0000-00000000a2a2"
	azRegion       = "eastus"
)

// Egress addresses. The approved ones are in the topology file's
// approved_egress_ips; gcpRogueNATIP is the extra address a Cloud NAT
// gateway picked up that nobody approved.
var (
	awsNATEIP     = netip.MustParseAddr("52.10.1.1")
	gcpNATIP      = netip.MustParseAddr("34.120.0.10")
	gcpRogueNATIP = netip.MustParseAddr("34.120.0.99")
	azNVAEgressIP = netip.MustParseAddr("20.50.0.7")
)

// host is an address with its text form rendered once: records print the
// same few thousand addresses millions of times.
type host struct {
	addr netip.Addr
	txt  []byte
}

func newHost(a netip.Addr) *host { return &host{addr: a, txt: []byte(a.String())} }

// An AWS flow log: one per VPC, delivering one object per 5-minute slot
// (more when a slot passes Config.ObjectRecords).
type awsFlowLog struct {
	id   string
	cur  *object
	slot int64 // Unix second of the open object's slot
	part int
}

// awsENI is one network interface: an observer of its VPC's flow log.
type awsENI struct {
	name     string // for docs and errors only
	id       string
	vpc      string
	subnet   string
	instance string // "-" for requester-managed interfaces (NAT, TGW)
	azID     string
	v4, v6   *host
	fl       *awsFlowLog
	// holeFrom..holeTo (minutes, half-open) lose every record to SKIPDATA.
	holeFrom, holeTo int
	// last is the last minute the interface logged a record.
	last int
	// head and meta are the constant parts of its lines.
	head, meta []byte
}

func (e *awsENI) inHole(m int) bool { return m >= e.holeFrom && m < e.holeTo }

// addr returns the interface's own address of a family: what AWS writes in
// srcaddr or dstaddr for packets it forwards.
func (e *awsENI) addr(v6 bool) *host {
	if v6 {
		return e.v6
	}
	return e.v4
}

type awsEstate struct {
	hubFL, k8sFL, appsFL *awsFlowLog
	fwA, fwB             *awsENI // inspection, one per AZ
	tgw                  [2]*awsENI
	nat                  *awsENI // the approved NAT gateway (az1)
	legacyNAT            *awsENI // spoke-local NAT gateway, approved: false
	natInstance          *awsENI // NAT instance in apps that routes to the hub
	k8s, apps            []*awsENI
	all                  []*awsENI
	// k8sGUA is the public IPv6 address of k8s node 0, used only by the
	// scripted public-client fault.
	k8sGUA *host
}

const (
	awsHubVPC   = "vpc-0b0e1a2c3d4e5f601"
	awsK8sVPC   = "vpc-0c8a1f3e5b7d90246"
	awsAppsVPC  = "vpc-0a995c3e1f7b2d468"
	awsK8sGUA   = "2600:1f18:4a2b:1200::/56"
	awsK8sULA   = "fd00:1::/48"
	awsAppsULA  = "fd00:2::/48"
	awsAZ1      = "use1-az1"
	awsAZ2      = "use1-az2"
	awsFlowFmt  = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id flow-direction traffic-path"
	awsVersion  = "5" // the highest version of any field in the format (flow-direction, traffic-path)
	awsEniHexes = 17
)

func hexID(prefix string, r *rng, n int) string {
	const digits = "0123456789abcdef"
	b := []byte(prefix)
	for len(b) < len(prefix)+n {
		b = append(b, digits[r.intn(16)])
	}
	return string(b)
}

func newAWSEstate(workloads int, r *rng) *awsEstate {
	a := &awsEstate{
		hubFL:  &awsFlowLog{id: "fl-0a1b2c3d4e5f60718"},
		k8sFL:  &awsFlowLog{id: "fl-0b2c3d4e5f6071829"},
		appsFL: &awsFlowLog{id: "fl-0c3d4e5f607182930"},
	}
	eni := func(name, idPrefix, vpc, subnet, instance, az, v4, v6 string, fl *awsFlowLog) *awsENI {
		e := &awsENI{
			name: name, id: hexID(idPrefix, r, awsEniHexes-len(idPrefix)+len("eni-")),
			vpc: vpc, subnet: subnet, instance: instance, azID: az, fl: fl,
			v4: newHost(netip.MustParseAddr(v4)), last: -1,
		}
		if v6 != "" {
			e.v6 = newHost(netip.MustParseAddr(v6))
		}
		e.head = []byte(awsVersion + " " + awsAccount + " " + e.id + " ")
		e.meta = []byte(" " + e.vpc + " " + e.subnet + " " + e.instance + " ")
		a.all = append(a.all, e)
		return e
	}
	a.fwA = eni("fw-a", "eni-0fa1", awsHubVPC, "subnet-0f1a2b3c4d5e6f708", hexID("i-0fa1", r, 13), awsAZ1, "10.0.1.10", "fd00:0:0:1::10", a.hubFL)
	a.fwB = eni("fw-b", "eni-0fb2", awsHubVPC, "subnet-0f2b3c4d5e6f70819", hexID("i-0fb2", r, 13), awsAZ2, "10.0.2.10", "fd00:0:0:2::10", a.hubFL)
	a.tgw[0] = eni("tgw-a", "eni-0ee1", awsHubVPC, "subnet-0e1a2b3c4d5e6f708", "-", awsAZ1, "10.0.10.5", "fd00:0:0:a::5", a.hubFL)
	a.tgw[1] = eni("tgw-b", "eni-0ee2", awsHubVPC, "subnet-0e2b3c4d5e6f70819", "-", awsAZ2, "10.0.20.5", "fd00:0:0:b::5", a.hubFL)
	a.nat = eni("hub-nat", "eni-0aa1", awsHubVPC, "subnet-0a1a2b3c4d5e6f708", "-", awsAZ1, "10.0.0.100", "", a.hubFL)
	for i := range workloads {
		az, azID := i%2+1, []string{awsAZ1, awsAZ2}[i%2]
		a.k8s = append(a.k8s, eni(fmt.Sprintf("k8s-node-%d", i), "eni-08", awsK8sVPC, fmt.Sprintf("subnet-08c%d1f3e5b7d90246", az), hexID("i-08", r, 15), azID,
			fmt.Sprintf("10.1.%d.%d", az, 10+i), fmt.Sprintf("fd00:1:0:%d::%x", az, 16+i), a.k8sFL))
	}
	for i := range workloads {
		az, azID := i%2+1, []string{awsAZ1, awsAZ2}[i%2]
		a.apps = append(a.apps, eni(fmt.Sprintf("apps-%d", i), "eni-07", awsAppsVPC, fmt.Sprintf("subnet-07a%d95c3e1f7b2d46", az), hexID("i-07", r, 15), azID,
			fmt.Sprintf("10.2.%d.%d", az, 10+i), fmt.Sprintf("fd00:2:0:%d::%x", az, 16+i), a.appsFL))
	}
	a.legacyNAT = eni("legacy-nat", "eni-0bad", awsAppsVPC, "subnet-07aff5c3e1f7b2d46", "-", awsAZ1, "10.2.255.10", "", a.appsFL)
	a.natInstance = eni("apps-nat-instance", "eni-0cc1", awsAppsVPC, "subnet-07afe5c3e1f7b2d46", hexID("i-0cc1", r, 13), awsAZ1, "10.2.254.10", "", a.appsFL)
	a.k8sGUA = newHost(netip.MustParseAddr("2600:1f18:4a2b:1201::10"))
	return a
}

// A GCP log: the hourly NDJSON shards a Cloud Logging sink writes for one
// log id.
type gcpLog struct {
	logID string // "vpc_flows" or "nat_flows"
	cur   *object
	hour  int64
	shard int
}

// gcpVM is a GKE node reporting VPC Flow Logs.
type gcpVM struct {
	name string
	zone string
	h    *host
	// instance and vpc are the JSON objects describing it in records.
	instance, vpc, resource []byte
}

type gcpEstate struct {
	vpcLog, natLog *gcpLog
	nodes          []*gcpVM
	public         *gcpVM // a node pool with external IPs: its traffic skips Cloud NAT
	natIPs         []*host
}

func newGCPEstate(workloads int, r *rng) *gcpEstate {
	g := &gcpEstate{vpcLog: &gcpLog{logID: "vpc_flows"}, natLog: &gcpLog{logID: "nat_flows"}}
	vm := func(name, zone, ip string) *gcpVM {
		v := &gcpVM{name: name, zone: zone, h: newHost(netip.MustParseAddr(ip))}
		v.instance = fmt.Appendf(nil, `{"project_id":%q,"region":%q,"vm_name":%q,"zone":%q}`, gcpSpokeProject, gcpRegion, name, zone)
		v.vpc = fmt.Appendf(nil, `{"project_id":%q,"subnetwork_name":%q,"subnetwork_region":%q,"vpc_name":%q}`, gcpHostProject, gcpSubnet, gcpRegion, gcpVPC)
		v.resource = fmt.Appendf(nil, `{"labels":{"location":%q,"project_id":%q,"subnetwork_id":%q,"subnetwork_name":%q},"type":"gce_subnetwork"}`, zone, gcpHostProject, gcpSubnetID, gcpSubnet)
		return v
	}
	pool := hexID("", r, 8)
	for i := range workloads {
		zone := gcpRegion + "-" + string(rune('a'+i%3))
		g.nodes = append(g.nodes, vm(fmt.Sprintf("gke-prod-pool-1-%s-%s", pool, hexID("", r, 4)), zone, fmt.Sprintf("10.10.0.%d", 10+i)))
	}
	g.public = vm("gke-prod-public-pool-3c1e9a4b-q2w3", gcpRegion+"-b", "10.10.8.5")
	g.natIPs = []*host{newHost(gcpNATIP), newHost(gcpRogueNATIP)}
	return g
}

// azNIC is one NIC with a VNet flow log: it writes one PT1H.json per hour.
type azNIC struct {
	name    string
	mac     string
	h       *host
	flowLog string // flowLogResourceID, upper-case as Azure writes it
	target  string // targetResourceID: the VNet the flow log is on
	aclID   string
	guid    string
	cur     *object
	hour    int64
	tuples  [azRules][]byte // this minute's tuples per rule, JSON strings joined by commas
	count   int             // tuples this minute
}

// The rules tuples are filed under, in the order records list them.
const (
	ruleAllowOut = iota // spoke VM: outbound to the internet
	ruleAllowHub        // NVA: forwarding spoke egress
	ruleDenyIn          // spoke VM: inbound from the internet
	azRules
)

var azRuleNames = [azRules]string{"DefaultRule_AllowInternetOutBound", "UserRule_allow-spoke-egress", "DefaultRule_DenyAllInBound"}

type azEstate struct {
	nva [2]*azNIC
	vms []*azNIC
	all []*azNIC
}

const (
	azHubVNet   = "vnet-hub"
	azSpokeVNet = "vnet-spoke-apps"
)

func azFlowLogID(name string) string {
	return "/SUBSCRIPTIONS/" + upper(azSubscription) + "/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_" + upper(azRegion) + "/FLOWLOGS/" + name
}

func azVNetID(rg, vnet string) string {
	return "/subscriptions/" + azSubscription + "/resourceGroups/" + rg + "/providers/Microsoft.Network/virtualNetworks/" + vnet
}

func newAzureEstate(workloads int, r *rng) *azEstate {
	z := &azEstate{}
	nic := func(name, mac, ip, flowLog, target, acl string) *azNIC {
		n := &azNIC{name: name, mac: mac, h: newHost(netip.MustParseAddr(ip)), flowLog: flowLog, target: target, aclID: acl, hour: -1}
		n.guid = fmt.Sprintf("%s-%s-%s-%s-%s", hexID("", r, 8), hexID("", r, 4), hexID("", r, 4), hexID("", r, 4), hexID("", r, 12))
		z.all = append(z.all, n)
		return n
	}
	hubACL := "5f1c2a7e-3b4d-4e6f-8a9b-0c1d2e3f4a5b"
	spokeACL := "9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d"
	z.nva[0] = nic("nva-1", "00224871C205", "10.20.0.4", azFlowLogID("FL-HUB"), azVNetID("rg-hub", azHubVNet), hubACL)
	z.nva[1] = nic("nva-2", "00224871C206", "10.20.0.5", azFlowLogID("FL-HUB"), azVNetID("rg-hub", azHubVNet), hubACL)
	for i := range workloads {
		z.vms = append(z.vms, nic(fmt.Sprintf("vm-app-%d", i), fmt.Sprintf("000D3A8F1A%02X", 16+i), fmt.Sprintf("10.21.1.%d", 4+i),
			azFlowLogID("FL-SPOKE"), azVNetID("rg-spoke", azSpokeVNet), spokeACL))
	}
	return z
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
