package report

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/flowsym/flowsym/correlate"
	"github.com/flowsym/flowsym/normalize/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// estateTopology and estateRecords are a small estate with one finding of
// every kind, a connection-only Cloud NAT, a coverage gap and a connection
// that lacked coverage to judge. Record lines read: cloud, observer, time
// range on 2026-11-20 UTC, source > destination, protocol, key=value.
const estateTopology = `
approved_egress_ips: [52.10.1.1]
observers:
  - {name: fw, role: inspection, match: {interfaces: [eni-fw*]}}
  - {name: legacy-nat, role: nat, approved: false, match: {interfaces: [eni-bad]}}
  - {name: k8s-prod, role: spoke, match: {cidrs: [10.1.0.0/16]}}
  - {name: gcp-nat, role: nat, match: {nat_gateways: [hub-nat]}}
  - {name: gke, role: spoke, match: {cidrs: [10.10.0.0/16]}}
  - {name: db, role: spoke, match: {cidrs: [10.2.0.0/16]}}
`

var estateRecords = []string{
	// Healthy: both ways at the spoke and the firewall.
	"aws eni-pod 10:00:00-10:01:00 10.1.5.5:40001 > 93.184.216.34:443 tcp pkts=12 flags=3 dir=egress",
	"aws eni-pod 10:00:00-10:01:00 93.184.216.34:443 > 10.1.5.5:40001 tcp pkts=10 flags=19 dir=ingress",
	"aws eni-fwa 10:00:00-10:01:00 10.1.5.5:40001 > 93.184.216.34:443 tcp pkts=12 flags=3 dir=ingress",
	"aws eni-fwa 10:00:00-10:01:00 93.184.216.34:443 > 10.1.5.5:40001 tcp pkts=10 flags=19 dir=egress",
	// Asymmetric: the reply bypassed the firewall.
	"aws eni-pod 10:00:00-10:01:00 10.1.5.5:40002 > 93.184.216.34:443 tcp pkts=12 flags=3 dir=egress",
	"aws eni-pod 10:00:10-10:01:00 93.184.216.34:443 > 10.1.5.5:40002 tcp pkts=10 flags=19 dir=ingress",
	"aws eni-fwa 10:00:05-10:01:00 10.1.5.5:40002 > 93.184.216.34:443 tcp pkts=12 flags=3 dir=ingress",
	// Asymmetric split across two firewall instances.
	"aws eni-pod 10:05:00-10:06:00 10.1.5.5:40003 > 93.184.216.34:443 tcp pkts=12 flags=3 dir=egress",
	"aws eni-pod 10:05:00-10:06:00 93.184.216.34:443 > 10.1.5.5:40003 tcp pkts=10 flags=19 dir=ingress",
	"aws eni-fwa 10:05:00-10:06:00 10.1.5.5:40003 > 93.184.216.34:443 tcp pkts=12 flags=3 dir=ingress",
	"aws eni-fwb 10:05:00-10:06:00 93.184.216.34:443 > 10.1.5.5:40003 tcp pkts=10 flags=19 dir=ingress",
	// The firewall covers 10:10 to 10:20 with no traffic of its own.
	"aws eni-fwa 10:10:00-10:20:00 - > - 0 status=nodata",
	// hub_bypass: straight to the internet while the firewall covered.
	"aws eni-pod 10:12:00-10:13:00 10.1.5.5:40006 > 93.184.216.34:443 tcp pkts=12 flags=3 dir=egress",
	"aws eni-pod 10:12:00-10:13:00 93.184.216.34:443 > 10.1.5.5:40006 tcp pkts=10 flags=19 dir=ingress",
	// unapproved_nat (and hub_bypass): through a NAT that is not approved.
	"aws eni-pod 10:15:00-10:16:00 10.1.5.5:40010 > 93.184.216.34:443 tcp pkts=12 flags=3 dir=egress",
	"aws eni-pod 10:15:00-10:16:00 93.184.216.34:443 > 10.1.5.5:40010 tcp pkts=10 flags=19 dir=ingress",
	"aws eni-bad 10:15:00-10:16:00 10.1.5.5:40010 > 10.3.0.9:443 tcp pkts=12 flags=3 dir=ingress pdst=93.184.216.34",
	"aws eni-bad 10:15:00-10:16:00 10.3.0.9:443 > 10.1.5.5:40010 tcp pkts=10 flags=19 dir=egress psrc=93.184.216.34",
	// one_way: a database that never answered.
	"aws eni-pod 10:20:00-10:21:00 10.1.5.5:40020 > 10.2.0.9:5432 tcp pkts=3 flags=2 dir=egress",
	// unapproved_nat egress_ip in GCP, through the connection-only Cloud NAT.
	"gcp gke-node-1 10:30:00-10:30:05 10.10.0.5:40030 > 93.184.216.34:443 tcp pkts=40 dir=egress sampled",
	"gcp gke-node-1 10:30:00-10:30:05 93.184.216.34:443 > 10.10.0.5:40030 tcp pkts=30 dir=ingress sampled",
	"gcp hub-nat 10:30:01-10:30:01 10.10.0.5:40030 > 93.184.216.34:443 tcp kind=gcp-nat connonly nat=34.120.0.10",
	// A SKIPDATA hole at the second firewall instance: the connection
	// through it then lacked coverage to judge.
	"aws eni-fwb 10:40:00-10:42:00 - > - 0 status=skipdata",
	"aws eni-pod 10:40:00-10:41:00 10.1.5.5:40040 > 93.184.216.34:443 tcp pkts=12 flags=3 dir=egress",
	"aws eni-pod 10:40:00-10:41:00 93.184.216.34:443 > 10.1.5.5:40040 tcp pkts=10 flags=19 dir=ingress",
	"aws eni-fwb 10:40:00-10:41:00 10.1.5.5:40040 > 93.184.216.34:443 tcp pkts=12 flags=3 dir=ingress",
	// Asymmetric east-west, spoke to spoke: the server's interface is
	// drawn at the server's end of the path.
	"aws eni-pod 10:50:00-10:51:00 10.1.5.5:40050 > 10.2.0.9:5432 tcp pkts=12 flags=3 dir=egress",
	"aws eni-pod 10:50:00-10:51:00 10.2.0.9:5432 > 10.1.5.5:40050 tcp pkts=10 flags=19 dir=ingress",
	"aws eni-fwa 10:50:00-10:51:00 10.1.5.5:40050 > 10.2.0.9:5432 tcp pkts=12 flags=3 dir=ingress",
	"aws eni-db 10:50:00-10:51:00 10.1.5.5:40050 > 10.2.0.9:5432 tcp pkts=12 flags=3 dir=ingress",
	"aws eni-db 10:50:00-10:51:00 10.2.0.9:5432 > 10.1.5.5:40050 tcp pkts=10 flags=19 dir=egress",
}

