package estate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/local"
	"github.com/flowsym/flowsym/normalize"
	"github.com/flowsym/flowsym/normalize/schema"
)

// The demo estate is generated once per test binary and shared.
var demo struct {
	once  sync.Once
	dir   string
	truth *Truth
	err   error
	rows  []row
	stats decodeStats
}

func TestMain(m *testing.M) {
	code := m.Run()
	if demo.dir != "" {
		os.RemoveAll(demo.dir)
	}
	os.Exit(code)
}

// demoEstate returns the default estate, generated on first use.
func demoEstate(t testing.TB) (string, *Truth) {
	t.Helper()
	demo.once.Do(func() {
		demo.dir, demo.err = os.MkdirTemp("", "flowsym-estate-")
		if demo.err != nil {
			return
		}
		demo.truth, demo.err = Generate(context.Background(), demo.dir, Config{})
	})
	if demo.err != nil {
		t.Fatal(demo.err)
	}
	return demo.dir, demo.truth
}

// row is the part of a normalized record the tests look at.
type row struct {
	cloud, kind, observer, instance, network, mac string
	direction, action, status, state              string
	src, dst, psrc, pdst, nat                     netip.Addr
	sport, dport, proto, flags                    int
	hasFlags                                      bool
	packets, revPackets                           int64
	hasPackets, hasRev                            bool
	connOnly, sampled                             bool
	start, end                                    time.Time
	object                                        string
	line                                          int64
}

type decodeStats struct {
	records, objects int64
	problems         []string
}

// decodeDir runs the real decoder over every object under root, the way
// the CLI reads a folder, and returns every row and every problem.
func decodeDir(t testing.TB, root string) ([]row, decodeStats) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dec := normalize.NewDecoder(normalize.Options{})
	problems := normalize.NewProblems(-1, 1000)
	src := &local.Source{}
	var rows []row
	list := func(yield func(normalize.Job) error) error {
		return src.List(context.Background(), root, func(o ingest.Object) error {
			return yield(normalize.Job{Source: src, Object: o})
		})
	}
	sink := func(rec arrow.RecordBatch) error {
		v, err := schema.NewView(rec)
		if err != nil {
			return err
		}
		for i := range v.Rows() {
			rows = append(rows, rowOf(v, i))
		}
		return nil
	}
	err := dec.Run(context.Background(), normalize.RunConfig{Workers: 2, Mem: mem, Problems: problems}, list, sink)
	if err != nil {
		t.Fatalf("decode %s: %v", root, err)
	}
	st := decodeStats{records: dec.Stats.Records.Load(), objects: dec.Stats.Objects.Load()}
	for _, p := range problems.Examples() {
		st.problems = append(st.problems, p.Error())
	}
	if n := problems.Total(); n > int64(len(st.problems)) {
		st.problems = append(st.problems, fmt.Sprintf("... %d problems in all", n))
	}
	// Workers finish objects in any order; sort for stable output.
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].object != rows[j].object {
			return rows[i].object < rows[j].object
		}
		return rows[i].line < rows[j].line
	})
	return rows, st
}

func rowOf(v *schema.View, i int) row {
	str := func(c schema.Col) string { return v.Str(c, i) }
	num := func(c schema.Col) int { return int(v.Int(c, i)) }
	return row{
		cloud: str(schema.Cloud), kind: str(schema.LogKind), observer: str(schema.Observer),
		instance: str(schema.Instance), network: str(schema.Network), mac: str(schema.MAC),
		direction: str(schema.Direction), action: str(schema.Action), status: str(schema.LogStatus), state: str(schema.FlowState),
		src: v.Addr(schema.SrcAddr, i), dst: v.Addr(schema.DstAddr, i),
		psrc: v.Addr(schema.PktSrcAddr, i), pdst: v.Addr(schema.PktDstAddr, i), nat: v.Addr(schema.NATAddr, i),
		sport: num(schema.SrcPort), dport: num(schema.DstPort), proto: num(schema.Protocol),
		flags: num(schema.TCPFlags), hasFlags: !v.IsNull(schema.TCPFlags, i),
		packets: v.Int(schema.Packets, i), hasPackets: !v.IsNull(schema.Packets, i),
		revPackets: v.Int(schema.RevPackets, i), hasRev: !v.IsNull(schema.RevPackets, i),
		connOnly: !v.IsNull(schema.ConnectionOnly, i) && v.Bool(schema.ConnectionOnly, i),
		sampled:  !v.IsNull(schema.Sampled, i) && v.Bool(schema.Sampled, i),
		start:    v.Time(schema.StartTime, i), end: v.Time(schema.EndTime, i),
		object: str(schema.SourceObject), line: v.Int(schema.SourceLine, i),
	}
}

