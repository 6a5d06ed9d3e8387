package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/flowsym/flowsym/correlate"
)

// Trace writes one conversation: for each connection (a reuse of the
// 5-tuple after the session gap is another connection) the verdict first,
// then its records in time order grouped by observer with its role.
func Trace(w io.Writer, m correlate.Match, verdicts []correlate.Verdict, records []correlate.TraceRecord) error {
	ew := &errWriter{w: w}
	ew.printf("flowsym trace %s %s -> %s\n", protoName(int(m.Proto)), endpoint(m.Client), endpoint(m.Server))
	if len(verdicts) == 0 {
		ew.printf("\nNo record of this conversation in the input.\n")
		return ew.err
	}
	verdicts = sortedVerdicts(verdicts)
	for i, v := range verdicts {
		ew.printf("\nConnection %d of %d: %s -> %s, %s to %s UTC, %d records\n", i+1, len(verdicts),
			v.Client.AddrPort(), v.Server.AddrPort(), clock(v.Session.First, "2006-01-02 15:04:05"), clock(v.Session.Last, "15:04:05"), v.Session.Records)
		for _, line := range verdictLines(v) {
			ew.printf("  %s\n", line)
		}
		for _, view := range v.Views {
			ew.printf("\n  %s (%s) %s  forward %s, reverse %s\n", view.Name, view.Role, view.ID, yesNo(view.Forward), yesNo(view.Reverse))
			for _, r := range records {
				if r.Observer == view.ID && r.From >= v.Session.First && r.To <= v.Session.Last {
					ew.printf("    %s\n", traceLine(r))
				}
			}
		}
	}
	return ew.err
}

// verdictLines says which findings hold, or why there are none.
func verdictLines(v correlate.Verdict) []string {
	switch {
	case v.OutsideLeg:
		return []string{"Verdict: a NAT's outside leg (its own address to the server): evidence about the NAT, no finding of its own"}
	case len(v.Findings) > 0:
		var out []string
		for _, f := range v.Findings {
			reason := ""
			if f.Reason != "" {
				reason = ", " + f.Reason
			}
			out = append(out, fmt.Sprintf("Verdict: %s (%s%s, %s confidence): %s", f.Kind, f.Severity, reason, f.Confidence, f.Detail))
		}
		return out
	case v.Insufficient:
		return []string{"Verdict: not judged: an observer a finding depends on lost records (SKIPDATA) or had none during the connection"}
	}
	var hubs []string
	for _, view := range v.Views {
		if view.Role.Hub() && view.Approved() && view.Forward && view.Reverse {
			hubs = append(hubs, view.Name)
		}
	}
	if len(hubs) > 0 {
		return []string{"Verdict: symmetric through the approved hub (" + strings.Join(hubs, ", ") + "); no finding"}
	}
	return []string{"Verdict: no finding (no approved hub observer recorded it; see the topology file if one should have)"}
}

func traceLine(r correlate.TraceRecord) string {
	dir := "fwd"
	if !r.Forward {
		dir = "rev"
	}
	counters := ""
	switch {
	case r.ConnOnly:
		counters = "connection event"
	case r.RevPackets >= 0:
		counters = fmt.Sprintf("%s pkts %s B, back %s pkts %s B", num(r.Packets), num(r.Bytes), num(r.RevPackets), num(r.RevBytes))
	default:
		counters = fmt.Sprintf("%s pkts %s B", num(r.Packets), num(r.Bytes))
	}
	what := r.Action
	if r.State != "" {
		what = strings.TrimSpace(r.Action + " " + r.State)
	}
	addrs := fmt.Sprintf("%s > %s", r.Src, r.Dst)
	if r.PktSrc.IsValid() && r.PktSrc != r.Src.Addr() || r.PktDst.IsValid() && r.PktDst != r.Dst.Addr() {
		addrs += fmt.Sprintf(" (packet %s > %s)", r.PktSrc, r.PktDst)
	}
	return fmt.Sprintf("%s %s %-7s %-6s %s  %s  flags %s  %s:%d", clock(r.From, "15:04:05"), dir, r.Direction, what,
		counters, addrs, flagNames(r.Flags), r.Object, r.Line)
}

func num(n int64) string {
	if n < 0 {
		return "-"
	}
	return count(n)
}

func yesNo(b bool) string {
	if b {
		return "seen"
	}
	return "not seen"
}

// flagNames renders the OR-ed TCP flags flow logs report.
func flagNames(f int64) string {
	if f < 0 {
		return "-"
	}
	if f == 0 {
		return "0"
	}
	var out []string
	for _, b := range []struct {
		bit  int64
		name string
	}{{2, "SYN"}, {16, "ACK"}, {1, "FIN"}, {4, "RST"}, {8, "PSH"}, {32, "URG"}} {
		if f&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return strings.Join(out, "|")
}

func endpoint(ap interface{ String() string }) string {
	s := ap.String()
	return strings.TrimSuffix(s, ":0")
}