// estate correlates the estate's records.
func estate(t testing.TB) *correlate.Result {
	t.Helper()
	return correlateLines(t, estateTopology, estateRecords)
}

func correlateLines(t testing.TB, topology string, lines []string) *correlate.Result {
	t.Helper()
	topo, err := correlate.Load("topology", []byte(topology))
	if err != nil {
		t.Fatal(err)
	}
	c := correlate.New(correlate.Options{Topology: topo})
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := schema.NewBuilder(mem, 64, func(rec arrow.RecordBatch) error { return c.Add(rec) })
	for i, line := range lines {
		if err := stageLine(b, line, i+1); err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	b.Release()
	r, err := c.Result()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var estateDay = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// stageLine stages one record line (the form of correlate's scenario files,
// with fewer options).
func stageLine(b *schema.Builder, line string, n int) error {
	f := strings.Fields(line)
	if len(f) < 7 || f[4] != ">" {
		return fmt.Errorf("want: cloud observer from-to src > dst proto [k=v...]")
	}
	cloud, obs := f[0], f[1]
	b.Str(schema.Cloud, cloud)
	b.Str(schema.LogKind, map[string]string{"aws": "aws-vpc", "gcp": "gcp-vpc", "azure": "azure-vnet"}[cloud])
	b.Str(schema.Observer, obs)
	from, to, _ := strings.Cut(f[2], "-")
	for c, s := range map[schema.Col]string{schema.StartTime: from, schema.EndTime: to} {
		tm, err := time.Parse("15:04:05", s)
		if err != nil {
			return err
		}
		b.Time(c, estateDay.Add(tm.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC))).UnixMicro())
	}
	for _, p := range []struct {
		addr, port schema.Col
		s          string
	}{{schema.SrcAddr, schema.SrcPort, f[3]}, {schema.DstAddr, schema.DstPort, f[5]}} {
		if p.s == "-" {
			continue
		}
		ap, err := netip.ParseAddrPort(p.s)
		if err != nil {
			return err
		}
		b.Addr(p.addr, ap.Addr())
		b.Int(p.port, int64(ap.Port()))
	}
	if p, ok := map[string]int64{"tcp": 6, "udp": 17, "icmp": 1}[f[6]]; ok {
		b.Int(schema.Protocol, p)
	}
	b.Str(schema.SourceObject, fmt.Sprintf("%s/2026/11/20/%s.log.gz", cloud, obs))
	b.Int(schema.SourceLine, int64(n))
	for _, kv := range f[7:] {
		k, v, _ := strings.Cut(kv, "=")
		var err error
		switch k {
		case "pkts", "rev", "flags":
			var x int64
			x, err = strconv.ParseInt(v, 10, 64)
			b.Int(map[string]schema.Col{"pkts": schema.Packets, "rev": schema.RevPackets, "flags": schema.TCPFlags}[k], x)
		case "dir", "status", "kind":
			b.Str(map[string]schema.Col{"dir": schema.Direction, "status": schema.LogStatus, "kind": schema.LogKind}[k], v)
		case "psrc", "pdst", "nat":
			var a netip.Addr
			a, err = netip.ParseAddr(v)
			b.Addr(map[string]schema.Col{"psrc": schema.PktSrcAddr, "pdst": schema.PktDstAddr, "nat": schema.NATAddr}[k], a)
		case "connonly":
			b.Bool(schema.ConnectionOnly, true)
		case "sampled":
			b.Bool(schema.Sampled, true)
		default:
			err = fmt.Errorf("unknown option %q", k)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", kv, err)
		}
	}
	return nil
}