// skipMissingParsers skips a test whose objects need a parser the
// normalize package does not have yet (the decoder reports "no parser for
// <format> yet"), naming it, rather than failing on someone else's work in
// progress.
func skipMissingParsers(t testing.TB, st decodeStats) {
	t.Helper()
	for _, p := range st.problems {
		if _, after, ok := strings.Cut(p, "no parser for "); ok {
			format, _, _ := strings.Cut(after, " ")
			t.Skipf("normalize has no %s parser yet: cannot check the objects that need it (%s)", format, p)
		}
	}
}

// demoRows decodes the demo estate once.
func demoRows(t testing.TB) ([]row, decodeStats) {
	t.Helper()
	dir, _ := demoEstate(t)
	if demo.rows == nil {
		demo.rows, demo.stats = decodeDir(t, filepath.Join(dir, LogsDir))
	}
	return demo.rows, demo.stats
}

// TestDecodes runs every generated object through the real decoder, the
// way `flowsym analyze <dir>/logs` reads them: no problem of any kind, and
// the counts Truth reports.
func TestDecodes(t *testing.T) {
	_, tr := demoEstate(t)
	rows, st := demoRows(t)
	skipMissingParsers(t, st)
	if len(st.problems) > 0 {
		t.Fatalf("decoding the estate reported problems:\n%s", strings.Join(st.problems, "\n"))
	}
	if st.records != tr.Records || int64(len(rows)) != tr.Records {
		t.Errorf("decoder read %d records (%d rows), Truth says %d", st.records, len(rows), tr.Records)
	}
	if st.objects != int64(tr.Objects) {
		t.Errorf("decoder opened %d objects, Truth says %d", st.objects, tr.Objects)
	}
	kinds := map[string]int{}
	for _, r := range rows {
		kinds[r.kind]++
	}
	for _, k := range []string{normalize.KindAWSVPC, normalize.KindGCPVPC, normalize.KindGCPNAT, normalize.KindAzureVNet} {
		if kinds[k] == 0 {
			t.Errorf("no %s records", k)
		}
	}
	t.Logf("%d records in %d objects (%d bytes): %v", tr.Records, tr.Objects, tr.Bytes, kinds)
	if tr.Records < 50_000 || tr.Records > 150_000 {
		t.Errorf("the demo estate has %d records, want 50k to 150k", tr.Records)
	}
}

