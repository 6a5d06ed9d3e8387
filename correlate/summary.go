package correlate

import (
	"cmp"
	"slices"
)

// maxEvidence bounds the records one observer keeps as evidence for a
// connection: the earliest ones by time, then object and line. A finding
// lists them; the observer's record count says how many there were.
const maxEvidence = 4

// Evidence points at one raw record: the object and the line (or record
// index in a JSON document) it came from.
type Evidence struct {
	Time   int64 // record start, microseconds; orders evidence
	Object string
	Line   int64
}

func (e Evidence) less(f Evidence) bool {
	return cmp.Or(cmp.Compare(e.Time, f.Time), cmp.Compare(e.Object, f.Object), cmp.Compare(e.Line, f.Line)) < 0
}

// obsState is what one observer saw of one connection, in canonical
// directions: AB is from endpoint A to endpoint B.
type obsState struct {
	obs            uint64 // observer hash, see observerHash
	sawAB, sawBA   bool   // packets seen in that direction
	pktsAB, pktsBA int64
	records        uint32
	rejected       bool
	first, last    int64 // microseconds: this observer's records of it
	evidence       evidenceSet
}

// evidenceSet keeps the earliest maxEvidence records in place, without an
// allocation of its own: connections are many, and most have a record or
// two per observer.
type evidenceSet struct {
	e [maxEvidence]Evidence
	n uint8
}

// list returns the kept records, earliest first.
func (s *evidenceSet) list() []Evidence { return s.e[:s.n] }

// add keeps e if it is among the earliest; records mostly come in time
// order, so the common case appends.
func (s *evidenceSet) add(e Evidence) {
	n := int(s.n)
	if n == maxEvidence {
		if !e.less(s.e[n-1]) {
			return
		}
		n-- // drop the latest to make room
	} else {
		s.n++
	}
	i := n
	for i > 0 && e.less(s.e[i-1]) {
		s.e[i] = s.e[i-1]
		i--
	}
	s.e[i] = e
}

// Session flags.
const (
	synFromA    uint8 = 1 << iota // a SYN without ACK sent by A: A opened
	synFromB                      // ... by B
	synAckFromA                   // a SYN-ACK sent by A: A answered
	synAckFromB                   // ... by B
	rejected                      // some record was rejected or denied
)

// Session is the mergeable summary of one connection: a key's records
// that are no further apart than the session gap. It never holds the
// records themselves.
type Session struct {
	First, Last int64 // microseconds: earliest start, latest end
	Records     int64
	Flags       uint8
	obs         []obsState
	natAddrs    [][16]byte // translated addresses logged with it (GCP Cloud NAT)
}

// sample is one record's contribution to a session.
type sample struct {
	obs      uint64
	from, to int64 // microseconds
	ab       bool  // the record's own direction is A to B
	fwdPkts  int64 // packets in the record's direction; -1 when not given
	revPkts  int64 // packets in the other direction; -1 when not given
	twoWay   bool  // the log counts both directions in one record (Azure)
	connOnly bool  // the record only marks a connection (Cloud NAT, NSG v1)
	flags    uint8 // session flags this record implies
	rejected bool
	nat      [16]byte
	hasNAT   bool
	evidence Evidence
}

// sawOwn reports whether the record shows packets of its own direction. A
// one-way record does by being there; a two-way tuple where it counts
// some (a begin tuple counts none: evidence of neither direction); a
// denied packet was there to be denied. A connection-only record never
// shows a direction.
func (r *sample) sawOwn() bool {
	switch {
	case r.connOnly:
		return false
	case r.rejected:
		return true
	case r.twoWay:
		return r.fwdPkts > 0
	}
	return true
}

// add folds one record into the session.
func (s *Session) add(r *sample) {
	if s.Records == 0 || r.from < s.First {
		s.First = r.from
	}
	if s.Records == 0 || r.to > s.Last {
		s.Last = r.to
	}
	s.Records++
	s.Flags |= r.flags
	if r.rejected {
		s.Flags |= rejected
	}
	if r.hasNAT && !slices.Contains(s.natAddrs, r.nat) && len(s.natAddrs) < 4 {
		s.natAddrs = append(s.natAddrs, r.nat)
	}
	o := s.observer(r.obs)
	if o.records == 0 || r.from < o.first {
		o.first = r.from
	}
	o.last = max(o.last, r.to)
	o.records++
	o.rejected = o.rejected || r.rejected
	own, other := r.sawOwn(), !r.connOnly && r.twoWay && r.revPkts > 0
	ownPkts, otherPkts := max(r.fwdPkts, 0), max(r.revPkts, 0)
	if !r.ab {
		own, other = other, own
		ownPkts, otherPkts = otherPkts, ownPkts
	}
	// Here own and other are the A-to-B and B-to-A observations.
	if own {
		o.sawAB = true
		o.pktsAB += ownPkts
	}
	if other {
		o.sawBA = true
		o.pktsBA += otherPkts
	}
	o.evidence.add(r.evidence)
}

