package correlate

import (
	"fmt"
	"hash/fnv"
	"hash/maphash"
	"net/netip"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flowsym/flowsym/normalize/schema"
)

// Options configure a Correlator.
type Options struct {
	// Topology names the observers; nil means Empty().
	Topology *Topology
	// UDP lets UDP connections raise one_way (off by default: many UDP
	// protocols never answer).
	UDP bool
	// MemoryLimit, when above zero, bounds the connection state held in
	// memory (in bytes, estimated): past it the state is spilled to disk,
	// hash-partitioned, and judged partition by partition at the end, with
	// the same results as an in-memory run.
	MemoryLimit int64
	// SpillDir is where spill files go; empty means the system's temporary
	// folder.
	SpillDir string
	// Pressure, when set with a MemoryLimit, reports that the process is
	// short of memory whatever the estimate says: the correlator then
	// spills unless its state is small (it asks every few thousand
	// records). Estimates are measured on typical estates; this catches
	// the ones they miss.
	Pressure func() bool
	// Checks names the finding kinds to raise (see Kinds); empty means all.
	// A connection a skipped check would have flagged has no finding.
	Checks []string
}

// Stats count what the correlator was given.
type Stats struct {
	Records  int64 // records that belong to a connection
	Coverage int64 // NODATA and SKIPDATA records
	Skipped  int64 // records without the addresses or protocol of a connection
}

// Correlator accumulates connection summaries, observer state and port
// popularity from batches of normalized flows. It is not safe for
// concurrent use; run one per shard and Merge them.
type Correlator struct {
	opts      Options
	topo      *Topology
	gap       int64
	keys      map[Key]*keyState
	observers map[uint64]*Observer
	objects   map[string]string // object names, interned
	batch     batchCache
	seed      maphash.Seed // partitions keys when state spills
	spill     *spiller
	approx    int64 // estimated bytes of the connection state in memory
	scratch   []byte
	err       error // a spill failure; reported by Result
	Stats     Stats
}

// New returns an empty correlator.
func New(opts Options) *Correlator {
	if opts.Topology == nil {
		opts.Topology = Empty()
	}
	return &Correlator{
		opts:      opts,
		topo:      opts.Topology,
		gap:       opts.Topology.SessionGap.Microseconds(),
		keys:      map[Key]*keyState{},
		observers: map[uint64]*Observer{},
		objects:   map[string]string{},
		seed:      maphash.MakeSeed(),
	}
}

// Connections returns the number of keys held (a key holds one session per
// reuse of its 5-tuple); memory grows with it.
func (c *Correlator) Connections() int { return len(c.keys) }

// Add folds a batch of normalized flows into the correlator.
func (c *Correlator) Add(rec arrow.RecordBatch) error {
	v, err := schema.NewView(rec)
	if err != nil {
		return err
	}
	for i := range v.Rows() {
		c.addRow(v, i)
	}
	c.batch.reset(nil)
	return nil
}

func (c *Correlator) addRow(v *schema.View, i int) {
	k, ab, ok := rowKey(v, i)
	c.addKeyed(v, i, k, ab, ok)
}

// rowKey returns the connection key of row i and whether the record runs
// A to B; ok is false for a record that belongs to no connection: no
// addresses or protocol, a coverage-only row, or an endpoint talking to
// itself (no direction to judge).
func rowKey(v *schema.View, i int) (Key, bool, bool) {
	if v.IsNull(schema.Protocol, i) {
		return Key{}, false, false
	}
	src, dst, ok := rowEndpoints(v, i)
	if !ok || src == dst {
		return Key{}, false, false
	}
	k, ab := makeKey(uint8(v.Int(schema.Protocol, i)), src, dst)
	return k, ab, true
}

// addKeyed folds row i, whose key the caller computed, into the state.
func (c *Correlator) addKeyed(v *schema.View, i int, key Key, ab, keyed bool) {
	if c.batch.v != v {
		c.batch.reset(v)
	}
	o := c.observerOf(v, i)
	from, to := rowTimes(v, i)
	if !v.IsNull(schema.LogStatus, i) {
		switch v.Str(schema.LogStatus, i) {
		case "nodata":
			c.Stats.Coverage++
			o.mark(from, to, covered)
			return
		case "skipdata":
			c.Stats.Coverage++
			o.Skipped++
			o.mark(from, to, hole)
			return
		}
	}
	o.Records++
	o.mark(from, to, covered)
	c.learnOwn(o, v, i)
	if !keyed {
		c.Stats.Skipped++
		return
	}
	c.Stats.Records++
	ks := c.keys[key]
	if ks == nil {
		ks = &keyState{}
		c.keys[key] = ks
		c.approx += keyCost
	}
	s := c.sample(v, i, o, from, to, ab)
	before := ks.cost()
	ks.add(&s, c.gap)
	c.approx += ks.cost() - before
	if c.opts.MemoryLimit > 0 && c.overLimit() {
		c.spillAll()
	}
}