func estateSummary() Summary {
	return Summary{Objects: 7, Bytes: 4096, Problems: "2 lines not parsed in 1 object"}
}

func renderHTML(t testing.TB, r *correlate.Result, s Summary) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := HTML(&buf, r, s); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func parseHTML(t testing.TB, page []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	return slices.Contains(strings.Fields(attr(n, "class")), class)
}

// findAll returns the elements under n, in document order, that match.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			out = append(out, d)
		}
	}
	return out
}

// pathPicture finds the path picture of the finding of kind for client.
func pathPicture(t *testing.T, doc *html.Node, kind, client string) *html.Node {
	t.Helper()
	svgs := findAll(doc, func(n *html.Node) bool {
		return n.Data == "svg" && hasClass(n, "path") && attr(n, "data-kind") == kind && attr(n, "data-client") == client
	})
	if len(svgs) != 1 {
		t.Fatalf("%d path pictures of %s %s, want 1", len(svgs), kind, client)
	}
	return svgs[0]
}

// legs describes a path picture: per observer box in drawing order, its
// name, classes and the state of its forward and reverse legs.
func legs(svg *html.Node) []string {
	var out []string
	for _, g := range findAll(svg, func(n *html.Node) bool { return n.Data == "g" && hasClass(n, "observer") }) {
		s := attr(g, "data-name") + " [" + attr(g, "class") + "]"
		for _, l := range findAll(g, func(n *html.Node) bool { return n.Data == "g" && hasClass(n, "leg") }) {
			s += " " + attr(l, "data-dir") + "=" + strings.TrimPrefix(attr(l, "class"), "leg ")
		}
		out = append(out, s)
	}
	return out
}

