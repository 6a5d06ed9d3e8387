// Package loadgen writes a deterministic estate of AWS VPC flow logs in the
// default (version 2) format, gzipped in the S3 key layout, for the
// end-to-end benchmark (bench/e2e), together with its truth: how many TCP
// connections are one-way.
//
// The estate is a hub-and-spoke AWS VPC estate simulated one 1-minute
// aggregation window at a time:
//
//   - spoke clients (10.1.0.0/16, 10.2.0.0/16, some dual-stack with IPv6)
//     open connections to public servers picked with Zipf popularity (a few
//     destinations get most connections), most of them through one of the
//     hub's firewall interfaces, which log them too; to internal servers
//     (10.3.0.0/16), logged at both ends; and public clients connect to a few
//     internal web servers;
//   - most connections last one window, some a few, a few are long-lived
//     (up to two hours) with idle stretches of up to 11 windows, so their
//     records spread over many windows and objects; some windows of a
//     healthy connection carry only one direction;
//   - healthy TCP connections' 5-tuples are reused later (port reuse);
//   - UDP (DNS, NTP) and ICMP traffic, and NODATA records of idle interfaces;
//   - one-way connections: about 1.2% of connections are outbound TCP with
//     forward records only (SYN retries over one to three windows), and
//     about 0.4% are inbound scans the security group rejects (a REJECT
//     record and no reply).
//
// # Why flowsym and the SQL count agree
//
// flowsym raises one_way for a TCP connection (a 5-tuple's records no more
// than 15 minutes apart) when a packet observer saw the forward direction,
// no observer saw the reverse, and an observer that saw the forward
// direction logged every minute of the span. The SQL baseline groups all TCP
// records (log-status OK) by the unordered 5-tuple and counts the groups that
// have records in only one orientation. The generator makes the two the
// same thing:
//
//   - every connection's client endpoint (address, port) is fresh: ports are
//     handed out per client address without wrapping, so no two connections
//     share a 5-tuple unless the generator reuses one on purpose, and only
//     healthy TCP connections' 5-tuples are ever reused;
//   - a healthy TCP connection's first window has both directions and its
//     later windows follow with gaps under 12 minutes, so each of its
//     sessions — and each of its reuses — has both directions: neither
//     definition counts it;
//   - a one-way connection has client-to-server records only, in one to
//     three consecutive windows (so the interface that logged them covers
//     the span), its server port is below 1024 and its client port in the
//     ephemeral range (so flowsym's client/server rule reads the recorded
//     direction as the forward one), and its 5-tuple is never seen again:
//     both definitions count it once;
//   - UDP and ICMP are left out of both (flowsym judges one_way for TCP only
//     without --udp; the SQL filters protocol 6), and NODATA rows carry no
//     5-tuple (the SQL filters log_status OK).
package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Version names the generator's output: data cached by another version is
// generated again.
const Version = "flowgen-1"

// Header is the default-format header line every object starts with.
const Header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

const (
	account  = "111122223333"
	region   = "us-east-1"
	flowLog  = "fl-0e1f2a3b4c5d6e7f8"
	window   = 60  // seconds: the aggregation interval
	slotSecs = 300 // seconds: one delivered object per 5-minute slot
	// Start is the first window: 2025-11-20T10:00:00Z.
	Start = 1763632800
	// perObject is the records per object the many-object layout aims for.
	perObject = 200_000
	// minObjects is the fewest objects of the many-object layout.
	minObjects = 12
)

// Config says what to generate.
type Config struct {
	Records   int64  // exact number of records (lines after the header)
	OneObject bool   // one big object instead of one object per 5-minute slot
	Seed      uint64 // same seed and records, same bytes
	Dir       string // the logs go under Dir/AWSLogs/...
}

