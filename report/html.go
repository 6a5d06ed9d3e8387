package report

import (
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/flowsym/flowsym/correlate"
)

// The HTML report is one file a person opens from a ticket: no network
// fetch, no script. Go computes every coordinate of the inline SVG pictures
// and html/template escapes every name and address that came from the logs.

//go:embed html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("html.tmpl").Funcs(template.FuncMap{
	"count": count,
	"num":   func(n int) string { return count(int64(n)) },
	"upper": strings.ToUpper,
	"plus":  func(a, b int) int { return a + b },
}).Parse(htmlSource))

// defaultHTMLFindings bounds the detailed sections (the worst connections'
// cards, pictures and timelines) when Summary.MaxFindings is not set: 50
// cards is about 350 KB of HTML and a page a browser scrolls smoothly.
const defaultHTMLFindings = 50

// Bounds of the other lists, so that thousands of observers or evidence
// lines keep the page small; each list says how many it left out.
const (
	htmlMaxObservers    = 100 // rows of the observer table
	htmlMaxChartRows    = 15  // bars of the "by observer" chart
	htmlMaxPathNodes    = 10  // observers drawn in one path picture
	htmlMaxHoleRanges   = 8   // hole ranges listed per observer
	htmlMaxBypassedHubs = 2   // bypassed hubs drawn per hub_bypass picture
)

// HTML writes the report as one self-contained HTML page: the summary, the
// findings by kind and severity, charts of findings over time and by
// observer, then for the worst connections (Summary.MaxFindings, 50 when
// unset) a path picture, a timeline per observer and the evidence, and
// the coverage gaps. docs/html-report.md explains how to read it.
func HTML(w io.Writer, r *correlate.Result, s Summary) error {
	if err := htmlTemplate.Execute(w, buildPage(r, s)); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

// htmlPage is everything the template shows.
type htmlPage struct {
	Span      string
	Problems  string
	Stats     []stat
	Kinds     []kindRow
	Total     int
	Findings  []card
	More      int // findings beyond the detailed cap
	OverTime  *barChart
	ByObs     *barChart
	MoreObs   int // observers in findings beyond the chart's rows
	KindNames []kindName
	Gaps      []gapRow
	Observers []obsRow
	ObsMore   int
	Legend    legend
}

type stat struct {
	Label, Value, Note string
	Warn               bool
}

type kindName struct{ Kind, Class string }

type kindRow struct {
	Kind, Class, Meaning     string
	High, Medium, Low, Total int
}

var kindMeaning = map[string]string{
	correlate.KindAsymmetric:    "a stateful hub saw only one direction, or the two directions crossed different instances",
	correlate.KindHubBypass:     "a spoke reached a public server while no approved hub recorded it",
	correlate.KindUnapprovedNAT: "translated by a NAT that is not approved, twice, or to an address not approved",
	correlate.KindOneWay:        "a request no observer saw answered",
}

func buildPage(r *correlate.Result, s Summary) *htmlPage {
	p := &htmlPage{Span: "no records", Problems: s.Problems, Total: len(r.Findings)}
	if r.Connections > 0 {
		p.Span = spanWords(r.First, r.Last)
	}
	limit := s.MaxFindings
	if limit <= 0 {
		limit = defaultHTMLFindings
	}
	holes := 0
	for _, o := range r.Observers {
		if o.Observer != nil && len(o.Holes()) > 0 {
			holes++
		}
	}
	p.Stats = []stat{
		{Label: "objects read", Value: count(s.Objects), Note: byteSize(s.Bytes)},
		{Label: "records", Value: count(r.Stats.Records + r.Stats.Coverage + r.Stats.Skipped),
			Note: count(r.Stats.Coverage) + " coverage-only"},
		{Label: "observers", Value: count(int64(len(r.Observers)))},
		{Label: "connections judged", Value: count(r.Connections), Note: count(r.OutsideLegs) + " NAT outside legs"},
		{Label: "findings", Value: count(int64(len(r.Findings))), Warn: len(r.Findings) > 0},
		{Label: "connections not judged", Value: count(r.Insufficient), Note: "lacked coverage", Warn: r.Insufficient > 0},
		{Label: "observers with gaps", Value: count(int64(holes)), Note: "lost records (SKIPDATA)", Warn: holes > 0},
	}
	for _, k := range kindsOf(r) {
		row := kindRow{Kind: k, Class: kindClass(k), Meaning: kindMeaning[k]}
		for _, f := range r.Findings {
			if f.Kind != k {
				continue
			}
			switch f.Severity {
			case "high":
				row.High++
			case "medium":
				row.Medium++
			default:
				row.Low++
			}
			row.Total++
		}
		p.Kinds = append(p.Kinds, row)
		p.KindNames = append(p.KindNames, kindName{k, row.Class})
	}
	idx := newObserverIndex(r.Observers)
	for i, f := range r.Findings[:min(limit, len(r.Findings))] {
		p.Findings = append(p.Findings, buildCard(i+1, f, idx, r.Observers))
	}
	p.More = len(r.Findings) - len(p.Findings)
	if len(r.Findings) > 0 {
		p.OverTime = overTime(r)
		p.ByObs, p.MoreObs = byObserverChart(r)
	}
	p.Gaps = gapRows(r.Observers)
	p.Observers, p.ObsMore = observerRows(r.Observers)
	p.Legend = buildLegend()
	return p
}

// kindsOf lists the known kinds in report order, then any other kind the
// findings carry, so a new kind shows before the report learns its name.
func kindsOf(r *correlate.Result) []string {
	out := slices.Clone(correlate.Kinds)
	for _, f := range r.Findings {
		if !slices.Contains(out, f.Kind) {
			out = append(out, f.Kind)
		}
	}
	return out
}

// byteSize says a size in binary units: "512 B", "3.2 GiB".
func byteSize(n int64) string {
	if n <= 0 {
		return ""
	}
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n), 0
	for v >= 1024 && unit < 5 {
		v /= 1024
		unit++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[unit-1])
}

