// Package correlate stitches the normalized records of each connection
// together across the observers of a hub-and-spoke egress design and
// decides, per connection, which findings hold: one_way, asymmetric,
// hub_bypass and unapproved_nat, as ../shared/spec/ANALYSIS.md defines them
// (see docs/analysis.md for the decisions where the spec is silent).
//
// The state of one connection is a small mergeable summary, never the list
// of its records, so the same definition serves one process, a partitioned
// run and a distributed combine step.
package correlate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Role is what an observer is in the egress design.
type Role string

// The roles. Every role but spoke (and unknown) is a hub role.
const (
	RoleUnknown    Role = "unknown"
	RoleSpoke      Role = "spoke"
	RoleInspection Role = "inspection"
	RoleNAT        Role = "nat"
	RoleProxy      Role = "proxy"
	RoleTransit    Role = "transit"
)

// Hub reports whether r is a hub role.
func (r Role) Hub() bool {
	return r == RoleInspection || r == RoleNAT || r == RoleProxy || r == RoleTransit
}

// Stateful reports whether r keeps per-connection state, so that a missing
// direction there breaks connections.
func (r Role) Stateful() bool { return r == RoleInspection || r == RoleNAT || r == RoleProxy }

func parseRole(s string) (Role, bool) {
	switch r := Role(s); r {
	case RoleSpoke, RoleInspection, RoleNAT, RoleProxy, RoleTransit:
		return r, true
	}
	return "", false
}

// DefaultPrivate are the ranges that are not public when the topology
// file does not say otherwise.
var DefaultPrivate = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
}

// DefaultSessionGap splits a reused 5-tuple into connections.
const DefaultSessionGap = 15 * time.Minute

// Entry is one observer entry of the topology file.
type Entry struct {
	Name      string
	Role      Role
	Approved  bool
	Cloud     string
	EgressIPs []netip.Addr
	Line      int

	interfaces, instances, subnets, networks []*regexp.Regexp
	natGateways, resources                   []*regexp.Regexp
	cidrs                                    []netip.Prefix
}

// Topology is a loaded, validated topology file.
type Topology struct {
	Private           []netip.Prefix
	SessionGap        time.Duration
	ApprovedEgressIPs []netip.Addr
	Entries           []*Entry
}

// Empty returns the topology of a run without --config: every observer is
// unknown and only one_way can be raised.
func Empty() *Topology {
	return &Topology{Private: DefaultPrivate, SessionGap: DefaultSessionGap}
}