// overLimit reports whether the state should spill: past its estimated
// budget, or, when the process reports pressure, past a sixteenth of it (a
// smaller state is not worth a spill run of its own).
func (c *Correlator) overLimit() bool {
	if c.approx > c.opts.MemoryLimit {
		return true
	}
	return c.opts.Pressure != nil && c.Stats.Records%pressureEvery == 0 &&
		c.approx > c.opts.MemoryLimit/16 && c.opts.Pressure()
}

// pressureEvery is how many records pass between asking Options.Pressure.
const pressureEvery = 4096

// Estimated heap bytes of connection state, measured with
// BenchmarkCorrelate (about 610 bytes for a connection of two observers
// seen both ways): a map entry with its key and keyState (which holds the
// first session), each further session, and an observer's state in a
// session (which holds its evidence pointers).
const (
	keyCost      = 200
	sessionCost  = 100
	observerCost = 210
)

func (k *keyState) cost() int64 {
	n := int64(0)
	for i, s := range k.sessions {
		if i > 0 {
			n += sessionCost
		}
		n += int64(len(s.obs)) * observerCost
	}
	return n
}

// MemoryInUse returns the estimated bytes of connection state in memory.
func (c *Correlator) MemoryInUse() int64 { return c.approx }

// Spilled returns the bytes of connection state written to disk so far.
func (c *Correlator) Spilled() int64 {
	if c.spill == nil {
		return 0
	}
	return c.spill.bytes
}

// spillAll writes every connection in memory to the spill files and
// forgets it. A failure stops further spilling and is reported by Result.
func (c *Correlator) spillAll() {
	if c.err != nil {
		return
	}
	if c.spill == nil {
		if c.spill, c.err = newSpiller(c.opts.SpillDir); c.err != nil {
			return
		}
	}
	for k, ks := range c.keys {
		if c.scratch, c.err = c.spill.write(partition(c.seed, k), k, ks, c.scratch); c.err != nil {
			return
		}
	}
	c.spill.runs++
	clear(c.keys)
	c.keys = map[Key]*keyState{}
	c.approx = 0
}

// eachKey calls fn with every connection's state: straight from memory, or,
// after a spill, one partition at a time with the spilled runs merged.
func (c *Correlator) eachKey(fn func(Key, *keyState)) error {
	if c.err != nil {
		return c.err
	}
	if c.spill == nil {
		for k, ks := range c.keys {
			fn(k, ks)
		}
		return nil
	}
	byPart := make([][]Key, Partitions)
	for k := range c.keys {
		p := partition(c.seed, k)
		byPart[p] = append(byPart[p], k)
	}
	for p := range Partitions {
		m := map[Key]*keyState{}
		if err := c.spill.load(p, c.gap, m); err != nil {
			return err
		}
		for _, k := range byPart[p] {
			if mine := m[k]; mine != nil {
				mine.merge(c.keys[k], c.gap)
			} else {
				m[k] = c.keys[k]
			}
		}
		for k, ks := range m {
			fn(k, ks)
		}
	}
	return nil
}

// Close removes the spill files. Call it when done with the correlator.
func (c *Correlator) Close() error {
	if c.spill == nil {
		return nil
	}
	return c.spill.close()
}

// rowTimes returns a record's time range; a missing bound takes the other.
func rowTimes(v *schema.View, i int) (int64, int64) {
	from, to := v.Int(schema.StartTime, i), v.Int(schema.EndTime, i)
	switch {
	case v.IsNull(schema.StartTime, i) && v.IsNull(schema.EndTime, i):
		return 0, 0
	case v.IsNull(schema.StartTime, i):
		from = to
	case v.IsNull(schema.EndTime, i):
		to = from
	}
	return from, to
}