func kindClass(k string) string {
	if slices.Contains(correlate.Kinds, k) {
		return "k-" + k
	}
	return "k-other"
}

func spanWords(first, last int64) string {
	a, b := time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
	if a.Format("2006-01-02") == b.Format("2006-01-02") {
		return a.Format("2006-01-02 15:04:05") + " to " + b.Format("15:04:05") + " UTC"
	}
	return a.Format("2006-01-02 15:04:05") + " to " + b.Format("2006-01-02 15:04:05") + " UTC"
}

// observerIndex finds a finding's observer in the result: a finding names
// it by name and log id only.
type observerIndex map[[2]string][]*correlate.Resolved

func newObserverIndex(obs []*correlate.Resolved) observerIndex {
	idx := observerIndex{}
	for _, o := range obs {
		k := [2]string{o.Name, o.ID.ID}
		idx[k] = append(idx[k], o)
	}
	return idx
}

func (idx observerIndex) find(o correlate.FindingObserver, cloud string) *correlate.Resolved {
	rs := idx[[2]string{o.Name, o.ID}]
	for _, r := range rs {
		if r.ID.Cloud == cloud {
			return r
		}
	}
	if len(rs) > 0 {
		return rs[0]
	}
	return nil
}

// card is one finding's detailed section.
type card struct {
	N                                       int
	ID                                      string
	Kind, Class, Severity, Proto            string
	Client, Server                          string
	When, Reason, Confidence, Detail, Cloud string
	Path                                    pathPic
	Timeline                                *timelinePic
	Evidence                                []string
	Observers                               string // names, for the list
	LowConfidence                           bool
	FirstSeen, LastSeen                     string
}

func buildCard(n int, f correlate.Finding, idx observerIndex, all []*correlate.Resolved) card {
	c := card{N: n, ID: fmt.Sprintf("f-%d", n), Kind: f.Kind, Class: kindClass(f.Kind), Severity: f.Severity,
		Proto: protoName(f.Protocol), Client: f.Client, Server: f.Server, Reason: f.Reason, Confidence: f.Confidence,
		Detail: f.Detail, Cloud: f.Cloud, LowConfidence: f.Confidence == "low",
		FirstSeen: shortTime(f.FirstSeen), LastSeen: shortTime(f.LastSeen)}
	c.When = seenSpan(f.FirstSeen, f.LastSeen)
	along := placeObservers(f, idx)
	var names []string
	for _, p := range along {
		if !slices.Contains(names, p.o.Name) {
			names = append(names, p.o.Name)
		}
	}
	c.Observers = strings.Join(names, ", ")
	for _, e := range f.Evidence {
		c.Evidence = append(c.Evidence, fmt.Sprintf("%s:%d", e.Object, e.Line))
	}
	c.Path = buildPath(f, along, all)
	c.Timeline = buildTimeline(f, along)
	return c
}

