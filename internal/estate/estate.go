// Package estate generates a simulated multi-cloud private-egress estate:
// the flow-log objects its observers would deliver, in each cloud's own
// key layout and format, the topology file that describes it, and the
// ground truth of the findings its logs contain.
//
// The estate is an AWS hub-and-spoke (Transit Gateway, two inspection
// firewalls, a NAT gateway), a GCP Shared VPC whose GKE nodes leave through
// Cloud NAT, and an Azure hub VNet with two NVA instances in front of a
// spoke. Healthy background traffic goes to a Zipf-popular set of public
// servers through the approved hub of its cloud; scripted faults of every
// kind ANALYSIS.md defines, and the exceptions that must not raise one, are
// placed at fixed minutes of the first hour. docs/demo-estate.md lists
// them.
//
// Generation is deterministic (the same Config gives byte-identical
// files), streams records straight to their objects, and keeps in memory
// only the connections open at the current minute, so it scales to
// millions of records in time proportional to their number.
package estate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Config sets the size and shape of the estate. The zero value gives the
// demo estate.
type Config struct {
	// Seed makes a different but equally valid estate.
	Seed uint64
	// Start is the first minute of traffic, UTC; it is truncated to the
	// minute. Default 2026-11-20T10:00:00Z.
	Start time.Time
	// Duration of traffic, rounded up to whole minutes. Default 1h; at
	// least 1h unless NoScripted is set, since the scripted faults are
	// spread over the first hour.
	Duration time.Duration
	// Scale is the number of background connections each spoke opens per
	// minute (four spokes: AWS k8s-prod and apps, GCP GKE, Azure). Default
	// 20, about 90k records an hour.
	Scale int
	// Workloads is the number of workload interfaces in each spoke.
	// Default 6, at least 5.
	Workloads int
	// Servers is the number of public destinations; connections pick them
	// with a Zipf distribution of exponent ZipfS. Defaults 400 and 1.1.
	Servers int
	ZipfS   float64

	// Shares of background connections, from 0 to 1. Zero means the
	// default; a negative value means none.
	//
	// LongLivedShare lasts 10 to 45 windows (default 0.05). IPv6Share is
	// east-west IPv6 between the AWS spokes through the hub firewall
	// (default 0.05). OneWayShare gets no reply (default none) and
	// RejectShare is replaced by an inbound scan rejected at a spoke
	// (default none): both are faults, listed in the truth, for
	// production-size runs.
	LongLivedShare float64
	IPv6Share      float64
	OneWayShare    float64
	RejectShare    float64

	// ObjectRecords caps the records of one AWS object or GCS shard; a
	// busy slot spills into more objects, as AWS does past 75 MB.
	// Default 1,000,000.
	ObjectRecords int
	// NoScripted leaves out the scripted faults and exceptions (and the
	// SKIPDATA hole and the Cloud NAT quiet period they need): only
	// background traffic and the random faults of OneWayShare and
	// RejectShare.
	NoScripted bool
	// Overwrite replaces an estate already in the directory; without it
	// Generate refuses to write into a directory that has logs.
	Overwrite bool
}

// DefaultStart is the first minute of the demo estate.
var DefaultStart = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func (c Config) withDefaults() (Config, error) {
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	c.Start = c.Start.UTC().Truncate(time.Minute)
	if c.Duration == 0 {
		c.Duration = time.Hour
	}
	share := func(p *float64, def float64) {
		switch {
		case *p == 0:
			*p = def
		case *p < 0:
			*p = 0
		}
	}
	share(&c.LongLivedShare, 0.05)
	share(&c.IPv6Share, 0.05)
	share(&c.OneWayShare, 0)
	share(&c.RejectShare, 0)
	if c.Scale == 0 {
		c.Scale = 20
	}
	if c.Workloads == 0 {
		c.Workloads = 6
	}
	if c.Servers == 0 {
		c.Servers = 400
	}
	if c.ZipfS == 0 {
		c.ZipfS = 1.1
	}
	if c.ObjectRecords == 0 {
		c.ObjectRecords = 1_000_000
	}
	switch {
	case c.Duration < time.Minute:
		return c, fmt.Errorf("duration %v: want at least a minute", c.Duration)
	case !c.NoScripted && c.Duration < time.Hour:
		return c, fmt.Errorf("duration %v: the scripted faults need at least 1h (or set NoScripted)", c.Duration)
	case c.Scale < 1:
		return c, fmt.Errorf("scale %d: want at least 1", c.Scale)
	case c.Workloads < 5 || c.Workloads > 200:
		return c, fmt.Errorf("workloads %d: want 5 to 200", c.Workloads)
	case c.Servers < 8:
		return c, fmt.Errorf("servers %d: want at least 8", c.Servers)
	case c.ObjectRecords < 1:
		return c, fmt.Errorf("object records %d: want at least 1", c.ObjectRecords)
	}
	for _, p := range []float64{c.LongLivedShare, c.IPv6Share, c.OneWayShare, c.RejectShare} {
		if p > 1 {
			return c, fmt.Errorf("share %v: want 0 to 1", p)
		}
	}
	return c, nil
}