// Truth is what the generator knows about the estate it wrote.
type Truth struct {
	Generator string `json:"generator"`
	Seed      uint64 `json:"seed"`
	Layout    string `json:"layout"` // many or one
	Records   int64  `json:"records"`
	Objects   int    `json:"objects"`
	Bytes     int64  `json:"bytes"` // gzip bytes written
	RawBytes  int64  `json:"raw_bytes"`
	Windows   int    `json:"windows"`
	First     string `json:"first"` // first window start, RFC 3339
	// OneWay is the number of TCP connections with forward records only:
	// NoReply + Rejected. flowsym's one_way count and the SQL count equal it.
	OneWay   int64 `json:"one_way"`
	NoReply  int64 `json:"one_way_no_reply"`
	Rejected int64 `json:"one_way_rejected"`
	// Connections started, by kind.
	Connections int64 `json:"connections"`
	TCP         int64 `json:"tcp_connections"`
	Reused      int64 `json:"reused_tuples"`
	IPv6        int64 `json:"ipv6_connections"`
	LongLived   int64 `json:"long_lived"`
	NoData      int64 `json:"nodata_records"`
	// For a topology file: the spokes' address ranges and the hub
	// firewall's interface ids.
	SpokeCIDRs []string `json:"spoke_cidrs"`
	Firewalls  []string `json:"firewall_interfaces"`
}

// Layout names the layout of a config.
func (c Config) Layout() string {
	if c.OneObject {
		return "one"
	}
	return "many"
}

// host is an address with its interface.
type host struct {
	eni  string
	v4   string
	v6   string // empty: IPv4 only
	port uint16 // the service port of a server
	// client port allocation: next port and ports handed out; a host hands
	// out at most portSpan ports so none repeats.
	next  uint16
	given int32
	idle  bool // an idle interface: NODATA only
}

const (
	portLow  = 32768
	portSpan = 61000 - portLow
)

// tuple is one connection's 5-tuple with the interfaces that log it.
type tuple struct {
	proto  uint8
	v6     bool
	client *host
	cport  uint16
	server *host
	sport  uint16
	obs    [3]*host // interfaces that log the connection (nil: none)
}

type kind uint8

const (
	healthy kind = iota
	noReply
	rejected
	udp
	icmp
)

// conn is a connection in progress.
type conn struct {
	tuple
	kind  kind
	first bool  // no window emitted yet
	left  int32 // windows still to come, idle ones included
	idle  int32 // windows to skip before the next record
	long  bool
}

type gen struct {
	cfg   Config
	rng   *rand.Rand
	truth *Truth

	clients   []*host // spoke workloads
	servers   []*host // internal servers (10.3.0.0/16)
	firewalls []*host
	public    []*host // public servers, by popularity rank
	zipfCDF   []float64
	outside   []*host // public clients and scanners
	resolvers []*host

	active []*conn
	reuse  []tuple // healthy TCP 5-tuples free for reuse (FIFO)

	// output
	buf     []byte
	object  int
	written int64
	out     chan chunk
	free    chan []byte
	done    chan error
}

type chunk struct {
	object int
	data   []byte
}

const chunkSize = 1 << 20

// Generate writes the estate and returns its truth.
func Generate(ctx context.Context, cfg Config) (*Truth, error) {
	if cfg.Records <= 0 {
		return nil, errors.New("loadgen: Records must be positive")
	}
	g := &gen{
		cfg: cfg,
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x666c6f7773796d)),
		truth: &Truth{Generator: Version, Seed: cfg.Seed, Layout: cfg.Layout(), Records: cfg.Records,
			First: time.Unix(Start, 0).UTC().Format(time.RFC3339)},
	}
	g.estate()
	slots := max(minObjects, int((cfg.Records+perObject-1)/perObject))
	windows := slots * slotSecs / window

	g.out = make(chan chunk, 4)
	g.free = make(chan []byte, 6)
	g.done = make(chan error, 1)
	go g.writer()
	g.buf = make([]byte, 0, chunkSize+4096)

	err := g.safeRun(ctx, int64(windows))
	g.flush()
	close(g.out)
	if werr := <-g.done; err == nil {
		err = werr
	}
	if err != nil {
		return nil, err
	}
	return g.truth, nil
}

// errOutOfPorts cannot happen with the estate's sizing (clients grow with
// the records); clientPort panics with it, and safeRun turns that into an
// error rather than crash the CLI.
var errOutOfPorts = errors.New("loadgen: every client ran out of ports; the estate is too small for the records")

func (g *gen) safeRun(ctx context.Context, windows int64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && errors.Is(e, errOutOfPorts) {
				err = e
				return
			}
			panic(r)
		}
	}()
	return g.run(ctx, windows)
}