func parseSeen(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, s)
	return t.UTC(), err == nil
}

func shortTime(s string) string {
	if t, ok := parseSeen(s); ok {
		return t.Format("2006-01-02 15:04:05")
	}
	return s
}

func seenSpan(first, last string) string {
	a, okA := parseSeen(first)
	b, okB := parseSeen(last)
	if !okA || !okB {
		return first + " to " + last
	}
	return spanWords(a.UnixMicro(), b.UnixMicro())
}

// roleOrder is the order of roles along the egress path, client to server.
var roleOrder = []correlate.Role{correlate.RoleSpoke, correlate.RoleTransit, correlate.RoleInspection,
	correlate.RoleProxy, correlate.RoleNAT, correlate.RoleUnknown}

// Ranks of an observer that logs an end's address as its own: the
// client's interface comes first, the server's (an east-west connection
// between two spokes) last.
const (
	rankClientEnd = -1
	rankServerEnd = 100
)

func roleRank(r correlate.Role) int {
	if i := slices.Index(roleOrder, r); i >= 0 {
		return i
	}
	return len(roleOrder)
}

// placed is one observer of a finding with its place along the path.
type placed struct {
	o        correlate.FindingObserver
	tl       *correlate.ObserverTimeline // nil when the finding has no timeline
	res      *correlate.Resolved         // nil when the result does not list it
	rank     int
	bypassed bool // drawn for hub_bypass: covered the span, recorded nothing
}

// placeObservers orders a finding's observers along the egress path:
// client side first, then by role (spoke, transit, inspection, proxy, nat,
// unknown), server side last; observers of one role keep the finding's
// order.
func placeObservers(f correlate.Finding, idx observerIndex) []placed {
	client, _ := netip.ParseAddrPort(f.Client)
	server, _ := netip.ParseAddrPort(f.Server)
	out := make([]placed, 0, len(f.Observers))
	for i, o := range f.Observers {
		p := placed{o: o, res: idx.find(o, f.Cloud), rank: roleRank(o.Role)}
		if len(f.Timeline) == len(f.Observers) {
			p.tl = &f.Timeline[i]
		}
		if r := p.res; r != nil && r.Observer != nil && (o.Role == correlate.RoleSpoke || o.Role == correlate.RoleUnknown) {
			switch {
			case server.IsValid() && r.OwnsAddr(server.Addr().Unmap()):
				p.rank = rankServerEnd
			case client.IsValid() && r.OwnsAddr(client.Addr().Unmap()):
				p.rank = rankClientEnd
			}
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b placed) int { return cmp.Compare(a.rank, b.rank) })
	return out
}

// Geometry of the path picture, in pixels.
const (
	pathPad   = 12
	pathEndW  = 160 // client and server boxes
	pathEndH  = 66
	pathObsW  = 176 // observer boxes
	pathObsH  = 108
	pathGap   = 46 // between boxes: the wire
	pathTop   = 20 // room above the boxes for a badge
	pathFwdDY = 62 // forward lane, from the top of an observer box
	pathRevDY = 92 // reverse lane
)

// pathPic is the path picture of one finding: client, the observers in
// egress order with one leg per direction, server.
type pathPic struct {
	W, H             int
	MinW             int // below this the picture scrolls, not shrinks
	Kind             string
	Client, Server   endNode
	Nodes            []obsNode
	Wires            []wire
	FwdY, RevY       int
	Label            string // the picture said in words, for aria-label
	Hidden           int    // observers not drawn
	HiddenX, HiddenY int
}

type endNode struct {
	X, Y, W, H   int
	TX, TY1, TY2 int // text anchor and the two text lines
	Role, Addr   string
	Short        string
}

type wire struct{ X1, Y1, X2, Y2 int }

