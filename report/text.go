package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flowsym/flowsym/correlate"
)

// Summary is what a text report shows besides the correlator's result.
type Summary struct {
	Objects int64
	Bytes   int64
	// Problems is the one-line bad-input summary, empty when there were none.
	Problems string
	// MaxFindings bounds the "worst connections" list; <= 0 means 20.
	MaxFindings int
}

// Text writes the report a person reads in a terminal, within 80 columns:
// what was read, findings by kind and severity, observers involved, the
// worst connections first with one line of explanation each, and the
// coverage gaps.
func Text(w io.Writer, r *correlate.Result, s Summary) error {
	tw := &errWriter{w: w}
	header(tw, r, s)
	kindTable(tw, r)
	byObserver(tw, r)
	worst(tw, r, s)
	gaps(tw, r)
	return tw.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func header(w *errWriter, r *correlate.Result, s Summary) {
	span := "no records"
	if r.Connections > 0 {
		span = fmt.Sprintf("%s to %s UTC", clock(r.First, "2006-01-02 15:04"), clock(r.Last, "2006-01-02 15:04"))
	}
	w.printf("flowsym analysis: %s\n", span)
	w.printf("  read %s objects, %s records (%s coverage-only), %d observers\n",
		count(s.Objects), count(r.Stats.Records+r.Stats.Coverage+r.Stats.Skipped), count(r.Stats.Coverage), len(r.Observers))
	w.printf("  %s connections judged; %s lacked coverage to judge; %s NAT outside legs\n",
		count(r.Connections), count(r.Insufficient), count(r.OutsideLegs))
	if len(r.Skipped) > 0 {
		w.printf("  checks not run (--checks): %s\n", strings.Join(r.Skipped, ", "))
	}
	if s.Problems != "" {
		w.printf("  input problems: %s (see stderr)\n", s.Problems)
	}
	w.printf("\n")
}

func kindTable(w *errWriter, r *correlate.Result) {
	if len(r.Findings) == 0 {
		w.printf("No findings: every judged connection took the approved path both ways.\n\n")
		return
	}
	w.printf("Findings\n")
	w.printf("  %-16s %6s %6s %6s %6s\n", "kind", "high", "medium", "low", "total")
	for _, kind := range correlate.Kinds {
		if slices.Contains(r.Skipped, kind) {
			continue
		}
		n := severityCounts(r, kind)
		w.printf("  %-16s %6d %6d %6d %6d\n", kind, n[0], n[1], n[2], n[0]+n[1]+n[2])
	}
	w.printf("\n")
}

func byObserver(w *errWriter, r *correlate.Result) {
	rows := observerCounts(r)
	if len(rows) == 0 {
		return
	}
	w.printf("Observers in findings\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows[:min(len(rows), 10)] {
		fmt.Fprintf(tw, "  %s\t%s\t%d\n", truncate(r.name, 40), r.role, r.total)
	}
	tw.Flush()
	if len(rows) > 10 {
		w.printf("  ... and %d more observers\n", len(rows)-10)
	}
	w.printf("\n")
}

func worst(w *errWriter, r *correlate.Result, s Summary) {
	if len(r.Findings) == 0 {
		return
	}
	limit := s.MaxFindings
	if limit <= 0 {
		limit = 20
	}
	w.printf("Worst connections first\n")
	for _, f := range r.Findings[:min(limit, len(r.Findings))] {
		w.printf("  %-6s %-14s %-3s %s -> %s\n", strings.ToUpper(f.Severity), f.Kind, protoName(f.Protocol), f.Client, f.Server)
		conf := ""
		if f.Confidence == "low" {
			conf = " (low confidence: sampled logs)"
		}
		w.printf("         %s %s%s\n", f.FirstSeen[11:19], truncate(f.Detail, 60), conf)
	}
	if n := len(r.Findings) - limit; n > 0 {
		w.printf("  ... and %d more (--format json lists them all)\n", n)
	}
	w.printf("\n")
}

func gaps(w *errWriter, r *correlate.Result) {
	var lines []string
	for _, o := range r.Observers {
		holes := o.Holes()
		if len(holes) == 0 {
			continue
		}
		lines = append(lines, fmt.Sprintf("  %s (%s, %s): records lost in %d minute(s) from %s",
			truncate(o.Name, 30), o.ID.ID, o.Role, len(holes), time.Unix(holes[0]*60, 0).UTC().Format("15:04")))
	}
	if len(lines) == 0 {
		w.printf("Coverage gaps: none (no SKIPDATA records)\n")
		return
	}
	w.printf("Coverage gaps (observers that lost records; findings there were not guessed)\n")
	for _, l := range lines {
		w.printf("%s\n", l)
	}
}

func clock(micros int64, layout string) string { return time.UnixMicro(micros).UTC().Format(layout) }

func count(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func protoName(p int) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1:
		return "icmp"
	case 58:
		return "icmp6"
	}
	return fmt.Sprint(p)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