// Finding is one finding the correlator must raise, as truth.jsonl holds
// it. Client and server are ip:port (IPv6 in brackets) in the sense of
// ANALYSIS.md: the side that opened the connection and the side that
// answered. The acceptance test compares (Kind, Protocol, Client, Server);
// the other fields help a person find the connection.
type Finding struct {
	Kind     string `json:"kind"`
	Reason   string `json:"reason"`
	Protocol int    `json:"protocol"`
	Client   string `json:"client"`
	Server   string `json:"server"`
	// FirstSeen and LastSeen are the earliest record start and latest
	// record end of the connection, over every observer (not its NAT
	// outside leg).
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// UDPOnly marks a finding raised only with --udp.
	UDPOnly    bool   `json:"udp_only"`
	Confidence string `json:"confidence"`
	Cloud      string `json:"cloud"`
	// Scenario names the fault that made it.
	Scenario string `json:"scenario"`
}

// Exception is a scripted connection that looks like a fault but must not
// raise a finding. Expect is "insufficient_coverage" when the correlator
// must count it under insufficient coverage, else "none".
type Exception struct {
	Scenario  string    `json:"scenario"`
	Cloud     string    `json:"cloud"`
	Protocol  int       `json:"protocol"`
	Client    string    `json:"client"`
	Server    string    `json:"server"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Expect    string    `json:"expect"`
}

// Truth is what the generated estate contains.
type Truth struct {
	// Findings are what truth.jsonl holds, sorted by first_seen.
	Findings   []Finding   `json:"-"`
	Exceptions []Exception `json:"exceptions"`
	// InsufficientCoverage is the number of connections the correlator
	// must count under "insufficient coverage".
	InsufficientCoverage int `json:"insufficient_coverage"`
	// Connections counts connections in the sense of ANALYSIS.md (5-tuple
	// and session gap, NAT outside legs included); OutsideLegs counts the
	// outside legs among them.
	Connections int64 `json:"connections"`
	OutsideLegs int64 `json:"outside_legs"`
	// Records is the number of rows the decoder reads from the objects
	// (AWS lines including NODATA and SKIPDATA, GCP entries, Azure
	// tuples); Objects and Bytes count the files under logs/.
	Records int64     `json:"records"`
	Objects int       `json:"objects"`
	Bytes   int64     `json:"bytes"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	// ByKind counts Findings per kind, UDP-only ones under "one_way/udp".
	ByKind map[string]int `json:"findings"`
}

// The files Generate writes in its directory.
const (
	TopologyFile = "flowsym.yaml"
	LogsDir      = "logs"
	TruthFile    = "truth.jsonl"
	SummaryFile  = "truth-summary.json"
)

// Generate writes the estate into dir: dir/flowsym.yaml, the objects under
// dir/logs, dir/truth.jsonl (one expected finding per line) and
// dir/truth-summary.json (the counts and exceptions of Truth).
func Generate(ctx context.Context, dir string, cfg Config) (*Truth, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := prepare(dir, cfg.Overwrite); err != nil {
		return nil, err
	}
	g := newGen(dir, cfg)
	if err := os.WriteFile(filepath.Join(dir, TopologyFile), []byte(g.topology()), 0o644); err != nil {
		return nil, fmt.Errorf("write topology: %w", err)
	}
	for m := range g.minutes {
		if err := ctx.Err(); err != nil {
			g.closeAll()
			return nil, err
		}
		g.minute(m)
		if g.err != nil {
			g.closeAll()
			return nil, g.err
		}
	}
	g.closeAll()
	if g.err != nil {
		return nil, g.err
	}
	t := &g.truth
	t.Records, t.Objects, t.Bytes = g.objs.records, g.objs.created, g.objs.bytes
	t.Start, t.End = cfg.Start, cfg.Start.Add(time.Duration(g.minutes)*time.Minute)
	if err := writeTruth(dir, t); err != nil {
		return nil, err
	}
	return t, nil
}

// prepare makes dir ready: it refuses to mix two estates, and with
// overwrite removes only what Generate itself writes.
func prepare(dir string, overwrite bool) error {
	logs := filepath.Join(dir, LogsDir)
	if _, err := os.Stat(logs); err == nil {
		if !overwrite {
			return fmt.Errorf("%s already holds logs: remove it or overwrite", dir)
		}
		for _, name := range []string{LogsDir, TopologyFile, TruthFile, SummaryFile} {
			if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
				return fmt.Errorf("remove old estate: %w", err)
			}
		}
	}
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return fmt.Errorf("create estate folder: %w", err)
	}
	return nil
}