// TestKeyLayouts checks that every object sits where its cloud delivers
// it and that the key's dates hold the records' times, so that time
// pruning (ingest.KeySpan) never skips a needed object.
func TestKeyLayouts(t *testing.T) {
	dir, tr := demoEstate(t)
	root := filepath.Join(dir, LogsDir)
	layouts := map[string]*regexp.Regexp{
		"aws":   regexp.MustCompile(`^aws/AWSLogs/111122223333/vpcflowlogs/us-east-1/\d{4}/\d\d/\d\d/111122223333_vpcflowlogs_us-east-1_fl-[0-9a-f]{17}_\d{8}T\d{4}Z_[0-9a-f]{8}\.log\.gz$`),
		"gcp":   regexp.MustCompile(`^gcp/compute\.googleapis\.com/(vpc|nat)_flows/\d{4}/\d\d/\d\d/\d\d:00:00_\d\d:59:59_S\d+\.json$`),
		"azure": regexp.MustCompile(`^azure/insights-logs-flowlogflowevent/flowLogResourceID=/SUBSCRIPTIONS/[0-9A-F-]+/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT\.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/FL-[A-Z]+/y=\d{4}/m=\d\d/d=\d\d/h=\d\d/m=00/macAddress=[0-9A-F]{12}/PT1H\.json$`),
	}
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		cloud, _, _ := strings.Cut(rel, "/")
		if re := layouts[cloud]; re == nil || !re.MatchString(rel) {
			t.Errorf("object %s is not in its cloud's key layout", rel)
		}
		if normalize.DetectFormat(rel, nil) == normalize.FormatUnknown {
			t.Errorf("object %s: format not known from its key", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != tr.Objects {
		t.Errorf("%d files under logs, Truth says %d objects", n, tr.Objects)
	}
	rows, _ := demoRows(t)
	for _, r := range rows {
		span, ok := ingest.KeySpan(filepath.ToSlash(r.object))
		if !ok {
			t.Fatalf("%s: no date in the key", r.object)
		}
		if r.start.Before(span.Start) || !r.end.Before(span.End) {
			t.Fatalf("%s:%d: record %v..%v outside its key's span %v..%v", r.object, r.line, r.start, r.end, span.Start, span.End)
		}
	}
}

// TestAWSFiling checks the AWS rules the estate promises: each object
// holds the records whose end falls in its 5-minute slot, and every
// interface has exactly one record status line or some traffic in every
// minute (NODATA without traffic), except the injected SKIPDATA hole.
func TestAWSFiling(t *testing.T) {
	_, tr := demoEstate(t)
	rows, _ := demoRows(t)
	slot := regexp.MustCompile(`_(\d{8}T\d{4}Z)_`)
	minutes := map[string]map[int64]string{}
	for _, r := range rows {
		if r.cloud != "aws" {
			continue
		}
		m := slot.FindStringSubmatch(filepath.Base(r.object))
		st, _ := time.Parse("20060102T1504Z", m[1])
		if r.end.Before(st) || !r.end.Before(st.Add(5*time.Minute)) {
			t.Fatalf("%s:%d: end %v is not in the object's slot", r.object, r.line, r.end)
		}
		if minutes[r.observer] == nil {
			minutes[r.observer] = map[int64]string{}
		}
		k := r.start.Unix() / 60
		prev := minutes[r.observer][k]
		switch {
		case r.status == "ok" && (prev == "" || prev == "ok"):
			minutes[r.observer][k] = "ok"
		case r.status != "ok" && prev == "":
			minutes[r.observer][k] = r.status
		default:
			t.Fatalf("%s: minute %v has %s and %s", r.observer, time.Unix(k*60, 0).UTC(), prev, r.status)
		}
	}
	holes := 0
	for id, ms := range minutes {
		for m := tr.Start.Unix() / 60; m < tr.End.Unix()/60; m++ {
			switch ms[m] {
			case "":
				t.Errorf("%s logged nothing in minute %v", id, time.Unix(m*60, 0).UTC())
			case "skipdata":
				holes++
			}
		}
	}
	if want := awsHoleTo - awsHoleFrom; holes != want {
		t.Errorf("%d SKIPDATA minutes, want %d", holes, want)
	}
}

// TestTopologyFile checks flowsym.yaml against docs/topology.md: it has
// only the documented keys (strict decoding), valid roles, CIDRs,
// addresses and globs, unique names, and every observer in the logs gets
// the entry the estate means it to.
func TestTopologyFile(t *testing.T) {
	dir, _ := demoEstate(t)
	topo, err := loadTopology(filepath.Join(dir, TopologyFile))
	if err != nil {
		t.Fatalf("topology file: %v", err)
	}
	roles := map[string]bool{"spoke": true, "inspection": true, "nat": true, "proxy": true, "transit": true}
	names := map[string]bool{}
	for _, s := range append(append([]string{}, topo.PrivateCIDRs...), topo.ApprovedEgressIPs...) {
		if _, err := netip.ParsePrefix(s); err != nil {
			if _, err := netip.ParseAddr(s); err != nil {
				t.Errorf("%q is neither a CIDR nor an address", s)
			}
		}
	}
	if d, err := time.ParseDuration(topo.SessionGap); err != nil || d <= 0 {
		t.Errorf("session_gap %q", topo.SessionGap)
	}
	for _, e := range topo.Observers {
		if e.Name == "" || names[e.Name] {
			t.Errorf("missing or duplicate name %q", e.Name)
		}
		names[e.Name] = true
		if !roles[e.Role] {
			t.Errorf("%s: role %q", e.Name, e.Role)
		}
		if e.Cloud != "aws" && e.Cloud != "gcp" && e.Cloud != "azure" {
			t.Errorf("%s: cloud %q", e.Name, e.Cloud)
		}
		m := e.Match
		keys := 0
		for _, list := range [][]string{m.Interfaces, m.Attachments, m.NICs, m.Instances, m.Subnets, m.Networks, m.NATGateways, m.Resources} {
			for _, g := range list {
				keys++
				if _, err := path.Match(g, ""); err != nil {
					t.Errorf("%s: bad glob %q", e.Name, g)
				}
			}
		}
		for _, c := range m.CIDRs {
			keys++
			if _, err := netip.ParsePrefix(c); err != nil {
				t.Errorf("%s: %v", e.Name, err)
			}
		}
		if keys == 0 {
			t.Errorf("%s: empty match", e.Name)
		}
		for _, ip := range e.EgressIPs {
			if _, err := netip.ParseAddr(ip); err != nil {
				t.Errorf("%s: %v", e.Name, err)
			}
		}
	}
	// Every observer the logs name, and the entry it must fall under.
	rows, st := demoRows(t)
	skipMissingParsers(t, st)
	res := reference(topo, rows)
	want := map[string]int{"aws-hub-firewall": 2, "aws-hub-tgw": 2, "aws-hub-nat": 1, "legacy-nat": 1, "apps-nat-instance": 1,
		"k8s-prod": 6, "apps": 6, "gcp-cloud-nat": 1, "gke-prod": 7, "azure-hub-nva": 2, "azure-spoke": 6}
	got := map[string]int{}
	for _, name := range res.roles {
		got[name]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("observers per entry: got %v, want %v", got, want)
	}
	observers := map[string]bool{}
	for _, r := range rows {
		observers[r.observer] = true
	}
	for o := range observers {
		if res.roles[o] == "" {
			t.Errorf("observer %s matches no entry", o)
		}
	}
}

// TestTruthAgainstReference checks the ground truth against the logs
// themselves: a reference correlator written from ANALYSIS.md alone
// (reference_test.go) reads the decoded rows and the topology file, and
// must find exactly the findings of truth.jsonl, the insufficient
// coverage count, and the connection and outside-leg counts of Truth.
func TestTruthAgainstReference(t *testing.T) {
	dir, tr := demoEstate(t)
	topo, err := loadTopology(filepath.Join(dir, TopologyFile))
	if err != nil {
		t.Fatal(err)
	}
	rows, st := demoRows(t)
	skipMissingParsers(t, st)
	res := reference(topo, rows)
	want := map[string]bool{}
	for _, f := range readTruth(t, filepath.Join(dir, TruthFile)) {
		k := fmt.Sprintf("%s/%s %d %s %s", f.Kind, f.Reason, f.Protocol, f.Client, f.Server)
		if f.UDPOnly {
			k += " udp"
		}
		want[k] = true
	}
	for k := range res.findings {
		if !want[k] {
			t.Errorf("the logs raise %s, which truth.jsonl lacks", k)
		}
	}
	for k := range want {
		if !res.findings[k] {
			t.Errorf("truth.jsonl lists %s, which the logs do not raise", k)
		}
	}
	if res.insufficient != tr.InsufficientCoverage {
		t.Errorf("insufficient coverage: the logs give %d, Truth says %d", res.insufficient, tr.InsufficientCoverage)
	}
	if int64(res.connections) != tr.Connections || int64(res.outsideLegs) != tr.OutsideLegs {
		t.Errorf("the logs hold %d connections (%d outside legs), Truth says %d (%d)", res.connections, res.outsideLegs, tr.Connections, tr.OutsideLegs)
	}
}

// TestTruthContent checks that the scripted faults cover every kind and
// reason in every cloud that can show it.
func TestTruthContent(t *testing.T) {
	dir, tr := demoEstate(t)
	got := map[string]int{}
	for _, f := range readTruth(t, filepath.Join(dir, TruthFile)) {
		got[f.Cloud+" "+f.Kind+"/"+f.Reason]++
		if f.FirstSeen.After(f.LastSeen) || f.FirstSeen.Before(tr.Start) || !f.LastSeen.Before(tr.End) {
			t.Errorf("%+v: bad time span", f)
		}
	}
	for _, k := range []string{
		"aws one_way/no_reply", "aws one_way/rejected", "aws asymmetric/", "aws asymmetric/split", "aws hub_bypass/",
		"aws unapproved_nat/unapproved_observer", "aws unapproved_nat/double_nat", "aws unapproved_nat/egress_ip",
		"gcp one_way/no_reply", "gcp one_way/rejected", "gcp hub_bypass/", "gcp unapproved_nat/egress_ip",
		"azure one_way/no_reply", "azure one_way/rejected", "azure asymmetric/", "azure asymmetric/split", "azure hub_bypass/",
	} {
		if got[k] == 0 {
			t.Errorf("no %s fault", k)
		}
	}
	if tr.InsufficientCoverage != 2 {
		t.Errorf("insufficient coverage %d, want 2 (the SKIPDATA hole and the GCP quiet period)", tr.InsufficientCoverage)
	}
	var summary Truth
	data, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &summary); err != nil {
		t.Fatal(err)
	}
	if summary.Records != tr.Records || summary.InsufficientCoverage != tr.InsufficientCoverage || len(summary.Exceptions) != len(tr.Exceptions) {
		t.Errorf("summary file %+v does not match Truth", summary)
	}
}

func readTruth(t testing.TB, file string) []Finding {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []Finding
	for line := range bytes.Lines(data) {
		var f Finding
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			t.Fatalf("truth line %q: %v", line, err)
		}
		out = append(out, f)
	}
	return out
}