func (s *Session) observer(h uint64) *obsState {
	for i := range s.obs {
		if s.obs[i].obs == h {
			return &s.obs[i]
		}
	}
	if s.obs == nil {
		// Room for two at once: most connections are seen at two
		// observers or at one observer both ways.
		s.obs = make([]obsState, 0, 2)
	}
	s.obs = append(s.obs, obsState{obs: h})
	return &s.obs[len(s.obs)-1]
}

func evCompare(a, b Evidence) int {
	return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.Object, b.Object), cmp.Compare(a.Line, b.Line))
}

// Merge folds another summary of the same connection into s. Merge is
// associative and commutative: any split of a connection's records,
// summarised and merged in any order, gives the same summary.
func (s *Session) Merge(t *Session) {
	if t.Records == 0 {
		return
	}
	if s.Records == 0 || t.First < s.First {
		s.First = t.First
	}
	if s.Records == 0 || t.Last > s.Last {
		s.Last = t.Last
	}
	s.Records += t.Records
	s.Flags |= t.Flags
	for _, a := range t.natAddrs {
		if !slices.Contains(s.natAddrs, a) && len(s.natAddrs) < 4 {
			s.natAddrs = append(s.natAddrs, a)
		}
	}
	slices.SortFunc(s.natAddrs, func(a, b [16]byte) int { return slices.Compare(a[:], b[:]) })
	for i := range t.obs {
		p := &t.obs[i]
		o := s.observer(p.obs)
		if o.records == 0 || p.first < o.first {
			o.first = p.first
		}
		o.last = max(o.last, p.last)
		o.sawAB, o.sawBA = o.sawAB || p.sawAB, o.sawBA || p.sawBA
		o.pktsAB += p.pktsAB
		o.pktsBA += p.pktsBA
		o.records += p.records
		o.rejected = o.rejected || p.rejected
		for _, e := range p.evidence.list() {
			o.evidence.add(e)
		}
	}
	slices.SortFunc(s.obs, func(a, b obsState) int { return cmp.Compare(a.obs, b.obs) })
}

// keyState holds the sessions of one key, sorted by time, none within the
// session gap of another. The first session and the list's first slot live
// in the keyState itself: most keys have one session, and a connection then
// costs one allocation, not three.
type keyState struct {
	one      Session
	slot     [1]*Session
	sessions []*Session
}

// newSession returns an empty session, the inline one when it is unused.
func (k *keyState) newSession() *Session {
	if k.one.Records == 0 && k.one.obs == nil {
		return &k.one
	}
	return &Session{}
}

// add puts a record into the session it belongs to, joining sessions the
// record bridges. The result does not depend on the order records come in:
// sessions are the groups of records whose gaps are at most gap.
func (k *keyState) add(r *sample, gap int64) {
	into := k.take(r.from, r.to, gap)
	into.add(r)
	k.sessions = insertSession(k.sessions, into)
}

// merge folds another shard's sessions of the same key into k.
func (k *keyState) merge(o *keyState, gap int64) {
	for _, t := range o.sessions {
		into := k.take(t.First, t.Last, gap)
		into.Merge(t)
		k.sessions = insertSession(k.sessions, into)
	}
}

// take removes from k the sessions within gap of [from, to] and returns
// them merged into one, or an empty session when there are none, for the
// caller to fill and put back with insertSession.
func (k *keyState) take(from, to, gap int64) *Session {
	if k.sessions == nil {
		k.sessions = k.slot[:0]
	}
	var into *Session
	kept := k.sessions[:0]
	for _, s := range k.sessions {
		if from <= s.Last+gap && to >= s.First-gap {
			if into == nil {
				into = s
			} else {
				into.Merge(s)
			}
			continue
		}
		kept = append(kept, s)
	}
	k.sessions = kept
	if into == nil {
		into = k.newSession()
	}
	return into
}

// insertSession adds s to the sorted list. A merged session can now reach
// others, so neighbours within the gap are not possible: callers merge
// every overlapping session before inserting.
func insertSession(list []*Session, s *Session) []*Session {
	i, _ := slices.BinarySearchFunc(list, s, func(a, b *Session) int { return cmp.Compare(a.First, b.First) })
	return slices.Insert(list, i, s)
}