// run simulates windows until the record budget is spent: each of the
// planned windows gets its share of the records.
func (g *gen) run(ctx context.Context, windows int64) error {
	for w := 0; ; w++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		target := g.cfg.Records * min(int64(w+1), windows) / windows
		g.truth.Windows = w + 1
		if !g.cfg.OneObject && w*window/slotSecs != g.object {
			g.flush()
			g.object = w * window / slotSecs
		}
		// NODATA of idle interfaces first, as AWS writes them too.
		for _, h := range g.clients {
			if h.idle {
				if !g.nodata(h, w) {
					return nil
				}
			}
		}
		// Connections in progress.
		kept := g.active[:0]
		for _, c := range g.active {
			if c.idle > 0 {
				c.idle--
				c.left--
			} else {
				if !g.emit(c, w) {
					return nil
				}
				c.left--
				if c.long && c.left > 0 && g.rng.Float64() < 0.15 {
					c.idle = 1 + g.rng.Int32N(11) // gap under 12 minutes
				}
			}
			if c.left > 0 {
				kept = append(kept, c)
			} else {
				g.ended(c)
			}
		}
		clear(g.active[len(kept):])
		g.active = kept
		// New connections fill the window up to its share of records.
		for g.written < target {
			c := g.newConn()
			if !g.emit(c, w) {
				return nil
			}
			c.left--
			if c.left > 0 {
				g.active = append(g.active, c)
			} else {
				g.ended(c)
			}
		}
	}
}

// ended offers a finished healthy TCP connection's 5-tuple for reuse.
func (g *gen) ended(c *conn) {
	if c.kind == healthy && c.proto == 6 && len(g.reuse) < 20000 && g.rng.Float64() < 0.04 {
		g.reuse = append(g.reuse, c.tuple)
	}
}

// estate builds the hosts. Its size follows the number of records so that
// no client hands out more ports than it has.
func (g *gen) estate() {
	r := g.rng
	conns := g.cfg.Records / 8
	// Client addresses are distinct: a client endpoint (address, port) is
	// then never handed out twice.
	seen := map[string]bool{}
	nClients := int(max(400, conns/800))
	eni := func() string { return fmt.Sprintf("eni-0%016x", r.Uint64()) }
	v6 := func(prefix string) string {
		return fmt.Sprintf("%s:%x:%x:%x:%x", prefix, 0x1000+r.IntN(0xf000), 0x1000+r.IntN(0xf000), 0x1000+r.IntN(0xf000), 0x1000+r.IntN(0xf000))
	}
	newPorts := func(h *host) *host {
		h.next = uint16(portLow + r.IntN(portSpan))
		return h
	}
	for i := range nClients {
		spoke, idx := i%2, i/2
		h := newPorts(&host{eni: eni(), v4: fmt.Sprintf("10.%d.%d.%d", 1+spoke, idx/250, 4+idx%250)})
		if r.Float64() < 0.2 {
			for h.v6 == "" || seen[h.v6] {
				h.v6 = v6(fmt.Sprintf("2600:1f18:4a3:6b0%d", spoke+1))
			}
			seen[h.v6] = true
		}
		h.idle = r.Float64() < 0.01
		g.clients = append(g.clients, h)
	}
	ports := []uint16{443, 443, 5432, 6379, 8080, 9092, 3306, 443}
	for i := range 64 {
		h := &host{eni: eni(), v4: fmt.Sprintf("10.3.%d.%d", i/250, 10+i%250), port: ports[i%len(ports)]}
		if i < 8 {
			h.port = 443 // web servers, reached from the internet too
		}
		if r.Float64() < 0.25 {
			h.v6 = v6("2600:1f18:4a3:6b03")
		}
		g.servers = append(g.servers, h)
	}
	for i := range 4 {
		g.firewalls = append(g.firewalls, &host{eni: fmt.Sprintf("eni-0f1a%013x", r.Uint64()>>12), v4: fmt.Sprintf("10.0.1.%d", 4+i)})
		g.truth.Firewalls = append(g.truth.Firewalls, g.firewalls[i].eni)
	}
	g.truth.SpokeCIDRs = []string{"10.1.0.0/16", "10.2.0.0/16", "2600:1f18:4a3:6b01::/64", "2600:1f18:4a3:6b02::/64"}
	// Public servers: all serve a port below 1024.
	pubPorts := []uint16{443, 443, 443, 443, 443, 443, 443, 443, 443, 443, 443, 443, 443, 443, 443, 443, 80, 80, 22, 25, 993, 587, 853}
	const nPublic = 50_000
	g.public = make([]*host, nPublic)
	g.zipfCDF = make([]float64, nPublic)
	sum := 0.0
	for i := range nPublic {
		h := &host{v4: publicV4(r), port: pubPorts[r.IntN(len(pubPorts))]}
		if r.Float64() < 0.2 {
			h.v6 = v6(fmt.Sprintf("2606:%x:%x:%x", 0x4700+r.IntN(0x100), 0x1000+r.IntN(0xf000), r.IntN(0x10000)))
		}
		g.public[i] = h
		sum += 1 / math.Pow(float64(i+1), 1.1)
		g.zipfCDF[i] = sum
	}
	for i := range g.zipfCDF {
		g.zipfCDF[i] /= sum
	}
	for len(g.outside) < 20_000 {
		if a := publicV4(r); !seen[a] {
			seen[a] = true
			g.outside = append(g.outside, newPorts(&host{v4: a}))
		}
	}
	g.resolvers = []*host{{v4: "8.8.8.8", port: 53}, {v4: "1.1.1.1", port: 53}, {v4: "169.254.169.123", port: 123}}
}