// TestDeterministic: the same Config gives byte-identical files; another
// seed a different estate.
func TestDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("generates two more estates")
	}
	dir, _ := demoEstate(t)
	again := t.TempDir()
	if _, err := Generate(context.Background(), again, Config{}); err != nil {
		t.Fatal(err)
	}
	a, b := treeDigest(t, dir), treeDigest(t, again)
	if len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for name, sum := range a {
		if b[name] != sum {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	other := t.TempDir()
	if _, err := Generate(context.Background(), other, Config{Seed: 7}); err != nil {
		t.Fatal(err)
	}
	if c := treeDigest(t, other); c[TruthFile] == a[TruthFile] {
		t.Error("seed 7 gave the same truth as seed 0")
	}
}

func treeDigest(t testing.TB, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = fmt.Sprintf("%x", sha256.Sum256(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestScaleKnobs generates a short production-shaped estate (no scripted
// faults; random one-way flows and scans; objects split by size) and
// checks it against the reference too.
func TestScaleKnobs(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a larger estate")
	}
	dir := t.TempDir()
	// Starting at 10:53 crosses an hour (new GCS shards and Azure blobs)
	// and AWS slots not aligned with the start.
	cfg := Config{Seed: 3, Start: DefaultStart.Add(53 * time.Minute), Duration: 20 * time.Minute, Scale: 60, NoScripted: true,
		OneWayShare: 0.02, RejectShare: 0.01, IPv6Share: 0.2, ObjectRecords: 5000}
	tr, err := Generate(context.Background(), dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rows, st := decodeDir(t, filepath.Join(dir, LogsDir))
	skipMissingParsers(t, st)
	if len(st.problems) > 0 {
		t.Fatalf("problems:\n%s", strings.Join(st.problems, "\n"))
	}
	if st.records != tr.Records || st.objects != int64(tr.Objects) {
		t.Errorf("decoded %d records in %d objects, Truth says %d in %d", st.records, st.objects, tr.Records, tr.Objects)
	}
	if tr.ByKind["one_way"] < 20 {
		t.Errorf("only %d random one_way findings", tr.ByKind["one_way"])
	}
	topo, err := loadTopology(filepath.Join(dir, TopologyFile))
	if err != nil {
		t.Fatal(err)
	}
	res := reference(topo, rows)
	if len(res.findings) != len(tr.Findings) || res.insufficient != 0 || int64(res.connections) != tr.Connections {
		t.Errorf("reference: %d findings, %d insufficient, %d connections; Truth: %d, 0, %d",
			len(res.findings), res.insufficient, res.connections, len(tr.Findings), tr.Connections)
	}
	for _, f := range readTruth(t, filepath.Join(dir, TruthFile)) {
		if !res.findings[fmt.Sprintf("%s/%s %d %s %s", f.Kind, f.Reason, f.Protocol, f.Client, f.Server)] {
			t.Errorf("truth lists %+v, the logs do not raise it", f)
		}
	}
	t.Logf("%d records, %d objects, findings %v", tr.Records, tr.Objects, tr.ByKind)
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"short with scripted": {Duration: 30 * time.Minute},
		"too few workloads":   {Workloads: 2},
		"share above one":     {OneWayShare: 1.5},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Generate(context.Background(), t.TempDir(), cfg); err == nil {
				t.Error("no error")
			}
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Generate(ctx, t.TempDir(), Config{}); !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	})
	t.Run("existing estate", func(t *testing.T) {
		dir := t.TempDir()
		cfg := Config{NoScripted: true, Duration: time.Minute, Scale: 1}
		if _, err := Generate(context.Background(), dir, cfg); err != nil {
			t.Fatal(err)
		}
		if _, err := Generate(context.Background(), dir, cfg); err == nil {
			t.Error("wrote over an estate without Overwrite")
		}
		cfg.Overwrite = true
		if _, err := Generate(context.Background(), dir, cfg); err != nil {
			t.Error(err)
		}
	})
}

// BenchmarkGenerate measures generation throughput: the demo estate, and
// a production-shaped one (200 workloads per spoke, 2000 new connections
// per spoke per minute, IPv6, long-lived flows, 1.5% one-way, scans),
// 15 minutes of it: about 1.7 million records. Compare runs with
//
//	go test -run='^$' -bench=Generate -count=6 ./internal/estate | benchstat -
func BenchmarkGenerate(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"estate=demo", Config{}},
		{"estate=production", Config{Duration: 15 * time.Minute, Scale: 2000, Workloads: 200, NoScripted: true,
			OneWayShare: 0.015, RejectShare: 0.005, IPv6Share: 0.1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if testing.Short() && bc.cfg.Scale > 100 {
				b.Skip("large estate")
			}
			cfg := bc.cfg
			cfg.Overwrite = true
			dir := b.TempDir()
			b.ReportAllocs()
			var records, stored int64
			for b.Loop() {
				tr, err := Generate(context.Background(), dir, cfg)
				if err != nil {
					b.Fatal(err)
				}
				records += tr.Records
				stored += tr.Bytes
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(stored)/b.Elapsed().Seconds()/1e6, "MB/s")
		})
	}
}