// obsNode is one observer box of a path picture.
type obsNode struct {
	X, Y, W, H      int
	TX, TY1, TY2    int
	SubY            int
	Name, Short     string
	Role, ID, Cloud string
	Records         int
	Class           string // observer, plus connonly, bypassed, unapproved
	Badge           string // "not approved", "connection only", "bypassed"
	BadgeX, BadgeY  int    // the badge's pill, over the top border
	BadgeW          int
	Sub             string // text under the box
	Fwd, Rev        leg
	ConnOnly        bool
}

// leg is one direction at one observer.
type leg struct {
	Dir       string // forward, reverse
	State     string // seen, missing, connonly
	X1, X2, Y int
	Head      string // SVG path of the arrowhead
	Label     string
	LX, LY    int
}

func buildPath(f correlate.Finding, along []placed, all []*correlate.Resolved) pathPic {
	list := slices.Clone(along)
	if f.Kind == correlate.KindHubBypass {
		for _, h := range bypassedHubs(f, all) {
			list = append(list, placed{o: correlate.FindingObserver{Name: h.Name, ID: h.ID.ID, Role: h.Role},
				res: h, rank: roleRank(h.Role), bypassed: true})
		}
		slices.SortStableFunc(list, func(a, b placed) int { return cmp.Compare(a.rank, b.rank) })
	}
	pic := pathPic{Kind: f.Kind}
	if len(list) > htmlMaxPathNodes {
		pic.Hidden = len(list) - htmlMaxPathNodes
		list = list[:htmlMaxPathNodes]
	}
	boxes := len(list)
	if pic.Hidden > 0 {
		boxes++
	}
	pic.W = 2*pathPad + 2*pathEndW + boxes*pathObsW + (boxes+1)*pathGap
	pic.H = pathTop + pathObsH + 30
	pic.MinW = pic.W * 3 / 5
	pic.FwdY, pic.RevY = pathTop+pathFwdDY, pathTop+pathRevDY
	mid := (pic.FwdY + pic.RevY) / 2
	end := func(x int, role, addr string) endNode {
		return endNode{X: x, Y: mid - pathEndH/2, W: pathEndW, H: pathEndH, TX: x + pathEndW/2,
			TY1: mid - 8, TY2: mid + 14, Role: role, Addr: addr, Short: truncate(addr, 22)}
	}
	pic.Client = end(pathPad, "client", f.Client)
	x := pathPad + pathEndW + pathGap
	var words []string
	for _, e := range list {
		n := obsNode{X: x, Y: pathTop, W: pathObsW, H: pathObsH, TX: x + pathObsW/2, TY1: pathTop + 20, TY2: pathTop + 37,
			SubY: pathTop + pathObsH + 16, Name: e.o.Name, Short: truncate(e.o.Name, 22), Role: string(e.o.Role),
			ID: e.o.ID, Records: e.o.Records, Class: "observer"}
		if e.res != nil {
			n.Cloud = e.res.ID.Cloud
			n.ConnOnly = e.res.Observer != nil && e.res.ConnOnly
			if !e.res.Approved() {
				n.Class += " unapproved"
				n.Badge = "not approved"
			}
		}
		n.Sub = fmt.Sprintf("%s · %d record%s", truncate(e.o.ID, 24), e.o.Records, pluralS(e.o.Records))
		fwd, rev := "missing", "missing"
		if e.o.Forward {
			fwd = "seen"
		}
		if e.o.Reverse {
			rev = "seen"
		}
		switch {
		case e.bypassed:
			n.Class += " bypassed"
			n.Badge = "bypassed"
			n.Sub = truncate(e.o.ID, 24) + " · covered, no record"
		case n.ConnOnly:
			// A connection observer records the connection, never a
			// direction: neither seen nor missing (docs/analysis.md).
			fwd, rev = "connonly", "connonly"
			n.Class += " connonly"
			n.Badge = "connection only"
		case !e.o.Forward && !e.o.Reverse:
			// Records that show no direction (an Azure begin tuple counts
			// nothing): evidence of neither, so not drawn as missing.
			fwd, rev = "connonly", "connonly"
			n.Class += " connonly"
		}
		n.Fwd = makeLeg("forward", fwd, x, pic.FwdY)
		n.Rev = makeLeg("reverse", rev, x, pic.RevY)
		if n.Badge != "" {
			n.BadgeW = 12 + 6*len(n.Badge)
			n.BadgeX, n.BadgeY = x+(pathObsW-n.BadgeW)/2, pathTop-13
		}
		pic.Nodes = append(pic.Nodes, n)
		words = append(words, fmt.Sprintf("%s (%s): forward %s, reverse %s", n.Name, n.Role, fwd, rev))
		x += pathObsW + pathGap
	}
	if pic.Hidden > 0 {
		pic.HiddenX, pic.HiddenY = x+pathObsW/2, mid+4
		x += pathObsW + pathGap
	}
	pic.Server = end(x, "server", f.Server)
	// The wires join the boxes along both lanes.
	left := pathPad + pathEndW
	for i := 0; i <= boxes; i++ {
		right := left + pathGap
		pic.Wires = append(pic.Wires, wire{left, pic.FwdY, right, pic.FwdY}, wire{left, pic.RevY, right, pic.RevY})
		left = right + pathObsW
	}
	pic.Label = fmt.Sprintf("%s %s -> %s: %s", f.Kind, f.Client, f.Server, strings.Join(words, "; "))
	if len(words) == 0 {
		pic.Label += "no observer"
	}
	return pic
}

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// makeLeg draws one direction across an observer box: forward left to
// right on the upper lane, reverse right to left on the lower one.
func makeLeg(dir, state string, x, y int) leg {
	l := leg{Dir: dir, State: state, X1: x + 14, X2: x + pathObsW - 14, Y: y, LX: x + pathObsW/2, LY: y - 7}
	if dir == "forward" {
		l.Head = fmt.Sprintf("M%d %d l-9 -5 v10 z", l.X2, y)
	} else {
		l.Head = fmt.Sprintf("M%d %d l9 -5 v10 z", l.X1, y)
	}
	switch state {
	case "seen":
		l.Label = "✓ " + dir + " seen"
	case "missing":
		l.Label = "✗ " + dir + " missing"
	default:
		l.Label = dir + ": not logged"
	}
	return l
}

