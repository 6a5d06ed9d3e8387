package correlate

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

const exampleTopology = `# The example of ANALYSIS.md.
private_cidrs: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10]
session_gap: 15m
observers:
  - name: aws-hub-firewall
    role: inspection
    match: {interfaces: [eni-0fa1*, eni-0fb2*]}
  - name: aws-hub-nat
    role: nat
    match: {interfaces: [eni-0aa1]}
    egress_ips: [52.10.1.1]
  - name: gcp-cloud-nat
    role: nat
    match: {nat_gateways: [hub-nat]}
    egress_ips: [34.120.0.10]
  - name: azure-hub-nva
    role: inspection
    match: {cidrs: [10.20.0.0/27]}
  - name: k8s-prod
    role: spoke
    match: {cidrs: [10.1.0.0/16]}
  - name: legacy-nat
    role: nat
    approved: false
    match: {interfaces: [eni-0bad]}
approved_egress_ips: [52.10.1.1, 34.120.0.10, 20.50.0.7]
`

func TestLoadExample(t *testing.T) {
	topo, err := Load("flowsym.yaml", []byte(exampleTopology))
	if err != nil {
		t.Fatal(err)
	}
	if len(topo.Entries) != 6 || topo.SessionGap != 15*time.Minute || len(topo.ApprovedEgressIPs) != 3 || len(topo.Private) != 4 {
		t.Fatalf("%+v", topo)
	}
	legacy := topo.Entries[5]
	if legacy.Approved || legacy.Role != RoleNAT || legacy.Line != 22 {
		t.Errorf("legacy entry: %+v", legacy)
	}
	if !topo.Entries[0].Approved {
		t.Error("approved must default to true")
	}
	for _, tc := range []struct {
		id   ObserverID
		own  string
		want string
	}{
		{ObserverID{Cloud: "aws", ID: "eni-0fa1234"}, "", "aws-hub-firewall"},
		{ObserverID{Cloud: "aws", ID: "ENI-0FB2999"}, "", "aws-hub-firewall"}, // globs ignore case
		{ObserverID{Cloud: "gcp", Kind: "gcp-nat", ID: "hub-nat"}, "", "gcp-cloud-nat"},
		{ObserverID{Cloud: "gcp", Kind: "gcp-vpc", ID: "hub-nat"}, "", ""}, // nat_gateways only name NAT observers
		{ObserverID{Cloud: "azure", ID: "00224871C205"}, "10.20.0.4", "azure-hub-nva"},
		{ObserverID{Cloud: "aws", ID: "eni-x"}, "10.1.2.3", "k8s-prod"},
		{ObserverID{Cloud: "aws", ID: "eni-x"}, "10.9.2.3", ""},
	} {
		o := newObserver(tc.id)
		if tc.own != "" {
			o.noteOwn(netip.MustParseAddr(tc.own), 1)
		}
		r := topo.resolve(o)
		got := ""
		if r.Entry != nil {
			got = r.Entry.Name
		}
		if got != tc.want {
			t.Errorf("%v own %s: entry %q, want %q", tc.id, tc.own, got, tc.want)
		}
	}
	if !topo.IsPublic(netip.MustParseAddr("93.184.216.34")) || topo.IsPublic(netip.MustParseAddr("10.1.1.1")) {
		t.Error("IsPublic")
	}
}

func TestLoadRejects(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown top key", "observer: []\n", "line 1: field observer not found"},
		{"unknown entry key", "observers:\n  - name: a\n    rol: nat\n", "line 3: field rol not found"},
		{"unknown match key", "observers:\n  - name: a\n    role: nat\n    match: {interface: [x]}\n", "line 4: field interface not found"},
		{"missing name", "observers:\n  - role: nat\n    match: {interfaces: [x]}\n", "topo.yaml:2: observer entry has no name"},
		{"bad role", "observers:\n  - name: a\n    role: firewall\n    match: {interfaces: [x]}\n", `topo.yaml:2: observer "a": role "firewall" is not one of`},
		{"no match", "observers:\n  - name: a\n    role: nat\n", `topo.yaml:2: observer "a" has no match`},
		{"empty match", "observers:\n  - name: a\n    role: nat\n    match: {}\n", "match names nothing"},
		{"bad cidr", "observers:\n  - name: a\n    role: spoke\n    match:\n      cidrs:\n        - 10.0.0.0/8\n        - 10.1.0.0/33\n", `topo.yaml:7: bad CIDR "10.1.0.0/33"`},
		{"bad glob", "observers:\n  - name: a\n    role: spoke\n    match: {interfaces: ['eni-[']}\n", `topo.yaml:4: observer "a": bad glob "eni-["`},
		{"duplicate name", "observers:\n  - {name: a, role: nat, match: {interfaces: [x]}}\n  - {name: a, role: nat, match: {interfaces: [y]}}\n", `topo.yaml:3: observer name "a" is already used on line 2`},
		{"bad egress ip", "observers:\n  - {name: a, role: nat, match: {interfaces: [x]}, egress_ips: [52.10.1]}\n", `topo.yaml:2: bad IP address "52.10.1"`},
		{"bad approved ip", "approved_egress_ips: [1.2.3.4, nope]\n", `topo.yaml:1: bad IP address "nope"`},
		{"bad private", "private_cidrs:\n  - 10.0.0.0/8\n  - ten\n", `topo.yaml:3: bad CIDR "ten"`},
		{"bad gap", "session_gap: soon\n", `topo.yaml:1: session_gap "soon" is not a positive duration`},
		{"negative gap", "session_gap: -5m\n", "not a positive duration"},
		{"bad cloud", "observers:\n  - {name: a, role: nat, cloud: oci, match: {interfaces: [x]}}\n", `cloud "oci" is not aws, gcp or azure`},
		{"wrong type", "session_gap: [1]\n", "line 1: cannot unmarshal"},
		{"not yaml", "observers: [\n", "topo.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("topo.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestGlobs(t *testing.T) {
	for _, tc := range []struct {
		glob, value string
		want        bool
	}{
		{"eni-0fa1*", "eni-0fa1abc", true},
		{"eni-0fa1*", "eni-0fb1abc", false},
		{"*HUB-NSG", "/SUBSCRIPTIONS/x/RESOURCEGROUPS/rg/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/hub-nsg", true},
		{"eni-?", "eni-1", true},
		{"eni-?", "eni-12", false},
		{"eni-[ab]1", "eni-b1", true},
		{"eni-[!ab]1", "eni-b1", false},
		{"a.b", "axb", false},
	} {
		re, err := compileGlob(tc.glob)
		if err != nil {
			t.Fatal(err)
		}
		if got := re.MatchString(tc.value); got != tc.want {
			t.Errorf("%q on %q = %v", tc.glob, tc.value, got)
		}
	}
}
