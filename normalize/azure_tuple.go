package normalize

import (
	"bytes"
	"context"
	"math"

	"github.com/flowsym/flowsym/normalize/schema"
)

// azureTuple is one Azure flow tuple, read but not yet staged. Two readers
// fill it: a one-pass scanner (scanNSG, scanVNet) that takes the tuples
// Azure writes, IPv4 and well formed, and gives up on anything else; and
// the checked reader (checkNSG, checkVNet), which splits the tuple first
// and says what is wrong with a bad one. The scanner reads each byte once
// where split-then-parse read it twice or three times, and it is most of
// why Azure parsing is fast; FuzzAzureTupleScan holds it to the checked
// reader, which decides every tuple the scanner gives up on.
type azureTuple struct {
	start    int64 // microseconds since the epoch
	src, dst [schema.AddrWidth]byte
	ports    [2]int64 // source, destination
	proto    int64
	dir      byte     // I or O
	action   byte     // A or D
	state    byte     // B, C, E or D; 0 in an NSG Version 1 tuple, which has none
	enc      []byte   // VNet encryption; empty stays NULL
	counts   [4]int64 // packets and bytes sent, packets and bytes received
	has      uint8    // which values are present: hasCount<<i for counts[i], hasPort<<i for ports[i]
}

const (
	hasCount = 1
	hasPort  = 1 << 4
)

// connectionOnly reports whether the tuple is evidence of a connection
// but of no traffic: NSG Version 1 tuples carry no counters, and a begin
// (B) tuple carries none (NSG writes them empty, VNet writes 0
// placeholders); both leave the counters NULL.
func (t *azureTuple) connectionOnly() bool { return t.state == 0 || t.state == 'B' }

var (
	azureDirections = [2]string{"ingress", "egress"}
	azureActions    = [2]string{"accept", "reject"}
	azureStates     = [4]string{"begin", "continuing", "end", "denied"}
	countCols       = [4]schema.Col{schema.Packets, schema.Bytes, schema.RevPackets, schema.RevBytes}
	countNames      = [4]string{"packets sent", "bytes sent", "packets received", "bytes received"}
)

// tupleRow reads tuple s (nil when the flowTuples element is not a
// non-empty string) of a record of the given version and commits it as a
// row, labelled with the VNet ACL id when there is one; a bad tuple is
// reported with its ordinal and dropped. It returns what stops the run:
// the context's error, Report's, or emit's. Both record readers (record's
// fastjson walk and azureLayout's) stage every tuple through it.
func (o *azureObject) tupleRow(ctx context.Context, s []byte, version int64, vnet bool, acl []byte) error {
	o.tuple++
	if o.tuple&1023 == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := o.readTuple(s, version, vnet); err != nil {
		o.b.Discard()
		return o.in.problem(o.tuple, err)
	}
	o.stage(&o.read, version)
	if vnet && acl != nil {
		o.b.Label("aclID", bstr(acl))
	}
	return o.b.Commit()
}

// readTuple reads s into o.read: in one pass when it can, else checked.
func (o *azureObject) readTuple(s []byte, version int64, vnet bool) error {
	t := &o.read
	switch {
	case s == nil:
		return errNotTuple
	case vnet && !scanVNet(s, t):
		return o.checkVNet(s, t)
	case !vnet && !scanNSG(s, version, t):
		return o.checkNSG(s, version, t)
	}
	return nil
}