func TestHTMLPathPictures(t *testing.T) {
	r := estate(t)
	doc := parseHTML(t, renderHTML(t, r, estateSummary()))
	for _, tc := range []struct {
		name, kind, client string
		want               []string
	}{
		{
			// The known asymmetric connection: the reply bypassed the
			// firewall, so its reverse leg there is drawn missing.
			name: "reply bypassed the firewall", kind: "asymmetric", client: "10.1.5.5:40002",
			want: []string{
				"k8s-prod [observer] forward=seen reverse=seen",
				"fw [observer] forward=seen reverse=missing",
			},
		},
		{
			name: "east-west: the server's spoke at the server's end", kind: "asymmetric", client: "10.1.5.5:40050",
			want: []string{
				"k8s-prod [observer] forward=seen reverse=seen",
				"fw [observer] forward=seen reverse=missing",
				"db [observer] forward=seen reverse=seen",
			},
		},
		{
			name: "split across two firewall instances", kind: "asymmetric", client: "10.1.5.5:40003",
			want: []string{
				"k8s-prod [observer] forward=seen reverse=seen",
				"fw [observer] forward=seen reverse=missing",
				"fw [observer] forward=missing reverse=seen",
			},
		},
		{
			// The approved firewall covered the span and recorded nothing:
			// drawn as a bypassed hub with both legs missing.
			name: "hub bypass draws the bypassed hub", kind: "hub_bypass", client: "10.1.5.5:40006",
			want: []string{
				"k8s-prod [observer] forward=seen reverse=seen",
				"fw [observer bypassed] forward=missing reverse=missing",
			},
		},
		{
			name: "a NAT that is not approved", kind: "unapproved_nat", client: "10.1.5.5:40010",
			want: []string{
				"k8s-prod [observer] forward=seen reverse=seen",
				"legacy-nat [observer unapproved] forward=seen reverse=seen",
			},
		},
		{
			name: "one way: no reply anywhere", kind: "one_way", client: "10.1.5.5:40020",
			want: []string{"k8s-prod [observer] forward=seen reverse=missing"},
		},
		{
			// Cloud NAT records connections, not directions.
			name: "connection-only Cloud NAT", kind: "unapproved_nat", client: "10.10.0.5:40030",
			want: []string{
				"gke [observer] forward=seen reverse=seen",
				"gcp-nat [observer connonly] forward=connonly reverse=connonly",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := legs(pathPicture(t, doc, tc.kind, tc.client))
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("path picture (-got, +want):\n%s", diff)
			}
		})
	}
}

// TestHTMLNoDirection: records that show no direction (an Azure begin
// tuple) are evidence of neither direction, so neither leg is drawn
// missing, even when the result does not list the observer.
func TestHTMLNoDirection(t *testing.T) {
	r := manyFindings(1)
	r.Findings[0].Observers[1].Forward, r.Findings[0].Observers[1].Reverse = false, false
	doc := parseHTML(t, renderHTML(t, r, Summary{}))
	got := legs(pathPicture(t, doc, r.Findings[0].Kind, r.Findings[0].Client))
	want := []string{"spoke-0 [observer] forward=seen reverse=seen", "fw [observer connonly] forward=connonly reverse=connonly"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("path picture (-got, +want):\n%s", diff)
	}
}

// TestHTMLWidePath: a connection many observers recorded draws the first
// ten along the path and says how many it left out.
func TestHTMLWidePath(t *testing.T) {
	r := manyFindings(1)
	f := &r.Findings[0]
	for i := range 10 {
		f.Observers = append(f.Observers, correlate.FindingObserver{Name: fmt.Sprintf("tgw-%d", i), ID: "tgw-attach-" + strconv.Itoa(i),
			Role: correlate.RoleTransit, Forward: true, Records: 1})
		f.Timeline = append(f.Timeline, f.Timeline[0])
	}
	page := renderHTML(t, r, Summary{})
	got := legs(pathPicture(t, parseHTML(t, page), f.Kind, f.Client))
	if len(got) != htmlMaxPathNodes {
		t.Errorf("%d observers drawn, want %d", len(got), htmlMaxPathNodes)
	}
	if !bytes.Contains(page, []byte("… 2 more observers")) {
		t.Error("no count of the observers left out")
	}
}