// IsPublic reports whether a is outside the private ranges.
func (t *Topology) IsPublic(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range t.Private {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// Approved reports whether a is in approved_egress_ips.
func (t *Topology) Approved(a netip.Addr) bool {
	for _, b := range t.ApprovedEgressIPs {
		if a == b {
			return true
		}
	}
	return false
}

// The file's shape. Unknown keys are rejected by the decoder.
type fileConfig struct {
	PrivateCIDRs      []string    `yaml:"private_cidrs"`
	SessionGap        string      `yaml:"session_gap"`
	ApprovedEgressIPs []string    `yaml:"approved_egress_ips"`
	Observers         []fileEntry `yaml:"observers"`
}

type fileEntry struct {
	Name      string     `yaml:"name"`
	Role      string     `yaml:"role"`
	Approved  *bool      `yaml:"approved"`
	Cloud     string     `yaml:"cloud"`
	Match     *fileMatch `yaml:"match"`
	EgressIPs []string   `yaml:"egress_ips"`
}

type fileMatch struct {
	Interfaces  []string `yaml:"interfaces"`
	Attachments []string `yaml:"attachments"`
	NICs        []string `yaml:"nics"`
	Instances   []string `yaml:"instances"`
	Subnets     []string `yaml:"subnets"`
	Networks    []string `yaml:"networks"`
	NATGateways []string `yaml:"nat_gateways"`
	Resources   []string `yaml:"resources"`
	CIDRs       []string `yaml:"cidrs"`
}

// ConfigError is a problem in the topology file, with the line it is on.
type ConfigError struct {
	File string
	Line int
	Err  error
}

func (e *ConfigError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// LoadFile reads and validates a topology file.
func LoadFile(name string) (*Topology, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, &ConfigError{File: name, Err: err}
	}
	return Load(name, data)
}

// Load validates a topology file's contents; name is used in errors.
func Load(name string, data []byte) (*Topology, error) {
	cfgErr := func(line int, format string, args ...any) error {
		return &ConfigError{File: name, Line: line, Err: fmt.Errorf(format, args...)}
	}
	var fc fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return nil, &ConfigError{File: name, Err: yamlError(err)}
	}
	// A second pass over the node tree finds the line of each value, so
	// every semantic error names where it is.
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	lines := newLineIndex(&root)

	t := Empty()
	var err error
	if len(fc.PrivateCIDRs) > 0 {
		if t.Private, err = parsePrefixes(fc.PrivateCIDRs, lines.scalars("private_cidrs"), cfgErr); err != nil {
			return nil, err
		}
	}
	if fc.SessionGap != "" {
		d, perr := time.ParseDuration(fc.SessionGap)
		if perr != nil || d <= 0 {
			return nil, cfgErr(lines.key("session_gap"), "session_gap %q is not a positive duration (such as 15m)", fc.SessionGap)
		}
		t.SessionGap = d
	}
	if t.ApprovedEgressIPs, err = parseAddrs(fc.ApprovedEgressIPs, lines.scalars("approved_egress_ips"), cfgErr); err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for i, fe := range fc.Observers {
		line := lines.entry(i)
		e, err := buildEntry(fe, line, lines.entryScalars(i), cfgErr)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[e.Name]; dup {
			return nil, cfgErr(line, "observer name %q is already used on line %d", e.Name, prev)
		}
		seen[e.Name] = line
		t.Entries = append(t.Entries, e)
	}
	return t, nil
}

func buildEntry(fe fileEntry, line int, scalarLine func(string) int, cfgErr func(int, string, ...any) error) (*Entry, error) {
	if fe.Name == "" {
		return nil, cfgErr(line, "observer entry has no name")
	}
	role, ok := parseRole(fe.Role)
	if !ok {
		return nil, cfgErr(line, "observer %q: role %q is not one of spoke, inspection, nat, proxy, transit", fe.Name, fe.Role)
	}
	e := &Entry{Name: fe.Name, Role: role, Approved: fe.Approved == nil || *fe.Approved, Line: line}
	switch fe.Cloud {
	case "", "aws", "gcp", "azure":
		e.Cloud = fe.Cloud
	default:
		return nil, cfgErr(line, "observer %q: cloud %q is not aws, gcp or azure", fe.Name, fe.Cloud)
	}
	if fe.Match == nil {
		return nil, cfgErr(line, "observer %q has no match", fe.Name)
	}
	m := fe.Match
	var err error
	for _, f := range []struct {
		dst  *[]*regexp.Regexp
		vals []string
	}{
		{&e.interfaces, concat(m.Interfaces, m.Attachments, m.NICs)},
		{&e.instances, m.Instances}, {&e.subnets, m.Subnets}, {&e.networks, m.Networks},
		{&e.natGateways, m.NATGateways}, {&e.resources, m.Resources},
	} {
		for _, g := range f.vals {
			if g == "" {
				return nil, cfgErr(line, "observer %q: empty match value", fe.Name)
			}
			re, gerr := compileGlob(g)
			if gerr != nil {
				return nil, cfgErr(scalarLine(g), "observer %q: bad glob %q", fe.Name, g)
			}
			*f.dst = append(*f.dst, re)
		}
	}
	globs := len(e.interfaces) + len(e.instances) + len(e.subnets) + len(e.networks) + len(e.natGateways) + len(e.resources)
	if e.cidrs, err = parsePrefixes(m.CIDRs, scalarLine, cfgErr); err != nil {
		return nil, err
	}
	if globs == 0 && len(e.cidrs) == 0 {
		return nil, cfgErr(line, "observer %q: match names nothing (give interfaces, subnets, networks, nat_gateways, resources, cidrs, ...)", fe.Name)
	}
	if e.EgressIPs, err = parseAddrs(fe.EgressIPs, scalarLine, cfgErr); err != nil {
		return nil, err
	}
	return e, nil
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func parsePrefixes(ss []string, lineOf func(string) int, cfgErr func(int, string, ...any) error) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			// A bare address is a /32 or /128.
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, cfgErr(lineOf(s), "bad CIDR %q", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func parseAddrs(ss []string, lineOf func(string) int, cfgErr func(int, string, ...any) error) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, s := range ss {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, cfgErr(lineOf(s), "bad IP address %q", s)
		}
		out = append(out, a.Unmap())
	}
	return out, nil
}

// yamlError keeps the decoder's message, which names the line, and drops
// its Go type names, which mean nothing to a user.
func yamlError(err error) error {
	msg := err.Error()
	msg = strings.ReplaceAll(msg, " in type correlate.fileConfig", "")
	msg = strings.ReplaceAll(msg, " in type correlate.fileEntry", "")
	msg = strings.ReplaceAll(msg, " in type correlate.fileMatch", "")
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  ")
	return errors.New(msg)
}

// lineIndex finds the lines of values in the parsed node tree.
type lineIndex struct{ doc *yaml.Node }

func newLineIndex(root *yaml.Node) lineIndex {
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		return lineIndex{doc: root.Content[0]}
	}
	return lineIndex{}
}

func mapValue(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

func (li lineIndex) key(k string) int {
	if kn, _ := mapValue(li.doc, k); kn != nil {
		return kn.Line
	}
	return 0
}

// scalars returns a function giving the line of a scalar under key k.
func (li lineIndex) scalars(k string) func(string) int {
	_, v := mapValue(li.doc, k)
	return scalarLines(v)
}

func scalarLines(n *yaml.Node) func(string) int {
	return func(s string) int {
		var find func(*yaml.Node) int
		find = func(n *yaml.Node) int {
			if n == nil {
				return 0
			}
			if n.Kind == yaml.ScalarNode && n.Value == s {
				return n.Line
			}
			for _, c := range n.Content {
				if l := find(c); l > 0 {
					return l
				}
			}
			return 0
		}
		return find(n)
	}
}

func (li lineIndex) entryNode(i int) *yaml.Node {
	_, obs := mapValue(li.doc, "observers")
	if obs == nil || obs.Kind != yaml.SequenceNode || i >= len(obs.Content) {
		return nil
	}
	return obs.Content[i]
}

func (li lineIndex) entry(i int) int {
	if n := li.entryNode(i); n != nil {
		return n.Line
	}
	return 0
}

func (li lineIndex) entryScalars(i int) func(string) int { return scalarLines(li.entryNode(i)) }