// bypassedHubs are the approved hubs of the finding's cloud that covered
// its span (the reason hub_bypass was raised), at most two.
func bypassedHubs(f correlate.Finding, all []*correlate.Resolved) []*correlate.Resolved {
	first, last, ok := timelineSpan(f)
	if !ok {
		a, okA := parseSeen(f.FirstSeen)
		b, okB := parseSeen(f.LastSeen)
		if !okA || !okB {
			return nil
		}
		first, last = a.UnixMicro(), b.UnixMicro()
	}
	var out []*correlate.Resolved
	for _, h := range all {
		if h.Observer == nil || !h.Role.Hub() || !h.Approved() || h.ID.Cloud != f.Cloud || !h.Covers(first, last) {
			continue
		}
		if slices.ContainsFunc(f.Observers, func(o correlate.FindingObserver) bool { return o.Name == h.Name && o.ID == h.ID.ID }) {
			continue
		}
		out = append(out, h)
		if len(out) == htmlMaxBypassedHubs {
			break
		}
	}
	return out
}

func timelineSpan(f correlate.Finding) (first, last int64, ok bool) {
	for _, tl := range f.Timeline {
		if tl.First == 0 && tl.Last == 0 {
			continue
		}
		if !ok || tl.First < first {
			first = tl.First
		}
		if !ok || tl.Last > last {
			last = tl.Last
		}
		ok = true
	}
	return first, last, ok
}

// Geometry of a timeline.
const (
	tlW      = 1060
	tlLabelW = 230
	tlRowH   = 26
	tlTop    = 26
	tlRight  = 24
)

// timelinePic shows, per observer of a finding, when it saw the connection
// (a bar from its first to its last record) and its evidence records (dots).
type timelinePic struct {
	W, H   int
	X0, X1 int // the plot
	Rows   []tlRow
	Ticks  []tick
	AxisY  int
}

type tlRow struct {
	Y, MidY     int
	Label, Full string
	BarX, BarW  int
	Dots        []tlDot
	Class       string
}

type tlDot struct {
	X     int
	Title string
}

type tick struct {
	X             int
	Label, Anchor string
}