func TestHTMLSections(t *testing.T) {
	r := estate(t)
	if r.Insufficient == 0 {
		t.Fatal("the estate should have a connection that lacked coverage")
	}
	page := renderHTML(t, r, estateSummary())
	doc := parseHTML(t, page)
	byID := func(id string) *html.Node {
		n := findAll(doc, func(n *html.Node) bool { return attr(n, "id") == id })
		if len(n) != 1 {
			t.Fatalf("%d elements with id %q, want 1", len(n), id)
		}
		return n[0]
	}
	for _, id := range []string{"summary", "findings", "charts", "connections", "coverage", "observers", "legend"} {
		byID(id)
	}
	if got := len(findAll(doc, func(n *html.Node) bool { return n.Data == "article" && hasClass(n, "finding") })); got != len(r.Findings) {
		t.Errorf("%d finding cards, want %d", got, len(r.Findings))
	}
	for _, class := range []string{"over-time", "by-observer"} {
		if len(findAll(doc, func(n *html.Node) bool { return n.Data == "svg" && hasClass(n, class) })) != 1 {
			t.Errorf("no %s chart", class)
		}
	}
	// Every finding with a timeline draws one row per observer.
	for _, f := range r.Findings {
		svg := pathPicture(t, doc, f.Kind, f.Client)
		card := svg.Parent.Parent
		rows := findAll(card, func(n *html.Node) bool { return n.Data == "g" && hasClass(n, "tl-row") })
		if len(rows) != len(f.Observers) {
			t.Errorf("%s %s: %d timeline rows, want %d", f.Kind, f.Client, len(rows), len(f.Observers))
		}
		ev := findAll(card, func(n *html.Node) bool {
			return n.Data == "code" && n.Parent.Parent != nil && hasClass(n.Parent.Parent, "evidence")
		})
		if len(ev) != len(f.Evidence) {
			t.Errorf("%s %s: %d evidence items, want %d", f.Kind, f.Client, len(ev), len(f.Evidence))
		}
	}
	gaps := findAll(byID("coverage"), func(n *html.Node) bool { return n.Data == "tr" && attr(n, "data-observer") != "" })
	if len(gaps) != 1 || attr(gaps[0], "data-observer") != "aws/eni-fwb" {
		t.Errorf("coverage gaps: want one row for aws/eni-fwb, got %d", len(gaps))
	}
	for _, want := range []string{"2026-11-20 10:00:00 to 10:51:00 UTC", "2 lines not parsed in 1 object", "aws/2026/11/20/eni-fwa.log.gz:"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestHTMLSelfContained checks that the page fetches nothing: no script,
// no external style sheet, and no URL with a scheme or a host in any
// attribute a browser loads from.
func TestHTMLSelfContained(t *testing.T) {
	for name, r := range map[string]*correlate.Result{"estate": estate(t), "many": manyFindings(300)} {
		t.Run(name, func(t *testing.T) {
			page := renderHTML(t, r, estateSummary())
			doc := parseHTML(t, page)
			for _, n := range findAll(doc, func(*html.Node) bool { return true }) {
				switch n.Data {
				case "script", "iframe", "object", "embed", "img", "video", "audio", "image", "use", "foreignObject":
					t.Errorf("element <%s> in the page", n.Data)
				case "link":
					if attr(n, "rel") != "icon" || attr(n, "href") != "data:," {
						t.Errorf("link %v in the page", n.Attr)
					}
				}
				for _, a := range n.Attr {
					switch strings.TrimPrefix(a.Key, "xlink:") {
					case "src", "href", "srcset", "action", "poster", "data", "background":
						v := strings.TrimSpace(a.Val)
						if strings.Contains(v, "://") || strings.HasPrefix(v, "//") || !(strings.HasPrefix(v, "#") || v == "data:,") {
							t.Errorf("<%s %s=%q> may fetch", n.Data, a.Key, a.Val)
						}
					}
					if strings.HasPrefix(a.Key, "on") {
						t.Errorf("<%s %s> runs script", n.Data, a.Key)
					}
				}
			}
			for _, bad := range []string{"http://", "https://", "@import", "url("} {
				if bytes.Contains(page, []byte(bad)) {
					t.Errorf("page contains %q", bad)
				}
			}
		})
	}
}

// TestHTMLBalanced checks that every element the template opens is closed
// in order: html.Parse repairs any markup, so it would hide a template slip.
func TestHTMLBalanced(t *testing.T) {
	void := map[string]bool{"meta": true, "link": true, "br": true, "hr": true, "img": true, "input": true, "col": true, "wbr": true}
	for name, r := range map[string]*correlate.Result{"estate": estate(t), "empty": {ByKind: map[string]int{}}, "many": manyFindings(120)} {
		t.Run(name, func(t *testing.T) {
			z := html.NewTokenizer(bytes.NewReader(renderHTML(t, r, estateSummary())))
			var stack []string
			inSVG := 0
			for {
				tt := z.Next()
				if tt == html.ErrorToken {
					break
				}
				tok := z.Token()
				switch tt {
				case html.StartTagToken:
					if tok.Data == "svg" {
						inSVG++
					}
					if !void[tok.Data] {
						stack = append(stack, tok.Data)
					}
				case html.SelfClosingTagToken:
					if inSVG == 0 && !void[tok.Data] {
						t.Errorf("self-closing <%s/> outside SVG", tok.Data)
					}
				case html.EndTagToken:
					if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
						t.Fatalf("</%s> closes %v", tok.Data, stack)
					}
					stack = stack[:len(stack)-1]
					if tok.Data == "svg" {
						inSVG--
					}
				}
			}
			if len(stack) > 0 {
				t.Errorf("unclosed elements %v", stack)
			}
		})
	}
}

func TestHTMLEscapes(t *testing.T) {
	evil := `<script>alert("x")</script>`
	r := manyFindings(1)
	r.Findings[0].Detail = evil
	r.Findings[0].Observers[0].Name = `fw"><img src=x onerror=alert(1)>`
	r.Findings[0].Evidence[0].Object = `s3://bucket/</code><script>x</script>`
	page := renderHTML(t, r, Summary{Problems: evil})
	if bytes.Contains(page, []byte("<script")) || bytes.Contains(page, []byte("<img")) {
		t.Errorf("unescaped markup from the input:\n%s", page)
	}
	doc := parseHTML(t, page)
	if n := findAll(doc, func(n *html.Node) bool { return n.Data == "script" || n.Data == "img" }); len(n) > 0 {
		t.Errorf("input became %d elements", len(n))
	}
}

func TestHTMLNoFindings(t *testing.T) {
	for name, r := range map[string]*correlate.Result{
		"nothing read": {ByKind: map[string]int{}},
		"healthy":      correlateLines(t, estateTopology, estateRecords[:4]),
	} {
		t.Run(name, func(t *testing.T) {
			page := renderHTML(t, r, Summary{})
			doc := parseHTML(t, page)
			if n := findAll(doc, func(n *html.Node) bool { return n.Data == "svg" }); len(n) != 0 {
				t.Errorf("%d pictures with no findings", len(n))
			}
			if !bytes.Contains(page, []byte(`id="no-findings"`)) {
				t.Error("no \"No findings\" message")
			}
		})
	}
}

// manyFindings builds a result of n synthetic findings over a day, without
// observers' coverage state.
func manyFindings(n int) *correlate.Result {
	r := &correlate.Result{ByKind: map[string]int{}, Connections: int64(n) * 3}
	start := estateDay.Add(8 * time.Hour)
	for i := range n {
		kind := correlate.Kinds[i%len(correlate.Kinds)]
		first := start.Add(time.Duration(i) * 17 * time.Second)
		last := first.Add(40 * time.Second)
		f := correlate.Finding{Kind: kind, Severity: "high", Protocol: 6, Cloud: "aws",
			Client: fmt.Sprintf("10.1.%d.%d:%d", i/250%250, i%250, 40000+i%20000), Server: "93.184.216.34:443",
			FirstSeen: first.Format(time.RFC3339), LastSeen: last.Format(time.RFC3339), Confidence: "high",
			Detail: "synthetic finding " + strconv.Itoa(i)}
		for j, o := range []correlate.FindingObserver{
			{Name: fmt.Sprintf("spoke-%d", i%40), ID: fmt.Sprintf("eni-%04d", i%40), Role: correlate.RoleSpoke, Forward: true, Reverse: true, Records: 2},
			{Name: "fw", ID: "eni-fwa", Role: correlate.RoleInspection, Forward: true, Reverse: i%2 == 0, Records: 1},
		} {
			f.Observers = append(f.Observers, o)
			tl := correlate.ObserverTimeline{First: first.UnixMicro(), Last: last.UnixMicro()}
			for k := range 2 {
				e := correlate.Evidence{Time: first.Add(time.Duration(k*20) * time.Second).UnixMicro(),
					Object: fmt.Sprintf("aws/flows-%d.log.gz", i), Line: int64(10*j + k + 1)}
				tl.Evidence = append(tl.Evidence, e)
				f.Evidence = append(f.Evidence, correlate.EvidenceRef{Object: e.Object, Line: e.Line})
			}
			f.Timeline = append(f.Timeline, tl)
		}
		r.ByKind[kind]++
		r.Findings = append(r.Findings, f)
	}
	if n > 0 {
		r.First = start.UnixMicro()
		r.Last = start.Add(time.Duration(n)*17*time.Second + 40*time.Second).UnixMicro()
	}
	return r
}

func TestHTMLManyFindings(t *testing.T) {
	const n = 5000
	page := renderHTML(t, manyFindings(n), Summary{})
	doc := parseHTML(t, page)
	cards := findAll(doc, func(n *html.Node) bool { return n.Data == "article" && hasClass(n, "finding") })
	if len(cards) != defaultHTMLFindings {
		t.Errorf("%d cards, want %d", len(cards), defaultHTMLFindings)
	}
	if !bytes.Contains(page, []byte("… and "+count(n-defaultHTMLFindings)+" more findings")) {
		t.Error("no count of the findings left out")
	}
	// The charts count every finding, not only the detailed ones.
	total := 0
	for _, rect := range findAll(doc, func(n *html.Node) bool {
		return n.Data == "rect" && n.Parent != nil && hasClass(n.Parent, "bucket")
	}) {
		title := rect.FirstChild.FirstChild.Data // "... (15:04): N kind"
		v, err := strconv.Atoi(strings.Fields(title[strings.LastIndex(title, ": ")+2:])[0])
		if err != nil {
			t.Fatal(err)
		}
		total += v
	}
	if total != n {
		t.Errorf("over-time chart counts %d findings, want %d", total, n)
	}
	if len(page) > 2<<20 {
		t.Errorf("page is %d bytes for %d findings; the detailed sections should be capped", len(page), n)
	}
	// Summary.MaxFindings sets the cap.
	doc = parseHTML(t, renderHTML(t, manyFindings(30), Summary{MaxFindings: 5}))
	if got := len(findAll(doc, func(n *html.Node) bool { return n.Data == "article" })); got != 5 {
		t.Errorf("MaxFindings 5: %d cards", got)
	}
}

// TestHTMLGolden compares the estate's page with
// testdata/golden/html/report.html; -update rewrites it.
func TestHTMLGolden(t *testing.T) {
	got := renderHTML(t, estate(t), estateSummary())
	golden := filepath.Join("..", "testdata", "golden", "html", "report.html")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./report -run TestHTMLGolden -update)", err)
	}
	if diff := cmp.Diff(string(got), string(want)); diff != "" {
		t.Errorf("html report (-got, +want):\n%s", diff)
	}
}

func BenchmarkHTML(b *testing.B) {
	r := manyFindings(10000)
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		if err := HTML(&buf, r, Summary{}); err != nil {
			b.Fatal(err)
		}
	}
}