// publicV4 draws an address outside private, shared, loopback, link-local
// and multicast space.
func publicV4(r *rand.Rand) string {
	for {
		a := 1 + r.IntN(223)
		switch a {
		case 10, 100, 127, 169, 172, 192, 198:
			continue
		}
		return fmt.Sprintf("%d.%d.%d.%d", a, r.IntN(256), r.IntN(256), 1+r.IntN(254))
	}
}

func (g *gen) zipf() *host {
	i, _ := slices.BinarySearch(g.zipfCDF, g.rng.Float64())
	return g.public[min(i, len(g.public)-1)]
}

// port hands out a fresh ephemeral port of h, or false when h has none left.
func (g *gen) port(h *host) (uint16, bool) {
	step := int32(1 + g.rng.IntN(3))
	if h.given+step >= portSpan {
		return 0, false
	}
	h.given += step
	p := int(h.next) + int(step)
	if p >= portLow+portSpan {
		p -= portSpan
	}
	h.next = uint16(p)
	return h.next, true
}

// clientPort picks a host of pool at random and a fresh port of it.
func (g *gen) clientPort(pool []*host, ok func(*host) bool) (*host, uint16) {
	i := g.rng.IntN(len(pool))
	for n := 0; n < len(pool); n++ {
		h := pool[(i+n)%len(pool)]
		if ok != nil && !ok(h) {
			continue
		}
		if p, fresh := g.port(h); fresh {
			return h, p
		}
	}
	panic(errOutOfPorts)
}

func active(h *host) bool { return !h.idle }

// newConn starts a connection of a kind drawn from the mix.
func (g *gen) newConn() *conn {
	r := g.rng
	t := g.truth
	t.Connections++
	c := &conn{first: true, left: 1}
	x := r.Float64()
	switch {
	case x < 0.012: // outbound, never answered
		c.kind, c.proto = noReply, 6
		g.outbound(c)
		c.left = 1 + int32(r.IntN(3))
		t.NoReply++
	case x < 0.016: // inbound scan, rejected
		c.kind, c.proto = rejected, 6
		c.client, c.cport = g.clientPort(g.outside, nil)
		scanPorts := []uint16{22, 23, 445, 135, 139, 21, 25}
		c.sport = scanPorts[r.IntN(len(scanPorts))]
		if r.IntN(4) == 0 {
			c.server = g.servers[r.IntN(len(g.servers))]
		} else {
			for c.server == nil || c.server.idle {
				c.server = g.clients[r.IntN(len(g.clients))]
			}
		}
		c.obs[0] = c.server
		c.left = 1 + int32(r.IntN(2))
		t.Rejected++
	case x < 0.086: // UDP: DNS and NTP
		c.kind, c.proto = udp, 17
		c.client, c.cport = g.clientPort(g.clients, active)
		c.server = g.resolvers[r.IntN(len(g.resolvers))]
		c.sport = c.server.port
		c.obs[0] = c.client
	case x < 0.096: // ICMP
		c.kind, c.proto = icmp, 1
		c.client, _ = g.clientPort(g.clients, active)
		c.server = g.zipf()
		c.obs[0] = c.client
		c.left = 1 + int32(r.IntN(3))
	default: // healthy TCP
		c.kind, c.proto = healthy, 6
		if len(g.reuse) > 0 && r.Float64() < 0.02 {
			c.tuple = g.reuse[0]
			g.reuse = g.reuse[1:]
			t.Reused++
		} else {
			switch y := r.Float64(); {
			case y < 0.65:
				g.outbound(c)
			case y < 0.87: // east-west, logged at both ends
				c.client, c.cport = g.clientPort(g.clients, active)
				c.server = g.servers[r.IntN(len(g.servers))]
				c.sport = c.server.port
				c.v6 = c.client.v6 != "" && c.server.v6 != "" && r.Float64() < 0.5
				c.obs[0], c.obs[1] = c.client, c.server
			default: // inbound from the internet to a web server
				c.client, c.cport = g.clientPort(g.outside, nil)
				c.server = g.servers[r.IntN(8)]
				c.sport = c.server.port
				c.obs[0] = c.server
			}
		}
		switch y := r.Float64(); {
		case y < 0.75:
		case y < 0.95:
			c.left = 2 + int32(r.IntN(9))
		default:
			c.left = 10 + int32(r.IntN(111))
			c.long = true
			t.LongLived++
		}
	}
	if c.proto == 6 {
		t.TCP++
	}
	if c.v6 {
		t.IPv6++
	}
	return c
}