func buildTimeline(f correlate.Finding, along []placed) *timelinePic {
	if len(f.Timeline) != len(f.Observers) || len(f.Timeline) == 0 {
		return nil
	}
	first, last, ok := timelineSpan(f)
	if !ok {
		return nil
	}
	// Pad a span shorter than a minute so a single record shows as a bar.
	if last-first < 60_000_000 {
		c := (first + last) / 2
		first, last = c-30_000_000, c+30_000_000
	}
	pic := &timelinePic{W: tlW, X0: tlLabelW, X1: tlW - tlRight, AxisY: tlTop - 8}
	scale := func(t int64) int {
		return pic.X0 + int(math.Round(float64(t-first)/float64(last-first)*float64(pic.X1-pic.X0)))
	}
	rows := along
	names := map[string]int{}
	for _, r := range rows {
		names[r.o.Name]++
	}
	for i, r := range rows {
		y := tlTop + i*tlRowH
		full := fmt.Sprintf("%s (%s, %s)", r.o.Name, r.o.Role, r.o.ID)
		label := r.o.Name + " (" + string(r.o.Role) + ")"
		if names[r.o.Name] > 1 {
			label = r.o.Name + " (" + r.o.ID + ")" // instances of one entry
		}
		tr := tlRow{Y: y, MidY: y + tlRowH/2, Full: full, Label: truncate(label, 32), Class: "tl-row"}
		if r.tl.First != 0 || r.tl.Last != 0 {
			tr.BarX = scale(r.tl.First)
			tr.BarW = max(scale(r.tl.Last)-tr.BarX, 4)
		}
		for _, e := range r.tl.Evidence {
			tr.Dots = append(tr.Dots, tlDot{X: scale(e.Time),
				Title: fmt.Sprintf("%s:%d at %s", e.Object, e.Line, clock(e.Time, "15:04:05"))})
		}
		pic.Rows = append(pic.Rows, tr)
	}
	pic.H = tlTop + len(rows)*tlRowH + 6
	layout := "15:04:05"
	if last-first > 24*3600*1_000_000 {
		layout = "01-02 15:04"
	}
	step := tickSteps[len(tickSteps)-1] * 1_000_000
	for _, s := range tickSteps {
		if (last-first)/(s*1_000_000) <= 6 {
			step = s * 1_000_000
			break
		}
	}
	for t := (first + step - 1) / step * step; t <= last; t += step {
		tk := tick{X: scale(t), Label: clock(t, layout), Anchor: "middle"}
		if tk.X > pic.X1-30 {
			tk.Anchor = "end"
		}
		pic.Ticks = append(pic.Ticks, tk)
	}
	return pic
}

// tickSteps are the candidate steps (seconds) between timeline ticks.
var tickSteps = []int64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}

// barChart is a stacked bar chart: vertical bars over time, or horizontal
// bars by observer.
type barChart struct {
	W, H       int
	X0, Y0     int // plot origin (bottom left for vertical, top left for horizontal)
	X1, Y1     int
	Bars       []bar
	Grid       []gridLine
	Ticks      []tick
	Caption    string
	Horizontal bool
}

type bar struct {
	Label, Title string
	LX, LY       int // label position
	Total        int
	TX, TY       int // total label position
	Segs         []seg
}

type seg struct {
	X, Y, W, H int
	Class      string
	Title      string
}

type gridLine struct {
	X1, Y1, X2, Y2 int
	Label          string
	LX, LY         int
}

// bucketSteps are the candidate widths (seconds) of the time buckets.
var bucketSteps = []int64{60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 2 * 86400, 7 * 86400, 30 * 86400}

const maxBuckets = 48

// chartW is the width of the charts: the page's column.
const chartW = 1100

