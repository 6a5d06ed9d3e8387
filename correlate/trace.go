package correlate

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flowsym/flowsym/normalize/schema"
)

// Match selects one conversation for flowsym trace: a client and a server
// address, each with an optional port (0 matches any), and a protocol.
type Match struct {
	Client, Server netip.AddrPort
	Proto          uint8
}

// ParseEndpoint reads "IP", "IP:PORT" or "[IPv6]:PORT".
func ParseEndpoint(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q is not IP, IP:PORT or [IPv6]:PORT", s)
	}
	return netip.AddrPortFrom(a.Unmap(), 0), nil
}

// ParseProto reads a protocol name or number.
func ParseProto(s string) (uint8, error) {
	switch strings.ToLower(s) {
	case "tcp":
		return 6, nil
	case "udp":
		return 17, nil
	case "icmp":
		return 1, nil
	case "icmp6", "icmpv6":
		return 58, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, fmt.Errorf("protocol %q is not tcp, udp, icmp, icmp6 or a number", s)
	}
	return uint8(n), nil
}

func (m Match) side(e Endpoint, want netip.AddrPort) bool {
	return e.IP() == want.Addr() && (want.Port() == 0 || e.Port == want.Port())
}

// Key reports whether a connection key is the conversation, in either
// orientation.
func (m Match) Key(k Key) bool {
	if k.Proto != m.Proto {
		return false
	}
	return m.side(k.A, m.Client) && m.side(k.B, m.Server) || m.side(k.B, m.Client) && m.side(k.A, m.Server)
}

// TraceRecord is one record of a traced conversation.
type TraceRecord struct {
	Observer       ObserverID
	From, To       int64 // microseconds
	Src, Dst       netip.AddrPort
	PktSrc, PktDst netip.Addr
	Forward        bool // sent by the client given to trace
	Direction      string
	Action, State  string
	Packets, Bytes int64 // -1 when not given
	RevPackets     int64
	RevBytes       int64
	Flags          int64
	ConnOnly       bool
	Object         string
	Line           int64
}

// Tracer keeps the records of one conversation from the batches it sees.
type Tracer struct {
	Match   Match
	Records []TraceRecord
}

// maxTraceRecords bounds a trace: a long-lived conversation over a day of
// logs is still a screenful, not the whole log.
const maxTraceRecords = 10000

// Add keeps the batch's records of the conversation.
func (t *Tracer) Add(rec arrow.RecordBatch) error {
	v, err := schema.NewView(rec)
	if err != nil {
		return err
	}
	for i := range v.Rows() {
		src, dst, ok := rowEndpoints(v, i)
		if !ok || v.IsNull(schema.Protocol, i) || len(t.Records) >= maxTraceRecords {
			continue
		}
		k, _ := makeKey(uint8(v.Int(schema.Protocol, i)), src, dst)
		if !t.Match.Key(k) {
			continue
		}
		t.Records = append(t.Records, traceRecord(v, i, t.Match.side(src, t.Match.Client)))
	}
	return nil
}

func traceRecord(v *schema.View, i int, forward bool) TraceRecord {
	num := func(c schema.Col) int64 {
		if v.IsNull(c, i) {
			return -1
		}
		return v.Int(c, i)
	}
	from, to := rowTimes(v, i)
	return TraceRecord{
		// Copies: a trace outlives the batch.
		Observer: rowObserver(v, i).clone(),
		From:     from, To: to,
		Src:    netip.AddrPortFrom(v.Addr(schema.SrcAddr, i), uint16(v.Int(schema.SrcPort, i))),
		Dst:    netip.AddrPortFrom(v.Addr(schema.DstAddr, i), uint16(v.Int(schema.DstPort, i))),
		PktSrc: v.Addr(schema.PktSrcAddr, i), PktDst: v.Addr(schema.PktDstAddr, i),
		Forward:   forward,
		Direction: strings.Clone(v.Str(schema.Direction, i)), Action: strings.Clone(v.Str(schema.Action, i)), State: strings.Clone(v.Str(schema.FlowState, i)),
		Packets: num(schema.Packets), Bytes: num(schema.Bytes), RevPackets: num(schema.RevPackets), RevBytes: num(schema.RevBytes),
		Flags:    num(schema.TCPFlags),
		ConnOnly: !v.IsNull(schema.ConnectionOnly, i) && v.Bool(schema.ConnectionOnly, i),
		Object:   strings.Clone(v.Str(schema.SourceObject, i)), Line: v.Int(schema.SourceLine, i),
	}
}

// Sorted returns the records in time order, then by object and line.
func (t *Tracer) Sorted() []TraceRecord {
	out := slices.Clone(t.Records)
	slices.SortFunc(out, func(a, b TraceRecord) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.Object, b.Object), cmp.Compare(a.Line, b.Line))
	})
	return out
}