// rowEndpoints uses the original packet addresses where the log gives them
// (AWS pkt-srcaddr/pkt-dstaddr), so that a NAT's inside leg and a TGW
// interface's records join the spoke's records of the same connection.
func rowEndpoints(v *schema.View, i int) (src, dst Endpoint, ok bool) {
	var ok1, ok2 bool
	src.Addr, ok1 = addrBytes(v, schema.PktSrcAddr, schema.SrcAddr, i)
	dst.Addr, ok2 = addrBytes(v, schema.PktDstAddr, schema.DstAddr, i)
	src.Port = uint16(v.Int(schema.SrcPort, i))
	dst.Port = uint16(v.Int(schema.DstPort, i))
	return src, dst, ok1 && ok2
}

func addrBytes(v *schema.View, pkt, logged schema.Col, i int) ([16]byte, bool) {
	if !v.IsNull(pkt, i) {
		return v.AddrBytes(pkt, i), true
	}
	if !v.IsNull(logged, i) {
		return v.AddrBytes(logged, i), true
	}
	return [16]byte{}, false
}

// observerOf returns the observer of row i, creating it on first sight.
// An observer is looked up by name once per batch: later rows of the
// batch find it by dictionary index (batchCache).
func (c *Correlator) observerOf(v *schema.View, i int) *Observer {
	idx, scope := observerKey(v, i)
	o := c.batch.observer(idx, scope)
	if o == nil {
		o = c.lookupObserver(v, i)
		c.batch.remember(idx, scope, o)
	}
	if o.Region == "" {
		// Observers that log no region (Azure) come here on every row:
		// copy a value only when it changed.
		keepCopy(&o.Region, v.Str(schema.Region, i))
		keepCopy(&o.Subnet, v.Str(schema.Subnet, i))
		keepCopy(&o.Network, v.Str(schema.Network, i))
		keepCopy(&o.Instance, v.Str(schema.Instance, i))
		keepCopy(&o.Target, v.Str(schema.TargetResource, i))
	}
	o.Sampled = o.Sampled || (!v.IsNull(schema.Sampled, i) && v.Bool(schema.Sampled, i))
	o.ConnOnly = o.ConnOnly || (!v.IsNull(schema.ConnectionOnly, i) && v.Bool(schema.ConnectionOnly, i))
	return o
}

// lookupObserver finds or creates the observer of row i by its name.
func (c *Correlator) lookupObserver(v *schema.View, i int) *Observer {
	id := rowObserver(v, i)
	h := observerHash(id)
	o := c.observers[h]
	if o == nil {
		// The strings alias the batch's memory: copy them, or one
		// observer would keep a whole batch column alive.
		o = newObserver(id.clone())
		c.observers[h] = o
	}
	return o
}

// keepCopy sets *dst to a copy of s, which aliases a batch, unless it
// holds that value already.
func keepCopy(dst *string, s string) {
	if *dst != s {
		*dst = strings.Clone(s)
	}
}

// rowObserver names the observer of row i. The strings alias the batch:
// clone the ID to keep it.
func rowObserver(v *schema.View, i int) ObserverID {
	return ObserverID{
		Cloud:    v.Str(schema.Cloud, i),
		Kind:     v.Str(schema.LogKind, i),
		Resource: azureResource(v, i),
		ID:       v.Str(schema.Observer, i),
	}
}

// azureResource is the flow-log resource that, with the NIC, makes an
// Azure observer; other clouds' observers are named by their id alone.
func azureResource(v *schema.View, i int) string {
	if v.Str(schema.Cloud, i) != "azure" {
		return ""
	}
	return v.Str(schema.ResourceID, i)
}