func overTime(r *correlate.Result) *barChart {
	kinds := kindsOf(r)
	var lo, hi int64 = math.MaxInt64, math.MinInt64
	times := make([]int64, len(r.Findings))
	for i, f := range r.Findings {
		t, ok := parseSeen(f.FirstSeen)
		if !ok {
			times[i] = math.MinInt64
			continue
		}
		times[i] = t.Unix()
		lo, hi = min(lo, times[i]), max(hi, times[i])
	}
	if lo > hi {
		return nil
	}
	step := bucketSteps[len(bucketSteps)-1]
	for _, s := range bucketSteps {
		if (hi-lo)/s+1 <= maxBuckets {
			step = s
			break
		}
	}
	start := lo - ((lo%step)+step)%step
	n := int((hi-start)/step) + 1
	counts := make([]map[string]int, n)
	for i := range counts {
		counts[i] = map[string]int{}
	}
	for i, f := range r.Findings {
		if times[i] == math.MinInt64 {
			continue
		}
		counts[(times[i]-start)/step][f.Kind]++
	}
	c := &barChart{W: chartW, H: 250, X0: 56, Y0: 210, X1: chartW - 16, Y1: 14}
	peak := 0
	for _, m := range counts {
		t := 0
		for _, v := range m {
			t += v
		}
		peak = max(peak, t)
	}
	top, gstep := niceScale(peak)
	for v := 0; v <= top; v += gstep {
		y := c.Y0 - int(math.Round(float64(v)/float64(top)*float64(c.Y0-c.Y1)))
		c.Grid = append(c.Grid, gridLine{X1: c.X0, Y1: y, X2: c.X1, Y2: y, Label: fmt.Sprint(v), LX: c.X0 - 8, LY: y + 4})
	}
	slot := float64(c.X1-c.X0) / float64(n)
	bw := max(int(slot*0.8), 2)
	layout, short := "15:04", "15:04"
	if step >= 86400 {
		layout, short = "2006-01-02", "01-02"
	} else if hi-lo >= 86400 {
		layout, short = "01-02 15:04", "01-02 15:04"
	}
	every := max(1, (n+7)/8)
	for i, m := range counts {
		from := time.Unix(start+int64(i)*step, 0).UTC()
		x := c.X0 + int(float64(i)*slot+(slot-float64(bw))/2)
		b := bar{Title: fmt.Sprintf("%s, %s", from.Format("2006-01-02 15:04"), durationWords(step))}
		y := c.Y0
		var parts []string
		for _, k := range kinds {
			v := m[k]
			if v == 0 {
				continue
			}
			h := int(math.Round(float64(v) / float64(top) * float64(c.Y0-c.Y1)))
			h = max(h, 1)
			y -= h
			b.Segs = append(b.Segs, seg{X: x, Y: y, W: bw, H: h, Class: kindClass(k),
				Title: fmt.Sprintf("%s from %s (%s): %d %s", from.Format("2006-01-02 15:04"), durationWords(step), layout, v, k)})
			b.Total += v
			parts = append(parts, fmt.Sprintf("%d %s", v, k))
		}
		if len(parts) > 0 {
			b.Title += ": " + strings.Join(parts, ", ")
		}
		if i%every == 0 {
			b.Label, b.LX, b.LY = from.Format(short), x+bw/2, c.Y0+18
		}
		c.Bars = append(c.Bars, b)
	}
	c.Caption = fmt.Sprintf("Findings by the time their connection was first seen, in %s buckets (UTC).", durationWords(step))
	return c
}

// niceScale returns an axis top at or above peak and a grid step giving at
// most five lines, both round numbers.
func niceScale(peak int) (top, step int) {
	if peak <= 4 {
		return max(peak, 1), 1
	}
	raw := float64(peak) / 4
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = int(m * mag)
			break
		}
	}
	top = (peak + step - 1) / step * step
	return top, step
}

func durationWords(sec int64) string {
	switch {
	case sec%86400 == 0:
		return fmt.Sprintf("%d-day", sec/86400)
	case sec%3600 == 0:
		return fmt.Sprintf("%d-hour", sec/3600)
	default:
		return fmt.Sprintf("%d-minute", sec/60)
	}
}

