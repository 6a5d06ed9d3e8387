package correlate

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/go-cmp/cmp"

	"github.com/flowsym/flowsym/internal/memtest"
	"github.com/flowsym/flowsym/normalize/schema"
)

var update = flag.Bool("update", false, "rewrite the expected output of scenario files")

// A scenario file holds cases, each a topology, records in a compact text
// form, and the findings expected (rewritten by -update):
//
//	=== name
//	--- options
//	udp
//	--- topology
//	<YAML>
//	--- records
//	aws eni-1 10:00:00-10:01:00 10.1.5.5:40001 > 93.184.216.34:443 tcp pkts=3 flags=2 dir=egress
//	--- findings
//	<rendered result>
//
// A record line is: cloud, observer, time range (HH:MM:SS on 2026-11-20,
// UTC), source, ">", destination, protocol (tcp, udp, icmp or a number),
// then key=value options: pkts, rev (packets the other way: a two-way
// tuple), flags, dir (ingress/egress), action (reject), status (nodata,
// skipdata), state (begin, continuing, end, denied), psrc and pdst (original
// packet addresses), nat (translated address), kind (log kind), resource,
// connonly, sampled, subnet, network, obj, line.
type scenario struct {
	name     string
	udp      bool
	topology string
	records  []string
	findings string
}

