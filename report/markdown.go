package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/flowsym/flowsym/correlate"
)

// Markdown writes the report for pasting into an issue or a chat: the
// summary, a table of findings by kind and severity, and the worst
// connections with what each observer saw.
func Markdown(w io.Writer, r *correlate.Result, s Summary) error {
	ew := &errWriter{w: w}
	ew.printf("## flowsym analysis\n\n")
	if r.Connections > 0 {
		ew.printf("**%s to %s UTC** · %s objects · %s records · %s connections · %s lacked coverage to judge\n\n",
			clock(r.First, "2006-01-02 15:04"), clock(r.Last, "2006-01-02 15:04"), count(s.Objects),
			count(r.Stats.Records+r.Stats.Coverage+r.Stats.Skipped), count(r.Connections), count(r.Insufficient))
	}
	if len(r.Skipped) > 0 {
		ew.printf("Checks not run (--checks): %s.\n\n", strings.Join(r.Skipped, ", "))
	}
	if s.Problems != "" {
		ew.printf("Input problems: %s.\n\n", s.Problems)
	}
	if len(r.Findings) == 0 {
		ew.printf("No findings: every judged connection took the approved path both ways.\n")
		return ew.err
	}
	ew.printf("| kind | high | medium | low |\n|---|---:|---:|---:|\n")
	for _, kind := range correlate.Kinds {
		if slices.Contains(r.Skipped, kind) {
			continue
		}
		n := severityCounts(r, kind)
		ew.printf("| `%s` | %d | %d | %d |\n", kind, n[0], n[1], n[2])
	}
	limit := s.MaxFindings
	if limit <= 0 {
		limit = 20
	}
	ew.printf("\n### Worst connections\n\n")
	for _, f := range r.Findings[:min(limit, len(r.Findings))] {
		reason := ""
		if f.Reason != "" {
			reason = " (" + f.Reason + ")"
		}
		ew.printf("- **%s** `%s`%s %s `%s` → `%s` at %s — %s\n", strings.ToUpper(f.Severity), f.Kind, reason,
			protoName(f.Protocol), f.Client, f.Server, f.FirstSeen, mdEscape(f.Detail))
		var seen []string
		for _, o := range f.Observers {
			seen = append(seen, fmt.Sprintf("%s (%s): forward %s, reverse %s", mdEscape(o.Name), o.Role, yesNo(o.Forward), yesNo(o.Reverse)))
		}
		ew.printf("  - %s\n", strings.Join(seen, "; "))
		if len(f.Evidence) > 0 {
			e := f.Evidence[0]
			more := ""
			if len(f.Evidence) > 1 {
				more = fmt.Sprintf(" and %d more", len(f.Evidence)-1)
			}
			ew.printf("  - evidence: `%s:%d`%s\n", e.Object, e.Line, more)
		}
	}
	if n := len(r.Findings) - limit; n > 0 {
		ew.printf("\n…and %d more findings (`--format json` lists them all).\n", n)
	}
	return ew.err
}

// TraceMarkdown writes a trace for pasting into an issue.
func TraceMarkdown(w io.Writer, m correlate.Match, verdicts []correlate.Verdict, records []correlate.TraceRecord) error {
	ew := &errWriter{w: w}
	ew.printf("## flowsym trace `%s %s → %s`\n\n", protoName(int(m.Proto)), endpoint(m.Client), endpoint(m.Server))
	if len(verdicts) == 0 {
		ew.printf("No record of this conversation in the input.\n")
		return ew.err
	}
	for i, v := range sortedVerdicts(verdicts) {
		ew.printf("### Connection %d: `%s` → `%s`, %s to %s UTC\n\n", i+1, v.Client.AddrPort(), v.Server.AddrPort(),
			clock(v.Session.First, "2006-01-02 15:04:05"), clock(v.Session.Last, "15:04:05"))
		for _, line := range verdictLines(v) {
			ew.printf("**%s**\n\n", mdEscape(line))
		}
		ew.printf("| time | observer | role | dir | action | packets | bytes | flags | source |\n|---|---|---|---|---|---:|---:|---|---|\n")
		for _, view := range v.Views {
			for _, r := range records {
				if r.Observer != view.ID || r.From < v.Session.First || r.To > v.Session.Last {
					continue
				}
				dir := "fwd"
				if !r.Forward {
					dir = "rev"
				}
				ew.printf("| %s | %s | %s | %s | %s | %s | %s | %s | `%s:%d` |\n", clock(r.From, "15:04:05"), mdEscape(view.Name),
					view.Role, dir, r.Action+r.State, num(r.Packets), num(r.Bytes), flagNames(r.Flags), r.Object, r.Line)
			}
		}
		ew.printf("\n")
	}
	return ew.err
}

func sortedVerdicts(vs []correlate.Verdict) []correlate.Verdict {
	out := slices.Clone(vs)
	slices.SortFunc(out, func(a, b correlate.Verdict) int { return int(a.Session.First - b.Session.First) })
	return out
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "`", "'").Replace(s)
}