// outbound fills in a spoke client's connection to a public server,
// logged at a hub firewall interface too unless it bypasses the hub.
func (g *gen) outbound(c *conn) {
	r := g.rng
	c.client, c.cport = g.clientPort(g.clients, active)
	c.server = g.zipf()
	c.sport = c.server.port
	c.v6 = c.client.v6 != "" && c.server.v6 != "" && r.Float64() < 0.6
	c.obs[0] = c.client
	if r.Float64() < 0.97 {
		c.obs[1] = g.firewalls[r.IntN(len(g.firewalls))]
	}
}

// emit writes c's records of window w, all or none; false when they would
// pass the record budget (the budget is then filled with NODATA records).
func (g *gen) emit(c *conn, w int) bool {
	r := g.rng
	fwd, rev := true, true
	switch c.kind {
	case noReply, rejected:
		rev = false
	case udp:
		rev = r.Float64() < 0.85
	case healthy:
		if !c.first {
			switch x := r.Float64(); {
			case x < 0.05:
				rev = false
			case x < 0.10:
				fwd = false
			}
		}
	}
	n := 0
	for _, o := range c.obs {
		if o != nil {
			n += b2i(fwd) + b2i(rev)
		}
	}
	if g.written+int64(n) > g.cfg.Records {
		g.pad(w)
		return false
	}
	if c.first {
		c.first = false
		if c.kind == noReply || c.kind == rejected {
			g.truth.OneWay++
		}
	}
	start := int64(Start + w*window)
	// Each direction's counters, the same at every interface.
	var fp, fb, rp, rb int64
	switch c.kind {
	case noReply:
		fp = 1 + int64(r.IntN(3))
		fb = fp * 60
	case rejected:
		fp = 1 + int64(r.IntN(2))
		fb = fp * 40
	default:
		fp = 1 + int64(r.ExpFloat64()*20)
		fb = fp * (60 + int64(r.IntN(1400)))
		rp = 1 + int64(r.ExpFloat64()*30)
		rb = rp * (60 + int64(r.IntN(1400)))
	}
	s := start + int64(r.IntN(10))
	e := start + window + int64(r.IntN(5))
	action := "ACCEPT"
	if c.kind == rejected {
		action = "REJECT"
	}
	ca, sa := c.client.v4, c.server.v4
	if c.v6 {
		ca, sa = c.client.v6, c.server.v6
	}
	for _, o := range c.obs {
		if o == nil {
			continue
		}
		if fwd {
			g.line(o.eni, ca, sa, c.cport, c.sport, c.proto, fp, fb, s, e, action)
		}
		if rev {
			g.line(o.eni, sa, ca, c.sport, c.cport, c.proto, rp, rb, s, e, action)
		}
	}
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (g *gen) line(eni, src, dst string, sport, dport uint16, proto uint8, pkts, bytes, start, end int64, action string) {
	b := g.buf
	b = append(b, "2 "+account+" "...)
	b = append(b, eni...)
	b = append(b, ' ')
	b = append(b, src...)
	b = append(b, ' ')
	b = append(b, dst...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(sport), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(dport), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(proto), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, pkts, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, bytes, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, start, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, end, 10)
	b = append(b, ' ')
	b = append(b, action...)
	b = append(b, " OK\n"...)
	g.buf = b
	g.record()
}

// nodata writes one NODATA record of h for window w; false when the budget
// is spent.
func (g *gen) nodata(h *host, w int) bool {
	if g.written >= g.cfg.Records {
		return false
	}
	start := int64(Start + w*window)
	b := append(g.buf, "2 "+account+" "...)
	b = append(b, h.eni...)
	b = append(b, " - - - - - - - "...)
	b = strconv.AppendInt(b, start, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, start+window, 10)
	b = append(b, " - NODATA\n"...)
	g.buf = b
	g.truth.NoData++
	g.record()
	return true
}

// pad fills what is left of the budget with NODATA records of window w.
func (g *gen) pad(w int) {
	for i := 0; g.written < g.cfg.Records; i++ {
		g.nodata(g.clients[i%len(g.clients)], w)
	}
}

func (g *gen) record() {
	g.written++
	if len(g.buf) >= chunkSize {
		g.flush()
	}
}

func (g *gen) flush() {
	if len(g.buf) == 0 {
		return
	}
	g.out <- chunk{object: g.object, data: g.buf}
	select {
	case b := <-g.free:
		g.buf = b[:0]
	default:
		g.buf = make([]byte, 0, chunkSize+4096)
	}
}

// writer gzips the chunks into their objects, one open object at a time.
func (g *gen) writer() {
	var (
		f    *os.File
		bw   *bufio.Writer
		zw   *gzip.Writer
		cur  = -1
		err  error
		cnt  countWriter
		keep = func(e error) {
			if err == nil {
				err = e
			}
		}
	)
	closeObj := func() {
		if f == nil {
			return
		}
		keep(zw.Close())
		keep(bw.Flush())
		keep(f.Close())
		f = nil
	}
	for c := range g.out {
		if err == nil && c.object != cur {
			closeObj()
			cur = c.object
			name := filepath.Join(g.cfg.Dir, objectKey(g.cfg.Seed, cur))
			if e := os.MkdirAll(filepath.Dir(name), 0o755); e != nil {
				keep(e)
			} else if f, e = os.Create(name); e != nil {
				keep(e)
				f = nil
			} else {
				cnt.w = f
				bw = bufio.NewWriterSize(&cnt, 1<<20)
				zw, _ = gzip.NewWriterLevel(bw, gzip.BestSpeed)
				_, e = zw.Write([]byte(Header + "\n"))
				keep(e)
				g.truth.Objects++
			}
		}
		if err == nil && f != nil {
			_, e := zw.Write(c.data)
			keep(e)
			g.truth.RawBytes += int64(len(c.data))
		}
		select {
		case g.free <- c.data:
		default:
		}
	}
	closeObj()
	g.truth.Bytes = cnt.n
	g.done <- err
}

type countWriter struct {
	w *os.File
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// objectKey is the S3 key of object i: one object per 5-minute slot, named
// after the slot's end like AWS's deliveries.
func objectKey(seed uint64, i int) string {
	t := time.Unix(Start+int64(i+1)*slotSecs, 0).UTC()
	h := fnv.New32a()
	fmt.Fprintf(h, "%d/%d", seed, i)
	return fmt.Sprintf("AWSLogs/%s/vpcflowlogs/%s/%s/%s_vpcflowlogs_%s_%s_%s_%08x.log.gz",
		account, region, t.Format("2006/01/02"), account, region, flowLog, t.Format("20060102T1504Z"), h.Sum32())
}

// WriteTruth stores t as JSON in path.
func WriteTruth(path string, t *Truth) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadTruth loads a truth file.
func ReadTruth(path string) (*Truth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t Truth
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Topology returns a flowsym topology file for the estate: the spokes'
// address ranges as a spoke entry, the hub firewall interfaces as an
// inspection entry.
func (t *Truth) Topology() string {
	s := "# Written by flowsym generate --records (internal/loadgen) for the end-to-end benchmark.\nobservers:\n"
	s += "  - name: hub-firewall\n    role: inspection\n    match:\n      interfaces:\n"
	for _, f := range t.Firewalls {
		s += "        - " + f + "\n"
	}
	s += "  - name: spokes\n    role: spoke\n    match:\n      cidrs:\n"
	for _, c := range t.SpokeCIDRs {
		s += "        - " + c + "\n"
	}
	return s
}