func writeTruth(dir string, t *Truth) error {
	sort.SliceStable(t.Findings, func(i, j int) bool {
		a, b := t.Findings[i], t.Findings[j]
		if !a.FirstSeen.Equal(b.FirstSeen) {
			return a.FirstSeen.Before(b.FirstSeen)
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Client < b.Client
	})
	t.ByKind = map[string]int{}
	var out []byte
	for _, f := range t.Findings {
		k := f.Kind
		if f.UDPOnly {
			k += "/udp"
		}
		t.ByKind[k]++
		line, err := json.Marshal(f)
		if err != nil {
			return err
		}
		out = append(append(out, line...), '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, TruthFile), out, 0o644); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	sum, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), append(sum, '\n'), 0o644); err != nil {
		return fmt.Errorf("write truth summary: %w", err)
	}
	return nil
}

// gen is one generation run.
type gen struct {
	cfg     Config
	base    int64 // Unix second of the first minute
	minutes int
	objs    *objects
	err     error
	buf     []byte
	entries uint64 // GCP entries written, for insertId

	aws      *awsEstate
	gcp      *gcpEstate
	az       *azEstate
	gcpNodes map[*host]*gcpVM

	plan
	active []*conn
	truth  Truth
}

func newGen(dir string, cfg Config) *gen {
	r := newRNG(cfg.Seed, "layout")
	g := &gen{
		cfg:      cfg,
		base:     cfg.Start.Unix(),
		minutes:  int((cfg.Duration + time.Minute - 1) / time.Minute),
		objs:     newObjects(filepath.Join(dir, LogsDir)),
		aws:      newAWSEstate(cfg.Workloads, &r),
		gcp:      newGCPEstate(cfg.Workloads, &r),
		az:       newAzureEstate(cfg.Workloads, &r),
		gcpNodes: map[*host]*gcpVM{},
	}
	for _, n := range append([]*gcpVM{g.gcp.public}, g.gcp.nodes...) {
		g.gcpNodes[n.h] = n
	}
	g.plan = newPlan(cfg)
	if !cfg.NoScripted {
		g.aws.fwA.holeFrom, g.aws.fwA.holeTo = awsHoleFrom, awsHoleTo
	}
	return g
}

// minute runs minute m of the estate: connections that start in it, one
// window of every open connection, then what each log writes at the end
// of a minute.
func (g *gen) minute(m int) {
	if !g.cfg.NoScripted {
		g.scripted(m)
	}
	g.background(m)
	kept := g.active[:0]
	for _, c := range g.active {
		g.emit(c, m)
		if m == c.start+c.windows-1 {
			g.finish(c)
		} else {
			kept = append(kept, c)
		}
	}
	clear(g.active[len(kept):])
	g.active = kept
	g.awsEndMinute(m)
	g.azEndMinute(m)
}

// startConn opens a connection: it writes its first window this minute.
func (g *gen) startConn(c *conn) {
	g.truth.Connections++
	for _, h := range c.hops {
		if h.kind == hopAWSNAT && !h.reject {
			g.truth.OutsideLegs++
			g.truth.Connections++
		}
	}
	g.active = append(g.active, c)
}

// finish records a closed connection's ground truth.
func (g *gen) finish(c *conn) {
	if !c.tracked() {
		return
	}
	client := netip.AddrPortFrom(c.client.addr, c.cport).String()
	server := netip.AddrPortFrom(c.server.addr, c.sport).String()
	first, last := time.Unix(c.first, 0).UTC(), time.Unix(c.last, 0).UTC()
	for _, e := range c.expect {
		g.truth.Findings = append(g.truth.Findings, Finding{
			Kind: e.kind, Reason: e.reason, Protocol: int(c.proto), Client: client, Server: server,
			FirstSeen: first, LastSeen: last, UDPOnly: e.udpOnly, Confidence: e.confidence,
			Cloud: c.cloud.String(), Scenario: c.scenario,
		})
	}
	if c.exception != "" {
		expect := "none"
		if c.inadequate {
			expect = "insufficient_coverage"
			g.truth.InsufficientCoverage++
		}
		g.truth.Exceptions = append(g.truth.Exceptions, Exception{
			Scenario: c.exception, Cloud: c.cloud.String(), Protocol: int(c.proto), Client: client, Server: server,
			FirstSeen: first, LastSeen: last, Expect: expect,
		})
	}
}

func (g *gen) open(key string, compress bool) *object {
	if g.err != nil {
		return nil
	}
	ob, err := g.objs.create(key, compress)
	if err != nil {
		g.err = err
		return nil
	}
	return ob
}

func (g *gen) closeObject(ob *object) {
	if err := g.objs.close(ob); err != nil && g.err == nil {
		g.err = err
	}
}

// closeAll closes every open object.
func (g *gen) closeAll() {
	for _, fl := range []*awsFlowLog{g.aws.hubFL, g.aws.k8sFL, g.aws.appsFL} {
		if fl.cur != nil {
			g.closeObject(fl.cur)
			fl.cur = nil
		}
	}
	for _, l := range []*gcpLog{g.gcp.vpcLog, g.gcp.natLog} {
		if l.cur != nil {
			g.closeObject(l.cur)
			l.cur = nil
		}
	}
	for _, n := range g.az.all {
		if n.cur != nil {
			g.closeAzure(n)
		}
	}
}

var errPorts = errors.New("no free port: raise Workloads or lower Scale")