// observerHash is a stable 64-bit name of an observer, the same in every
// process, so summaries from different shards or machines merge.
func observerHash(id ObserverID) uint64 {
	h := fnv.New64a()
	for _, s := range []string{id.Cloud, id.Kind, id.Resource, id.ID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// learnOwn notes the address the observer logs for itself: the source of
// an egress record, the destination of an ingress one, or, without a
// direction, the address common to all its records.
func (c *Correlator) learnOwn(o *Observer, v *schema.View, i int) {
	src, dst := v.Addr(schema.SrcAddr, i), v.Addr(schema.DstAddr, i)
	if v.IsNull(schema.Direction, i) {
		o.noteCandidates(src, dst)
		return
	}
	if v.Str(schema.Direction, i) == "egress" {
		o.noteOwn(src, 1)
	} else {
		o.noteOwn(dst, 1)
	}
}

// popularRange is where "a port the other side uses with many peers" is
// counted: below it a port marks the server anyway, above it is the
// ephemeral range clients use, and counting it would cost an entry per
// client connection.
const (
	popularLow  = 1024
	popularHigh = 32768
)

// countPopular counts, for every endpoint with a port in the popular range,
// the connections (keys) it takes part in. It runs over the merged keys at
// the end, not while adding records, so shards that share a key count it
// once.
func countPopular(out map[Endpoint]uint32, k Key) {
	for _, e := range []Endpoint{k.A, k.B} {
		if e.Port >= popularLow && e.Port < popularHigh {
			out[e]++
		}
	}
}

func (c *Correlator) sample(v *schema.View, i int, o *Observer, from, to int64, ab bool) sample {
	s := sample{
		obs: o.hash, from: from, to: to, ab: ab,
		fwdPkts: -1, revPkts: -1,
		twoWay:   !v.IsNull(schema.RevPackets, i) || !v.IsNull(schema.FlowState, i),
		connOnly: !v.IsNull(schema.ConnectionOnly, i) && v.Bool(schema.ConnectionOnly, i),
	}
	if !v.IsNull(schema.Packets, i) {
		s.fwdPkts = v.Int(schema.Packets, i)
	}
	if !v.IsNull(schema.RevPackets, i) {
		s.revPkts = v.Int(schema.RevPackets, i)
	}
	action, state := v.Str(schema.Action, i), v.Str(schema.FlowState, i)
	s.rejected = action == "reject" || state == "denied"
	if !v.IsNull(schema.TCPFlags, i) {
		s.flags = tcpFlags(v.Int(schema.TCPFlags, i), ab)
	}
	if initiatorFirst(o.ID.Kind) {
		s.flags |= tcpFlags(flagSYN, ab)
	}
	if !v.IsNull(schema.NATAddr, i) {
		s.nat, s.hasNAT = v.Addr(schema.NATAddr, i).As16(), true
	}
	s.evidence = Evidence{Time: from, Object: c.objectOf(v, i), Line: v.Int(schema.SourceLine, i)}
	return s
}

// objectOf returns the interned name of row i's object. Rows of one
// object come together, so the batch cache usually answers by index.
func (c *Correlator) objectOf(v *schema.View, i int) string {
	idx := v.StrIndex(schema.SourceObject, i)
	if idx >= 0 && idx == c.batch.objIdx {
		return c.batch.obj
	}
	obj := v.Str(schema.SourceObject, i)
	if interned, ok := c.objects[obj]; ok {
		obj = interned
	} else {
		obj = strings.Clone(obj) // the batch's memory is reused
		c.objects[obj] = obj
	}
	c.batch.objIdx, c.batch.obj = idx, obj
	return obj
}

// initiatorFirst reports whether a log kind puts the side that opened the
// connection first: Azure NSG and VNet flow tuples name initiator and
// responder, and a Cloud NAT entry logs the connection its VM opened. That
// is as good as a SYN from the source.
func initiatorFirst(kind string) bool {
	return kind == "azure-nsg" || kind == "azure-vnet" || kind == "gcp-nat"
}

// TCP flag bits as flow logs report them.
const (
	flagSYN = 2
	flagACK = 16
)

// tcpFlags turns a record's OR-ed flags into who opened and who answered:
// SYN without ACK is sent by the client; SYN-ACK (18) by the server.
func tcpFlags(f int64, ab bool) uint8 {
	var out uint8
	switch {
	case f&flagSYN != 0 && f&flagACK == 0:
		out = synFromA
	case f&(flagSYN|flagACK) == flagSYN|flagACK:
		out = synAckFromA
	}
	if !ab {
		out <<= 1 // the record's sender is B: synFromB, synAckFromB
	}
	return out
}

// Merge folds another correlator (another shard of the same run) into c.
func (c *Correlator) Merge(o *Correlator) {
	for h, ob := range o.observers {
		if mine := c.observers[h]; mine != nil {
			mine.merge(ob)
		} else {
			c.observers[h] = ob
		}
	}
	for k, ks := range o.keys {
		if mine := c.keys[k]; mine != nil {
			mine.merge(ks, c.gap)
		} else {
			c.keys[k] = ks
		}
	}
	c.Stats.Records += o.Stats.Records
	c.Stats.Coverage += o.Stats.Coverage
	c.Stats.Skipped += o.Stats.Skipped
}

func (k Key) String() string {
	return fmt.Sprintf("%d %s %s", k.Proto, k.A.AddrPort(), k.B.AddrPort())
}

// addrOf is a helper for tests and reports.
func addrOf(b [16]byte) netip.Addr { return netip.AddrFrom16(b).Unmap() }
