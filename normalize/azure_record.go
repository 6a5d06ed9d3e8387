package normalize

import (
	"bytes"
	"context"

	"github.com/flowsym/flowsym/normalize/schema"
)

// An Azure record as the platform writes it has one shape, and fastjson,
// which builds a tree of the whole record, a value per flow tuple, was a
// fifth of parsing. azureLayout reads that shape in one pass over the
// record's text, keeping only where the tuples are, and gives up on
// anything else: an escape anywhere in the record, a key spelled in
// another case or given twice, a null, a version it does not read, a
// tuple that is not a non-empty string, malformed JSON. A record it gives
// up on is read by fastjson as before (record), which says what is wrong
// with it; nothing is staged before the whole record has been read, so
// giving up costs only time. FuzzAzureRecordLayout holds the two readers
// to the same rows and problems.

// azureLayout is what an NSG or VNet record holds, as spans of its text.
type azureLayout struct {
	vnet     bool
	version  int64
	resID    []byte        // NSG resourceId, VNet flowLogResourceID
	target   []byte        // VNet targetResourceID
	mac      []byte        // VNet macAddress
	outer    []layoutGroup // NSG rules, VNet ACLs
	inner    []layoutGroup // NSG flows (by MAC), VNet flow groups (by rule)
	tuples   [][]byte
	seen     uint32 // keys read, by bit: each may come once
	hasProps bool
	at       *byte // where the record measure read starts
}

// layoutGroup is one element of a nested array: its name (rule, MAC or ACL
// id) and where its children end in the next level down.
type layoutGroup struct {
	name []byte
	end  int
}

// jsonReader reads JSON text strictly: what it accepts, fastjson accepts
// and reads alike. It assumes no backslash in the text (the caller
// checks), so a string ends at the next quote.
type jsonReader struct {
	b     []byte
	i     int
	depth int
}

const maxLayoutDepth = 64