// stage sets a read tuple's columns in the builder's current row. The
// strings are package-level values, so the builder finds their dictionary
// index by address.
func (o *azureObject) stage(t *azureTuple, version int64) {
	b := o.b
	if version != 0 {
		b.Int(schema.LogVersion, version)
	}
	b.Time(schema.StartTime, t.start)
	b.Time(schema.EndTime, t.start)
	b.Addr16(schema.SrcAddr, t.src)
	b.Addr16(schema.DstAddr, t.dst)
	if t.has&hasPort != 0 {
		b.Int(schema.SrcPort, t.ports[0])
	}
	if t.has&(hasPort<<1) != 0 {
		b.Int(schema.DstPort, t.ports[1])
	}
	b.Int(schema.Protocol, t.proto)
	b.Str(schema.Direction, azureDirections[b2i(t.dir == 'O')])
	b.Str(schema.Action, azureActions[b2i(t.action == 'D')])
	switch t.state {
	case 'B':
		b.Str(schema.FlowState, azureStates[0])
	case 'C':
		b.Str(schema.FlowState, azureStates[1])
	case 'E':
		b.Str(schema.FlowState, azureStates[2])
	case 'D':
		b.Str(schema.FlowState, azureStates[3])
	}
	if len(t.enc) > 0 {
		b.Bytes(schema.Encryption, t.enc)
	}
	b.Bool(schema.ConnectionOnly, t.connectionOnly())
	if !t.connectionOnly() {
		for i, c := range countCols {
			if t.has&(hasCount<<i) != 0 {
				b.Int(c, t.counts[i])
			}
		}
	}
	b.Int(schema.SourceLine, o.tuple)
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// The scanner's steps each read one field at s[i:] and return the index
// after the comma that ends it (or after the field, for the last), with
// ok false when the field is not of the kind asked for. They are small
// enough to inline, so that i stays in a register across a tuple.

// digits reads up to 19 decimal digits, which cannot overflow, and
// returns their value and the index after them; j == i when there are
// none. A 20th digit is left unread, so the caller, finding no comma
// after the number, gives up: parseUint's 20-digit case is the checked
// reader's.
func digits(s []byte, i int) (v uint64, j int) {
	end := min(len(s), i+19)
	for j = i; j < end; j++ {
		d := s[j] - '0'
		if d > 9 {
			break
		}
		v = v*10 + uint64(d)
	}
	return v, j
}

// number reads a number and its comma; the caller checks its range. The
// index it returns is negative when there is no number.
func number(s []byte, i int) (uint64, int) {
	v, j := digits(s, i)
	if j > i && j < len(s) && s[j] == ',' {
		return v, j + 1
	}
	return 0, -1
}

// letter reads a field of one byte and its comma, or returns 0.
func letter(s []byte, i int) (byte, int) {
	if i+1 < len(s) && s[i+1] == ',' {
		return s[i], i + 2
	}
	return 0, i
}

// lastLetter reads a field of one byte that may end the tuple.
func lastLetter(s []byte, i int) (byte, int) {
	if i+1 == len(s) || i+1 < len(s) && s[i+1] == ',' {
		return s[i], i + 1
	}
	return 0, i
}

// quad reads a dotted-quad IPv4 address and its comma, accepting what
// parseDottedQuad accepts.
func quad(s []byte, i int, dst *[schema.AddrWidth]byte) (int, bool) {
	var ip [4]byte
	for k := range ip {
		if i >= len(s) || s[i]-'0' > 9 {
			return i, false
		}
		v := uint(s[i] - '0')
		i++
		// An octet that starts with 0 is 0: "01" is not an octet.
		if v != 0 && i < len(s) && s[i]-'0' <= 9 {
			v = v*10 + uint(s[i]-'0')
			i++
			if i < len(s) && s[i]-'0' <= 9 {
				v = v*10 + uint(s[i]-'0')
				i++
			}
		}
		if v > 255 || i >= len(s) || s[i] != ".,"[k/3] {
			return i, false
		}
		ip[k] = byte(v)
		i++
	}
	*dst = [schema.AddrWidth]byte{10: 0xff, 11: 0xff, 12: ip[0], 13: ip[1], 14: ip[2], 15: ip[3]}
	return i, true
}

// head reads the fields NSG and VNet tuples share after the timestamp,
// src,dst,sport,dport,proto,I|O, and the commas after them.
func head(s []byte, i int, t *azureTuple) (int, bool) {
	var ok bool
	if i, ok = quad(s, i, &t.src); !ok {
		return i, false
	}
	if i, ok = quad(s, i, &t.dst); !ok {
		return i, false
	}
	var v uint64
	for k := range t.ports {
		if v, i = number(s, i); i < 0 || v > 65535 {
			return i, false
		}
		t.ports[k] = int64(v)
	}
	t.has |= hasPort | hasPort<<1
	switch l, j := letter(s, i); l {
	case 'T':
		t.proto, i = 6, j
	case 'U':
		t.proto, i = 17, j
	default:
		if v, i = number(s, i); i < 0 || v > 255 {
			return i, false
		}
		t.proto = int64(v)
	}
	t.dir, i = letter(s, i)
	return i, t.dir == 'I' || t.dir == 'O'
}

// state reads the state letter, B, C, E or D, and its comma.
func state(s []byte, i int, t *azureTuple) (int, bool) {
	t.state, i = letter(s, i)
	switch t.state {
	case 'B', 'C', 'E', 'D':
		return i, true
	}
	return i, false
}

// counts reads the four counters that end a tuple, each possibly empty;
// s[i] is the comma before the first. A B tuple's are not read, only
// counted, as the checked reader does.
func counts(s []byte, i int, t *azureTuple) bool {
	if t.state == 'B' {
		return bytes.Count(s[i:], []byte{','}) == 4
	}
	for k := range t.counts {
		if i >= len(s) || s[i] != ',' {
			return false
		}
		i++
		if i == len(s) || s[i] == ',' {
			continue // empty: NULL
		}
		v, j := digits(s, i)
		if j == i || v > math.MaxInt64 {
			return false
		}
		t.counts[k], i = int64(v), j
		t.has |= hasCount << k
	}
	return i == len(s)
}

// scanNSG reads an NSG tuple in one pass, or reports false and leaves it
// to checkNSG:
//
//	v1: ts,src,dst,sport,dport,T|U,I|O,A|D
//	v2: ts,src,dst,sport,dport,T|U,I|O,A|D,B|C|E,pkts,bytes,rpkts,rbytes
func scanNSG(s []byte, version int64, t *azureTuple) bool {
	t.has, t.enc = 0, nil
	ts, i := number(s, 0)
	if i < 0 || ts > maxEpochSeconds {
		return false
	}
	var ok bool
	t.start = int64(ts) * 1_000_000
	if i, ok = head(s, i, t); !ok {
		return false
	}
	if t.action, i = lastLetter(s, i); t.action != 'A' && t.action != 'D' {
		return false
	}
	if i == len(s) {
		t.state = 0
		return version != 2
	}
	if version == 1 {
		return false
	}
	if i, ok = state(s, i+1, t); !ok {
		return false
	}
	return counts(s, i-1, t)
}

// scanVNet reads a VNet tuple in one pass, or reports false and leaves it
// to checkVNet:
//
//	ts,src,dst,sport,dport,proto,I|O,B|C|E|D,encryption,pkts,bytes,rpkts,rbytes
func scanVNet(s []byte, t *azureTuple) bool {
	t.has = 0
	ts, i := number(s, 0)
	if i < 0 || ts >= 1e14 {
		return false
	}
	var ok bool
	t.start, _ = epochMicros(ts)
	if i, ok = head(s, i, t); !ok {
		return false
	}
	if i, ok = state(s, i, t); !ok {
		return false
	}
	t.action = 'A'
	if t.state == 'D' {
		t.action = 'D'
	}
	// The encryption field is a word ("NX"): a loop finds its end sooner
	// than a call to bytes.IndexByte.
	end := i
	for end < len(s) && s[end] != ',' {
		end++
	}
	t.enc = s[i:end]
	return counts(s, end, t)
}