func TestScenarios(t *testing.T) {
	files, _ := filepath.Glob("../testdata/correlate/*.txt")
	if len(files) == 0 {
		t.Fatal("no scenario files")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cases := parseScenarios(t, string(data))
			changed := false
			for _, sc := range cases {
				t.Run(sc.name, func(t *testing.T) {
					got := runScenario(t, sc, 2)
					// Batches of every row at once too: the correlator
					// caches by dictionary index within a batch.
					if whole := runScenario(t, sc, len(sc.records)); whole != got {
						t.Errorf("findings differ with one batch (-two rows a batch +one batch):\n%s", cmp.Diff(got, whole))
					}
					if *update {
						changed = changed || got != sc.findings
						sc.findings = got
						return
					}
					if diff := cmp.Diff(sc.findings, got); diff != "" {
						t.Errorf("findings (-want +got):\n%s", diff)
					}
				})
			}
			if *update && changed {
				if err := os.WriteFile(file, []byte(renderScenarios(cases)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func parseScenarios(t *testing.T, text string) []*scenario {
	var out []*scenario
	var cur *scenario
	section := ""
	var body strings.Builder
	flush := func() {
		if cur == nil {
			return
		}
		switch section {
		case "topology":
			cur.topology = body.String()
		case "findings":
			cur.findings = strings.TrimRight(body.String(), "\n") + "\n"
		}
		body.Reset()
	}
	for _, line := range strings.SplitAfter(text, "\n") {
		trimmed := strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(trimmed, "=== "):
			flush()
			cur = &scenario{name: strings.TrimPrefix(trimmed, "=== ")}
			out = append(out, cur)
			section = ""
		case strings.HasPrefix(trimmed, "--- "):
			flush()
			section = strings.TrimPrefix(trimmed, "--- ")
		case cur == nil:
		case section == "options":
			if strings.TrimSpace(trimmed) == "udp" {
				cur.udp = true
			}
		case section == "records":
			if s := strings.TrimSpace(trimmed); s != "" && !strings.HasPrefix(s, "#") {
				cur.records = append(cur.records, s)
			}
		default:
			body.WriteString(line)
		}
	}
	flush()
	if len(out) == 0 {
		t.Fatal("no cases")
	}
	return out
}

func renderScenarios(cases []*scenario) string {
	var sb strings.Builder
	for i, sc := range cases {
		if i > 0 {
			sb.WriteString("\n")
		}
		fmt.Fprintf(&sb, "=== %s\n", sc.name)
		if sc.udp {
			sb.WriteString("--- options\nudp\n")
		}
		if sc.topology != "" {
			sb.WriteString("--- topology\n" + sc.topology)
		}
		sb.WriteString("--- records\n")
		for _, r := range sc.records {
			sb.WriteString(r + "\n")
		}
		sb.WriteString("--- findings\n" + strings.TrimRight(sc.findings, "\n") + "\n")
	}
	return sb.String()
}

func runScenario(t *testing.T, sc *scenario, batchRows int) string {
	t.Helper()
	topo := Empty()
	if strings.TrimSpace(sc.topology) != "" {
		var err error
		if topo, err = Load("topology", []byte(sc.topology)); err != nil {
			t.Fatal(err)
		}
	}
	c := New(Options{Topology: topo, UDP: sc.udp})
	mem := memtest.Poisoned()
	defer mem.AssertSize(t, 0)
	b := schema.NewBuilder(mem, batchRows, func(rec arrow.RecordBatch) error { return c.Add(rec) })
	for i, line := range sc.records {
		if err := stageRecord(b, line, i+1); err != nil {
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
	res, err := c.Result()
	if err != nil {
		t.Fatal(err)
	}
	return renderResult(res)
}

// renderResult is the text form scenario files expect.
func renderResult(r *Result) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "connections=%d insufficient=%d outside_legs=%d\n", r.Connections, r.Insufficient, r.OutsideLegs)
	for _, f := range r.Findings {
		fmt.Fprintf(&sb, "%s %s reason=%q confidence=%s proto=%d %s -> %s %s..%s\n", f.Kind, f.Severity, f.Reason, f.Confidence,
			f.Protocol, f.Client, f.Server, f.FirstSeen[11:19], f.LastSeen[11:19])
		for _, o := range f.Observers {
			fmt.Fprintf(&sb, "  %s (%s, %s) forward=%v reverse=%v records=%d\n", o.Name, o.ID, o.Role, o.Forward, o.Reverse, o.Records)
		}
		fmt.Fprintf(&sb, "  detail: %s\n", f.Detail)
		var ev []string
		for _, e := range f.Evidence {
			ev = append(ev, fmt.Sprintf("%s:%d", e.Object, e.Line))
		}
		fmt.Fprintf(&sb, "  evidence: %s\n", strings.Join(ev, " "))
	}
	return sb.String()
}

var day = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// stageRecord parses one record line into the builder.
func stageRecord(b *schema.Builder, line string, n int) error {
	f := strings.Fields(line)
	if len(f) < 7 || f[4] != ">" {
		return fmt.Errorf("want: cloud observer from-to src > dst proto [k=v...]")
	}
	cloud, obs := f[0], f[1]
	kinds := map[string]string{"aws": "aws-vpc", "gcp": "gcp-vpc", "azure": "azure-vnet"}
	b.Str(schema.Cloud, cloud)
	b.Str(schema.LogKind, kinds[cloud])
	b.Str(schema.Observer, obs)
	from, to, _ := strings.Cut(f[2], "-")
	for _, p := range []struct {
		c schema.Col
		s string
	}{{schema.StartTime, from}, {schema.EndTime, to}} {
		tm, err := time.Parse("15:04:05", p.s)
		if err != nil {
			return err
		}
		b.Time(p.c, day.Add(tm.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC))).UnixMicro())
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
	protos := map[string]int64{"tcp": 6, "udp": 17, "icmp": 1}
	if p, ok := protos[f[6]]; ok {
		b.Int(schema.Protocol, p)
	} else if p, err := strconv.Atoi(f[6]); err == nil {
		b.Int(schema.Protocol, int64(p))
	}
	b.Str(schema.SourceObject, cloud+".log")
	b.Int(schema.SourceLine, int64(n))
	for _, kv := range f[7:] {
		k, val, _ := strings.Cut(kv, "=")
		if err := setOption(b, k, val); err != nil {
			return fmt.Errorf("%s: %w", kv, err)
		}
	}
	return nil
}

func setOption(b *schema.Builder, k, val string) error {
	num := func(c schema.Col) error {
		n, err := strconv.ParseInt(val, 10, 64)
		b.Int(c, n)
		return err
	}
	addr := func(c schema.Col) error {
		a, err := netip.ParseAddr(val)
		b.Addr(c, a)
		return err
	}
	str := map[string]schema.Col{"dir": schema.Direction, "action": schema.Action, "status": schema.LogStatus,
		"state": schema.FlowState, "kind": schema.LogKind, "resource": schema.ResourceID, "subnet": schema.Subnet,
		"network": schema.Network, "obj": schema.SourceObject, "instance": schema.Instance}
	if c, ok := str[k]; ok {
		b.Str(c, val)
		return nil
	}
	switch k {
	case "pkts":
		return num(schema.Packets)
	case "rev":
		return num(schema.RevPackets)
	case "flags":
		return num(schema.TCPFlags)
	case "line":
		return num(schema.SourceLine)
	case "psrc":
		return addr(schema.PktSrcAddr)
	case "pdst":
		return addr(schema.PktDstAddr)
	case "nat":
		return addr(schema.NATAddr)
	case "connonly":
		b.Bool(schema.ConnectionOnly, true)
	case "sampled":
		b.Bool(schema.Sampled, true)
	default:
		return fmt.Errorf("unknown option %q", k)
	}
	return nil
}
