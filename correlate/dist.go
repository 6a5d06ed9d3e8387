package correlate

// Distributed runs.
//
// A distributed engine (flowsym's Apache Beam pipeline in dist/beam) runs
// the correlator the way a sharded run does, with the shards on many
// machines and the merge in the engine's shuffle:
//
//  1. Each worker folds the records it decodes into a Correlator, exactly as
//     the CLI does, and hands its partial state over with Drain: one
//     ConnState per connection key and one Observer per capture point.
//  2. The engine ships both in their binary form (AppendBinary and
//     UnmarshalBinary), groups them by Key and by ObserverID.Hash, and
//     merges each group with ConnState.Merge and Observer.Merge, in any
//     order and any tree shape: both merges are associative and
//     commutative, like Session.Merge.
//  3. It counts port popularity over the merged keys with AddPopular and
//     keeps the endpoints whose count reaches MinPopular.
//  4. It builds one Judge from every merged observer and those endpoints
//     and judges each merged connection with Judge.Verdicts.
//
// Nothing here decides anything: the findings are those ResultOf gives for
// the same records, finding for finding (dist_test.go checks it on random
// estates and on every scenario file).

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"
)

// AppendBinary appends the 37-byte binary form of the key: both endpoints
// (address, port) and the protocol. Equal keys have equal bytes, so an
// engine can group by them.
func (k Key) AppendBinary(b []byte) ([]byte, error) { return k.appendBinary(b), nil }

// UnmarshalBinary reads the form AppendBinary writes.
func (k *Key) UnmarshalBinary(b []byte) error {
	got, rest, err := readKey(b)
	if err != nil || len(rest) != 0 {
		return fmt.Errorf("connection key of %d bytes, want %d: %w", len(b), keyBytes, errCorrupt)
	}
	*k = got
	return nil
}

// endpointBytes is the size of an endpoint's binary form.
const endpointBytes = 16 + 2

// AppendBinary appends the 18-byte binary form of the endpoint.
func (e Endpoint) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, e.Addr[:]...)
	return binary.BigEndian.AppendUint16(b, e.Port), nil
}

// UnmarshalBinary reads the form AppendBinary writes.
func (e *Endpoint) UnmarshalBinary(b []byte) error {
	if len(b) != endpointBytes {
		return fmt.Errorf("endpoint of %d bytes, want %d: %w", len(b), endpointBytes, errCorrupt)
	}
	copy(e.Addr[:], b[:16])
	e.Port = binary.BigEndian.Uint16(b[16:])
	return nil
}

// ConnState is the mergeable state of one connection key: its sessions, as
// the records a part of the run saw give them. The zero value is empty and
// ready to merge into.
type ConnState struct {
	ks *keyState // never copied: a keyState holds its first session inline
}

func (s *ConnState) state() *keyState {
	if s.ks == nil {
		s.ks = &keyState{}
	}
	return s.ks
}

// Merge folds another part's state of the same key into s. gap is the
// topology's SessionGap: sessions of the two parts closer than it join, as
// they would have in one process. o is not kept.
func (s *ConnState) Merge(o *ConnState, gap time.Duration) {
	if o.ks != nil {
		s.state().merge(o.ks, gap.Microseconds())
	}
}

// Sessions returns the connection's sessions in time order: each is one
// connection judged, one row of the export's connections/.
func (s *ConnState) Sessions() []*Session { return s.state().sessions }

// Records returns the number of records folded into the state.
func (s *ConnState) Records() int64 {
	var n int64
	for _, ss := range s.Sessions() {
		n += ss.Records
	}
	return n
}