func byObserverChart(r *correlate.Result) (*barChart, int) {
	kinds := kindsOf(r)
	list := observerCounts(r)
	if len(list) == 0 {
		return nil, 0
	}
	more := max(0, len(list)-htmlMaxChartRows)
	list = list[:min(len(list), htmlMaxChartRows)]
	const rowH, labelW = 28, 250
	c := &barChart{W: chartW, X0: labelW, Y0: 24, X1: chartW - 70, Horizontal: true}
	c.H = c.Y0 + len(list)*rowH + 8
	c.Y1 = c.H - 8
	top, gstep := niceScale(list[0].total)
	for v := 0; v <= top; v += gstep {
		x := c.X0 + int(math.Round(float64(v)/float64(top)*float64(c.X1-c.X0)))
		c.Grid = append(c.Grid, gridLine{X1: x, Y1: c.Y0 - 4, X2: x, Y2: c.Y1, Label: fmt.Sprint(v), LX: x, LY: c.Y0 - 8})
	}
	for i, r := range list {
		y := c.Y0 + i*rowH + 5
		b := bar{Label: truncate(r.name, 30) + " (" + r.role + ")", LX: c.X0 - 10, LY: y + 13, Total: r.total,
			Title: fmt.Sprintf("%s (%s): in %d findings", r.name, r.role, r.total)}
		x := c.X0
		for _, k := range kinds {
			v := r.byKind[k]
			if v == 0 {
				continue
			}
			w := max(int(math.Round(float64(v)/float64(top)*float64(c.X1-c.X0))), 1)
			b.Segs = append(b.Segs, seg{X: x, Y: y, W: w, H: rowH - 10, Class: kindClass(k),
				Title: fmt.Sprintf("%s: %d %s", r.name, v, k)})
			x += w
		}
		b.TX, b.TY = x+6, y+13
		c.Bars = append(c.Bars, b)
	}
	c.Caption = "Findings each observer recorded (a finding counts once per observer)."
	return c, more
}

// gapRow is an observer that lost records.
type gapRow struct {
	Name, ID, Role, Cloud string
	Minutes               int
	Ranges                []string
	MoreRanges            int
}

func gapRows(obs []*correlate.Resolved) []gapRow {
	var out []gapRow
	for _, o := range obs {
		if o.Observer == nil {
			continue
		}
		holes := o.Holes()
		if len(holes) == 0 {
			continue
		}
		g := gapRow{Name: o.Name, ID: o.ID.String(), Role: string(o.Role), Cloud: o.ID.Cloud, Minutes: len(holes)}
		ranges := minuteRanges(holes)
		g.MoreRanges = max(0, len(ranges)-htmlMaxHoleRanges)
		g.Ranges = ranges[:min(len(ranges), htmlMaxHoleRanges)]
		out = append(out, g)
	}
	return out
}

// minuteRanges joins consecutive minutes: "10:05 to 10:07", "10:09".
func minuteRanges(mins []int64) []string {
	var out []string
	layout := func(m int64) string { return time.Unix(m*60, 0).UTC().Format("2006-01-02 15:04") }
	for i := 0; i < len(mins); {
		j := i
		for j+1 < len(mins) && mins[j+1] == mins[j]+1 {
			j++
		}
		if i == j {
			out = append(out, layout(mins[i]))
		} else {
			out = append(out, layout(mins[i])+" to "+time.Unix((mins[j]+1)*60, 0).UTC().Format("15:04"))
		}
		i = j + 1
	}
	return out
}

type obsRow struct {
	Name, ID, Role, Cloud, Kind string
	Records                     int64
	Covered, Lost               int
	Approved, Sampled, ConnOnly bool
}

func observerRows(obs []*correlate.Resolved) ([]obsRow, int) {
	var out []obsRow
	for _, o := range obs {
		row := obsRow{Name: o.Name, ID: o.ID.String(), Role: string(o.Role), Cloud: o.ID.Cloud, Kind: o.ID.Kind, Approved: o.Approved()}
		if o.Observer != nil {
			row.Records, row.Covered, row.Lost = o.Records, o.CoveredMinutes(), len(o.Holes())
			row.Sampled, row.ConnOnly = o.Sampled, o.ConnOnly
		}
		out = append(out, row)
	}
	// Observers that lost records first: they explain what was not judged.
	slices.SortStableFunc(out, func(a, b obsRow) int { return cmp.Compare(b.Lost, a.Lost) })
	more := max(0, len(out)-htmlMaxObservers)
	return out[:min(len(out), htmlMaxObservers)], more
}

// legend names the three states of a leg, drawn as the path pictures
// draw them.
type legend struct {
	Legs []leg
}

func buildLegend() legend {
	return legend{Legs: []leg{
		{State: "seen", Label: "seen by this observer"},
		{State: "missing", Label: "missing: not seen here"},
		{State: "connonly", Label: "recorded, direction not logged (connection-only observer)"},
	}}
}