func (r *jsonReader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// next skips whitespace and steps over c if it comes next.
func (r *jsonReader) next(c byte) bool {
	r.ws()
	if r.i < len(r.b) && r.b[r.i] == c {
		r.i++
		return true
	}
	return false
}

// str reads a string and returns its text.
func (r *jsonReader) str() ([]byte, bool) {
	if !r.next('"') {
		return nil, false
	}
	j := bytes.IndexByte(r.b[r.i:], '"')
	if j < 0 {
		return nil, false
	}
	s := r.b[r.i : r.i+j]
	r.i += j + 1
	return s, true
}

// small reads a non-negative integer of one or two digits, as the
// version fields are written.
func (r *jsonReader) small() (int64, bool) {
	r.ws()
	start := r.i
	var v int64
	for r.i < len(r.b) && r.i-start < 3 && r.b[r.i]-'0' <= 9 {
		v = v*10 + int64(r.b[r.i]-'0')
		r.i++
	}
	n := r.i - start
	return v, n > 0 && n < 3 && (n == 1 || r.b[start] != '0') && r.delimited()
}

// delimited reports whether a number or literal ends here.
func (r *jsonReader) delimited() bool {
	if r.i == len(r.b) {
		return true
	}
	switch r.b[r.i] {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// object reads an object, calling member for each key with the reader at
// its value, which member must read.
func (r *jsonReader) object(member func(key []byte) bool) bool {
	return r.list('{', '}', func() bool {
		k, ok := r.str()
		return ok && r.next(':') && member(k)
	})
}

// array reads an array, calling elem for each element.
func (r *jsonReader) array(elem func() bool) bool { return r.list('[', ']', elem) }

// list reads open, items separated by commas, and close.
func (r *jsonReader) list(open, close byte, item func() bool) bool {
	if !r.next(open) {
		return false
	}
	if r.depth++; r.depth > maxLayoutDepth {
		return false
	}
	defer func() { r.depth-- }()
	if r.next(close) {
		return true
	}
	for {
		if !item() {
			return false
		}
		if !r.next(',') {
			return r.next(close)
		}
	}
}

// skip reads any value.
func (r *jsonReader) skip() bool {
	r.ws()
	if r.i >= len(r.b) {
		return false
	}
	switch c := r.b[r.i]; {
	case c == '"':
		_, ok := r.str()
		return ok
	case c == '{':
		return r.object(func([]byte) bool { return r.skip() })
	case c == '[':
		return r.array(r.skip)
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == '-' || c-'0' <= 9:
		return r.number()
	}
	return false // null too: the reader gives up on it wherever it is
}

func (r *jsonReader) literal(word string) bool {
	if !bytes.HasPrefix(r.b[r.i:], []byte(word)) {
		return false
	}
	r.i += len(word)
	return r.delimited()
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *jsonReader) number() bool {
	// No whitespace inside a number: byte by byte, not with next.
	if r.b[r.i] == '-' {
		r.i++
	}
	digits := func() int {
		start := r.i
		for r.i < len(r.b) && r.b[r.i]-'0' <= 9 {
			r.i++
		}
		return r.i - start
	}
	start := r.i
	if n := digits(); n == 0 || n > 1 && r.b[start] == '0' {
		return false
	}
	if r.i < len(r.b) && r.b[r.i] == '.' {
		r.i++
		if digits() == 0 {
			return false
		}
	}
	if r.i < len(r.b) && (r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		r.i++
		if r.i < len(r.b) && (r.b[r.i] == '+' || r.b[r.i] == '-') {
			r.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return r.delimited()
}

// The keys the layout reads, by level. A key that matches one of them
// only without regard to case is left to fastjson, which matches so.
var (
	recordKeys = [...]string{"properties", "resourceId", "flowRecords", "flowLogVersion", "flowLogResourceID", "targetResourceID", "macAddress", "records"}
	propsKeys  = []string{"Version", "flows"}
	groupKeys  = []string{"rule", "flows", "mac", "flowTuples", "aclID", "flowGroups"}
)

// key returns the index of k in keys, -1 when it is none of them, and ok
// false when it is one of them in another case.
func key(k []byte, keys []string) (int, bool) {
	for i, want := range keys {
		if string(k) == want {
			return i, true
		}
		if equalFoldASCII(k, want) {
			return -1, false
		}
	}
	return -1, true
}

// once marks bit of seen and reports whether it was not set yet.
func once(seen *uint32, bit int) bool {
	if *seen&(1<<bit) != 0 {
		return false
	}
	*seen |= 1 << bit
	return true
}

// Bits of azureLayout.seen beyond those of recordKeys.
const (
	seenVersion = 8 // properties.Version
	seenFlows   = 9 // properties.flows or flowRecords.flows
)

// measure reads the record that buf starts with, for the walker
// (jsonWalker.measure), and remembers where it was, so that take, handed
// that record next, does not read it again.
func (l *azureLayout) measure(buf []byte) int {
	n := l.readPrefix(buf)
	if n > 0 {
		l.at = &buf[0]
	}
	return n
}

// take fills l from the record raw, or reports false: measure read it
// just before, or take reads it now.
func (l *azureLayout) take(raw []byte) bool {
	measured := l.at != nil && &raw[0] == l.at
	l.at = nil
	return measured || l.read(raw)
}

// read fills l from the text of one record, or reports false.
func (l *azureLayout) read(raw []byte) bool { return l.readPrefix(raw) == len(raw) }

// readPrefix fills l from the record that buf starts with and returns its
// length, or 0 when it does not read it. The record may be followed by
// anything: the walker hands it the rest of its buffer (see measure).
func (l *azureLayout) readPrefix(buf []byte) int {
	*l = azureLayout{outer: l.outer[:0], inner: l.inner[:0], tuples: l.tuples[:0]}
	var strs [len(recordKeys)][]byte
	var vnetVersion int64
	raw := buf
	r := &jsonReader{b: raw}
	ok := r.object(func(k []byte) bool {
		i, ok := key(k, recordKeys[:])
		switch {
		case !ok || i >= 0 && !once(&l.seen, i):
			return false
		case i == 0: // properties
			l.hasProps = true
			return r.object(l.props(r))
		case i == 2: // flowRecords: {flows: [{aclID, flowGroups: [{rule, flowTuples}]}]}
			l.vnet = true
			return r.object(func(k []byte) bool {
				j, ok := key(k, propsKeys)
				if !ok || j == 1 && !once(&l.seen, seenFlows) {
					return false
				}
				if j == 1 {
					return l.groups(r, 0, &vnetGroupKeys)
				}
				return r.skip()
			})
		case i == 3: // flowLogVersion, which only a VNet record reads
			vnetVersion, ok = r.small()
			return ok
		case i == 7: // records: a document inside a record
			return false
		case i > 0:
			strs[i], ok = r.str()
			return ok
		}
		return r.skip()
	})
	// The reader takes a quote for the end of a string: right only when
	// the record has no backslash, which is checked once it is read.
	if !ok || bytes.IndexByte(raw[:r.i], '\\') >= 0 || l.hasProps == l.vnet || l.seen&(1<<seenFlows) == 0 {
		return 0 // or not exactly one of properties.flows and flowRecords.flows
	}
	l.resID = strs[1]
	if l.vnet {
		l.resID, l.target, l.mac, l.version = strs[4], strs[5], strs[6], vnetVersion
		if l.version > maxVNetVersion {
			return 0
		}
	} else if l.version > 2 { // properties.Version
		return 0
	}
	return r.i
}

// props reads an NSG record's properties: {Version, flows: [{rule, flows:
// [{mac, flowTuples}]}]}.
func (l *azureLayout) props(r *jsonReader) func([]byte) bool {
	return func(k []byte) bool {
		j, ok := key(k, propsKeys)
		switch {
		case !ok || j >= 0 && !once(&l.seen, seenVersion+j):
			return false
		case j == 0:
			l.version, ok = r.small()
			return ok
		case j == 1:
			return l.groups(r, 0, &nsgGroupKeys)
		}
		return r.skip()
	}
}

// groups reads the nested arrays of a record: at level 0 the NSG rules
// or VNet ACLs, at level 1 each one's NSG flows or VNet flow groups. An
// element is an object named by its keys[2*level] member, with its
// children under keys[2*level+1]: the next level, or the flowTuples.
func (l *azureLayout) groups(r *jsonReader, level int, keys *[4]int) bool {
	name, children := keys[2*level], keys[2*level+1]
	return r.array(func() bool {
		var seen uint32
		g := layoutGroup{}
		ok := r.object(func(k []byte) bool {
			j, ok := key(k, groupKeys)
			switch {
			case !ok || j >= 0 && !once(&seen, j):
				return false
			case j == name:
				g.name, ok = r.str()
				return ok
			case j == children && level == 0:
				return l.groups(r, 1, keys)
			case j == children:
				return r.array(func() bool {
					s, ok := r.str()
					l.tuples = append(l.tuples, s)
					return ok && len(s) > 0
				})
			}
			return r.skip()
		})
		if level == 0 {
			g.end = len(l.inner)
			l.outer = append(l.outer, g)
		} else {
			g.end = len(l.tuples)
			l.inner = append(l.inner, g)
		}
		return ok
	})
}

// The members that name and nest groups, by index in groupKeys: rule,
// flows, then mac, flowTuples for NSG; aclID, flowGroups, then rule,
// flowTuples for VNet.
var (
	nsgGroupKeys  = [4]int{0, 1, 2, 3}
	vnetGroupKeys = [4]int{4, 5, 0, 3}
)

// emit stages the tuples of a record read by read, as nsg and vnet stage
// those fastjson read.
func (o *azureObject) emit(ctx context.Context, l *azureLayout) error {
	kind, target := KindAzureNSG, []byte(nil)
	if l.vnet {
		kind, target = KindAzureVNet, l.target
	}
	o.recordContext(kind, nonEmpty(l.resID), nonEmpty(target))
	if l.vnet {
		o.setMAC(nonEmpty(l.mac))
	}
	inner, t := 0, 0
	for _, g := range l.outer {
		if !l.vnet {
			o.b.Fixed(schema.Rule, bstr(g.name))
		}
		for ; inner < g.end; inner++ {
			ig := l.inner[inner]
			if l.vnet {
				o.b.Fixed(schema.Rule, bstr(ig.name))
			} else {
				o.setMAC(nonEmpty(ig.name))
			}
			for ; t < ig.end; t++ {
				if err := o.tupleRow(ctx, l.tuples[t], l.version, l.vnet, nonEmpty(g.name)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