// AppendBinary appends the binary form of the state (that of its sessions,
// see Session.AppendBinary).
func (s *ConnState) AppendBinary(b []byte) ([]byte, error) {
	sessions := s.Sessions()
	b = binary.AppendUvarint(b, uint64(len(sessions)))
	var err error
	for _, ss := range sessions {
		if b, err = ss.AppendBinary(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// UnmarshalBinary replaces s with the state AppendBinary wrote.
func (s *ConnState) UnmarshalBinary(b []byte) (err error) {
	d := &decoder{b: b}
	n := d.uvarint(1 << 20)
	if d.err != nil {
		return fmt.Errorf("connection state: %w", d.err)
	}
	rest, names := d.b, intern{}
	ks := &keyState{sessions: make([]*Session, 0, min(n, 16))}
	for range n {
		var ss *Session
		if ss, rest, err = readSession(rest, names); err != nil {
			return fmt.Errorf("connection state: %w", err)
		}
		ks.sessions = append(ks.sessions, ss)
	}
	if len(rest) != 0 {
		return fmt.Errorf("connection state: %d bytes after the last session: %w", len(rest), errCorrupt)
	}
	s.ks = ks
	return nil
}

// Hash returns the observer's stable 64-bit name, the same in every
// process: partial states of one observer share it.
func (id ObserverID) Hash() uint64 { return observerHash(id) }

// Merge folds another part's state of the same observer (same ID) into o.
// p is not kept.
func (o *Observer) Merge(p *Observer) {
	if o.own == nil {
		*o = *newObserver(p.ID)
	}
	o.merge(p)
}

// observerEncodingVersion versions the binary form of an Observer, like
// encodingVersion does a Session's.
const observerEncodingVersion = 1

// AppendBinary appends the binary form of the observer's state: its
// identity and context, counters, own-address counts and candidates, and
// covered minutes. Maps are written in sorted order, so equal states have
// equal bytes.
func (o *Observer) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, observerEncodingVersion)
	for _, s := range []string{o.ID.Cloud, o.ID.Kind, o.ID.Resource, o.ID.ID, o.Region, o.Subnet, o.Network, o.Instance, o.Target} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	var f uint8
	for bit, set := range []bool{o.Sampled, o.ConnOnly, o.seenFam[0], o.seenFam[1]} {
		if set {
			f |= 1 << bit
		}
	}
	b = append(b, f)
	b = binary.AppendVarint(b, o.Records)
	b = binary.AppendVarint(b, o.Skipped)
	own := slices.SortedFunc(maps.Keys(o.own), netip.Addr.Compare)
	b = binary.AppendUvarint(b, uint64(len(own)))
	for _, a := range own {
		b = appendAddr(b, a)
		b = binary.AppendVarint(b, o.own[a])
	}
	for fam := range 2 {
		b = binary.AppendUvarint(b, uint64(len(o.candidate[fam])))
		for _, a := range o.candidate[fam] {
			b = appendAddr(b, a)
		}
	}
	mins := slices.Sorted(maps.Keys(o.minutes))
	b = binary.AppendUvarint(b, uint64(len(mins)))
	prev := minute(0)
	for _, m := range mins {
		b = binary.AppendVarint(b, int64(m-prev)) // deltas: a run of minutes is a byte each
		b = append(b, o.minutes[m])
		prev = m
	}
	return b, nil
}

func appendAddr(b []byte, a netip.Addr) []byte {
	raw, _ := a.MarshalBinary() // 0, 4 or 16 bytes, plus an IPv6 zone
	b = binary.AppendUvarint(b, uint64(len(raw)))
	return append(b, raw...)
}

func (d *decoder) addr() netip.Addr {
	raw := d.bytes(int(d.uvarint(64)))
	var a netip.Addr
	if d.err == nil {
		if err := a.UnmarshalBinary(raw); err != nil {
			d.err = errCorrupt
		}
	}
	return a
}

func (d *decoder) str() string { return string(d.bytes(int(d.uvarint(1 << 20)))) }

// UnmarshalBinary replaces o with the state AppendBinary wrote.
func (o *Observer) UnmarshalBinary(b []byte) error {
	d := &decoder{b: b}
	if v := d.bytes(1); d.err == nil && v[0] != observerEncodingVersion {
		return fmt.Errorf("observer encoding version %d: this flowsym reads %d", v[0], observerEncodingVersion)
	}
	id := ObserverID{Cloud: d.str(), Kind: d.str(), Resource: d.str(), ID: d.str()}
	p := newObserver(id)
	p.Region, p.Subnet, p.Network, p.Instance, p.Target = d.str(), d.str(), d.str(), d.str(), d.str()
	if f := d.bytes(1); d.err == nil {
		p.Sampled, p.ConnOnly, p.seenFam[0], p.seenFam[1] = f[0]&1 != 0, f[0]&2 != 0, f[0]&4 != 0, f[0]&8 != 0
	}
	p.Records, p.Skipped = d.varint(), d.varint()
	for range d.uvarint(maxOwn) {
		a := d.addr()
		p.own[a] = d.varint()
	}
	for fam := range 2 {
		for range d.uvarint(1 << 16) {
			p.candidate[fam] = append(p.candidate[fam], d.addr())
		}
	}
	m := minute(0)
	for range d.uvarint(1 << 32) {
		if d.err != nil {
			break
		}
		m += minute(d.varint())
		if st := d.bytes(1); d.err == nil {
			p.minutes[m] = st[0]
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errCorrupt
	}
	if d.err != nil {
		return fmt.Errorf("observer state: %w", d.err)
	}
	*o = *p
	return nil
}

// Drain hands the correlator's partial state over and forgets it, so that
// the correlator goes on with an empty state (a worker drains when it holds
// too many keys, and at the end of its work): conn is called with every
// connection key and its state, obs with every observer. What they get is
// theirs to keep. Stats are left as they are. A spilled correlator is
// drained partition by partition and its spill files are removed.
func (c *Correlator) Drain(conn func(Key, *ConnState) error, obs func(*Observer) error) error {
	var cerr error
	err := c.eachKey(func(k Key, ks *keyState) {
		if cerr == nil {
			cerr = conn(k, &ConnState{ks: ks}) // the correlator forgets ks below
		}
	})
	if err == nil {
		err = cerr
	}
	if err == nil {
		for _, o := range c.observers {
			if err = obs(o); err != nil {
				break
			}
		}
	}
	c.keys, c.observers, c.objects = map[Key]*keyState{}, map[uint64]*Observer{}, map[string]string{}
	c.approx = 0
	if c.spill != nil {
		err = cmp.Or(err, c.spill.close())
		c.spill = nil
	}
	return err
}

// MinPopular is the port-popularity count below which a count never
// decides a verdict: the judge compares the counts of a connection's two
// endpoints only when one of them reaches 3 (verdict.go's orient), and then
// a count under 3 decides as 0 would. A distributed run may therefore keep
// only the endpoints that reach it, which bounds what every judging worker
// holds to the servers of the estate.
const MinPopular = 3

// AddPopular counts the endpoints of a merged connection key that port
// popularity counts, into counts: run it once over every merged key of the
// run, as ResultOf does.
func AddPopular(counts map[Endpoint]uint32, k Key) { countPopular(counts, k) }

// Judge decides verdicts of merged connections against the observer state
// of the whole run. It reuses its buffers from verdict to verdict, so it is
// not safe for concurrent use: build one per goroutine.
type Judge struct {
	j *judge
}

// NewJudge builds a judge for a run of opts (its Topology, UDP and Checks;
// the other options are the correlators') from every observer's merged
// state and the port popularity counts of the run (endpoints whose count
// is below MinPopular may be left out). Observers with the same ID are
// merged; none of the arguments is changed or kept, except popular, which
// must not change afterwards.
func NewJudge(opts Options, observers []*Observer, popular map[Endpoint]uint32) *Judge {
	topo := opts.Topology
	if topo == nil {
		topo = Empty()
	}
	merged := map[uint64]*Observer{}
	for _, o := range observers {
		h := observerHash(o.ID)
		if merged[h] == nil {
			merged[h] = newObserver(o.ID)
		}
		merged[h].merge(o)
	}
	if popular == nil {
		popular = map[Endpoint]uint32{}
	}
	j := newJudge(topo, opts.UDP, merged, popular)
	j.checks = checkSet(opts.Checks)
	return &Judge{j: j}
}

// Verdicts calls fn with the verdict of each session of a merged
// connection, in time order. A verdict's Views are valid during the call
// only (Verdict.Clone keeps them).
func (j *Judge) Verdicts(k Key, s *ConnState, fn func(Verdict)) {
	for _, ss := range s.Sessions() {
		fn(j.j.verdict(k, ss))
	}
}

// Observers returns every observer with its role, sorted as
// Result.Observers is.
func (j *Judge) Observers() []*Resolved {
	out := slices.Collect(maps.Values(j.j.observers))
	slices.SortFunc(out, func(a, b *Resolved) int {
		return cmp.Or(cmp.Compare(a.ID.Cloud, b.ID.Cloud), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID.String(), b.ID.String()))
	})
	return out
}

// CompareFindings orders findings as Result.Findings is ordered, worst
// first: by severity, kind, first time, client, server and protocol.
func CompareFindings(a, b Finding) int { return compareFindings(a, b) }
