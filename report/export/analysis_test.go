package export

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/flowsym/flowsym/correlate"
	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/local"
	"github.com/flowsym/flowsym/internal/memtest"
	"github.com/flowsym/flowsym/internal/parquetcheck"
	"github.com/flowsym/flowsym/normalize"
	"github.com/flowsym/flowsym/normalize/schema"
)

const (
	day1 = int64(1_763_632_800_000_000) // 2025-11-20T10:00:00Z
	day2 = day1 + 86_400_000_000        // 2025-11-21T10:00:00Z
	hub  = "s3://logs/hub.log"
)

func ep(s string) correlate.Endpoint {
	ap := netip.MustParseAddrPort(s)
	return correlate.Endpoint{Addr: ap.Addr().As16(), Port: ap.Port()}
}

func observer(id, name string, role correlate.Role, entry *correlate.Entry) *correlate.Resolved {
	return &correlate.Resolved{
		Observer: &correlate.Observer{ID: correlate.ObserverID{Cloud: "aws", Kind: "aws-vpc", ID: id}, Region: "us-east-1"},
		Entry:    entry, Role: role, Name: name,
	}
}

var (
	spoke    = observer("eni-0pod1", "k8s-prod", correlate.RoleSpoke, &correlate.Entry{Name: "k8s-prod", Role: correlate.RoleSpoke, Approved: true})
	rogueNAT = observer("eni-0bad", "rogue-nat", correlate.RoleNAT, &correlate.Entry{Name: "rogue-nat", Role: correlate.RoleNAT})
	firewall = observer("eni-0fa1", "hub-firewall", correlate.RoleInspection, &correlate.Entry{Name: "hub-firewall", Role: correlate.RoleInspection, Approved: true})
)

// verdict builds a judged connection by hand, as the correlator would.
func verdict(client, server string, first int64, views []correlate.View, findings ...correlate.Finding) correlate.Verdict {
	c, s := ep(client), ep(server)
	k := correlate.Key{A: c, B: s, Proto: 6}
	var records int64
	for _, w := range views {
		records += int64(w.Records)
	}
	for i := range findings {
		f := &findings[i]
		f.Protocol, f.Client, f.Server = 6, client, server
		for _, w := range views {
			f.Evidence = append(f.Evidence, correlate.EvidenceRef{Object: w.Evidence[0].Object, Line: w.Evidence[0].Line})
		}
		if f.Confidence == "" {
			f.Confidence = "high"
		}
	}
	return correlate.Verdict{Key: k, Session: &correlate.Session{First: first, Last: first + 60_000_000, Records: records},
		Client: c, Server: s, Views: views, Findings: findings}
}

func view(r *correlate.Resolved, fwd, rev int64, line int64) correlate.View {
	return correlate.View{Resolved: r, Forward: fwd > 0, Reverse: rev > 0, FwdPkts: fwd, RevPkts: rev, Records: 2,
		First: day1, Last: day1 + 60_000_000,
		Evidence: []correlate.Evidence{{Time: day1, Object: hub, Line: line}, {Time: day1, Object: hub, Line: line + 1}}}
}

// estate is five connections: a hub bypass, two findings on one IPv6
// connection the next day, one that lacked coverage, a NAT outside leg
// and one on the approved path.
func estate() []correlate.Verdict {
	bypass := verdict("10.1.5.5:40003", "198.51.100.20:443", day1, []correlate.View{view(spoke, 12, 10, 6)},
		correlate.Finding{Kind: correlate.KindHubBypass, Severity: "high", Detail: "spoke client reached a public server", Cloud: "aws"})
	nat := verdict("[2001:db8::5]:50000", "[2606:4700::1]:443", day2, []correlate.View{view(rogueNAT, 9, 0, 20), view(spoke, 9, 0, 30)},
		correlate.Finding{Kind: correlate.KindUnapprovedNAT, Severity: "high", Reason: correlate.ReasonUnapprovedObserver,
			Detail: "translated by rogue-nat, a NAT that is not approved", Cloud: "aws"},
		correlate.Finding{Kind: correlate.KindOneWay, Severity: "low", Reason: correlate.ReasonRejected, Confidence: "low",
			Detail: "rejected at rogue-nat", Cloud: "aws"})
	nat.Views[0].Rejected = true
	insufficient := verdict("10.1.5.5:40010", "198.51.100.40:443", day1, []correlate.View{view(spoke, 3, 0, 40)})
	insufficient.Insufficient = true
	outside := verdict("52.10.1.1:61000", "198.51.100.50:443", day1, []correlate.View{view(firewall, 4, 4, 50)})
	outside.OutsideLeg = true
	ok := verdict("10.1.5.5:40020", "10.2.0.9:5432", day1, []correlate.View{view(firewall, 7, 7, 60), view(spoke, 7, 7, 70)})
	return []correlate.Verdict{bypass, nat, insufficient, outside, ok}
}

func isPublic(a netip.Addr) bool {
	return !a.IsPrivate() && !strings.HasPrefix(a.String(), "2001:db8:")
}

// writeAnalysis exports the estate and three flows with a checked
// allocator, which must be empty once the writer is closed.
func writeAnalysis(t *testing.T, dir string, opts AnalysisOptions) *AnalysisWriter {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opts.Mem, opts.RunID, opts.Version, opts.Public = mem, "r1", "1.2.3", isPublic
	w, err := NewAnalysisWriter(context.Background(), Dir(dir), opts)
	if err != nil {
		t.Fatal(err)
	}
	batches := memtest.Poisoned() // the flows writer must copy what it keeps
	defer batches.AssertSize(t, 0)
	rows(t, batches, 2, w.Flows)
	for _, v := range estate() {
		if err := w.Connection(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := AnalysisCounts{Flows: 3, Connections: 5, Findings: 3, Insufficient: 1, OutsideLegs: 1,
		ByKind: map[string]int64{"hub_bypass": 1, "unapproved_nat": 1, "one_way": 1}}
	if diff := cmp.Diff(want, w.Counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	return w
}

// onDisk lists the files under dir, failing on any temporary file left.
func onDisk(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// read reads one exported file back with parquet-go and indexes its rows
// by the value of key.
func read(t *testing.T, dir, name, key string) (map[string]parquetcheck.Column, map[string]map[string]any) {
	t.Helper()
	f, rows := parquetcheck.Values(t, filepath.Join(dir, name))
	cols := map[string]parquetcheck.Column{}
	for _, c := range f.Columns {
		cols[c.Path] = c
		if strings.Contains(c.Logical, "ISSIGNED=FALSE") {
			t.Errorf("%s: column %s is unsigned", name, c.Path)
		}
		if strings.Contains(c.Logical, "NANOS") || strings.Contains(c.Physical, "INT96") {
			t.Errorf("%s: column %s has nanosecond timestamps", name, c.Path)
		}
	}
	byKey := map[string]map[string]any{}
	for _, r := range rows {
		k := fmt.Sprint(parquetcheck.Get(r, pathOf(key)...))
		byKey[k] = r
	}
	return cols, byKey
}

// wantTypes checks leaf columns' Parquet types: physical, logical ("" for
// any) and whether the column is optional.
func wantTypes(t *testing.T, name string, cols map[string]parquetcheck.Column, want map[string]string) {
	t.Helper()
	for path, w := range want {
		c, ok := cols[path]
		if !ok {
			t.Errorf("%s: no column %s", name, path)
			continue
		}
		got := c.Physical + " " + c.Logical
		if c.Optional {
			got += " optional"
		}
		if strings.TrimSpace(got) != w {
			t.Errorf("%s: %s is %q, want %q", name, path, got, w)
		}
	}
}

const (
	tsUTC = "INT64 TIMESTAMP(ISADJUSTEDTOUTC=TRUE,UNIT=MICROS)"
	text  = "BYTE_ARRAY STRING"
	i32   = "INT32 INT(32,TRUE)"
	i64   = "INT64 INT(64,TRUE)"
)

func TestAnalysisFlowsymLayout(t *testing.T) {
	dir := t.TempDir()
	w := writeAnalysis(t, dir, AnalysisOptions{})
	want := []string{
		"connections/date=2025-11-20/part-00000-r1.parquet",
		"connections/date=2025-11-21/part-00000-r1.parquet",
		"findings/date=2025-11-20/part-00000-r1.parquet",
		"findings/date=2025-11-21/part-00000-r1.parquet",
		"flows/cloud=aws/date=2025-11-20/part-00000-r1.parquet",
		"flows/cloud=aws/date=2025-11-21/part-00000-r1.parquet",
		"flows/cloud=azure/date=__HIVE_DEFAULT_PARTITION__/part-00000-r1.parquet",
	}
	if diff := cmp.Diff(want, w.Files()); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, onDisk(t, dir)); diff != "" {
		t.Errorf("files on disk (-want +got):\n%s", diff)
	}
	// flows/ is FlowWriter's export, under its folder.
	f := parquetcheck.Read(t, filepath.Join(dir, want[4]))
	if len(f.Rows) != 1 || f.Rows[0]["src_addr"] != "10.1.5.5" || f.Rows[0]["source_line"] != "2" {
		t.Errorf("flows rows %v", f.Rows)
	}
}

func TestAnalysisFlowsymConnections(t *testing.T) {
	dir := t.TempDir()
	writeAnalysis(t, dir, AnalysisOptions{})
	cols, day1Rows := read(t, dir, "connections/date=2025-11-20/part-00000-r1.parquet", "client_port")
	wantTypes(t, "connections", cols, map[string]string{
		"connection_id":                          text,
		"first_seen":                             tsUTC,
		"last_seen":                              tsUTC,
		"protocol":                               i32,
		"client_addr":                            text,
		"client_port":                            i32,
		"server_addr":                            text,
		"server_port":                            i32,
		"cloud":                                  text + " optional",
		"records":                                i64,
		"forward_packets":                        i64,
		"reverse_packets":                        i64,
		"rejected":                               "BOOLEAN",
		"verdict":                                text,
		"finding_kinds.list.element":             text,
		"insufficient":                           "BOOLEAN",
		"outside_leg":                            "BOOLEAN",
		"observers.list.element.name":            text + " optional",
		"observers.list.element.observer_id":     text + " optional",
		"observers.list.element.role":            text,
		"observers.list.element.approved":        "BOOLEAN",
		"observers.list.element.forward":         "BOOLEAN",
		"observers.list.element.reverse":         "BOOLEAN",
		"observers.list.element.forward_packets": i64,
		"observers.list.element.reverse_packets": i64,
		"observers.list.element.records":         i64,
		"observers.list.element.first_seen":      tsUTC,
		"observers.list.element.evidence.list.element.object": text + " optional",
		"observers.list.element.evidence.list.element.line":   i64,
	})
	if len(cols) != 36 {
		t.Errorf("%d leaf columns, want 36: a column was added without a test", len(cols))
	}
	if len(day1Rows) != 4 {
		t.Fatalf("%d connections on 2025-11-20, want 4", len(day1Rows))
	}
	bypass := day1Rows["40003"]
	want := map[string]any{
		"client_addr": "10.1.5.5", "client_port": int32(40003), "server_addr": "198.51.100.20", "server_port": int32(443),
		"protocol": int32(6), "first_seen": day1, "last_seen": day1 + 60_000_000, "cloud": "aws", "records": int64(2),
		"forward_packets": int64(12), "reverse_packets": int64(10), "rejected": false, "verdict": "findings",
		"finding_kinds": []any{"hub_bypass"}, "insufficient": false, "outside_leg": false,
		"observers": []any{map[string]any{
			"name": "k8s-prod", "observer_id": "eni-0pod1", "cloud": "aws", "log_kind": "aws-vpc", "resource": nil,
			"region": "us-east-1", "role": "spoke", "approved": true, "sampled": false, "forward": true, "reverse": true,
			"forward_packets": int64(12), "reverse_packets": int64(10), "records": int64(2), "rejected": false,
			"first_seen": day1, "last_seen": day1 + 60_000_000,
			"evidence": []any{map[string]any{"object": hub, "line": int64(6)}, map[string]any{"object": hub, "line": int64(7)}},
		}},
	}
	id := bypass["connection_id"]
	delete(bypass, "connection_id")
	if diff := cmp.Diff(want, bypass); diff != "" {
		t.Errorf("hub bypass connection (-want +got):\n%s", diff)
	}
	if s, _ := id.(string); len(s) != 32 {
		t.Errorf("connection_id %v: want 32 hex digits", id)
	}
	for port, verdict := range map[string]string{"40010": "insufficient", "61000": "outside_leg", "40020": "ok"} {
		if got := day1Rows[port]["verdict"]; got != verdict {
			t.Errorf("client port %s: verdict %v, want %s", port, got, verdict)
		}
		if got := parquetcheck.Get(day1Rows[port], "finding_kinds"); !cmp.Equal(got, []any{}) {
			t.Errorf("client port %s: finding_kinds %v, want an empty list", port, got)
		}
	}
	if got := parquetcheck.Get(day1Rows["40020"], "observers", 1, "name"); got != "k8s-prod" {
		t.Errorf("second observer %v", got)
	}
	_, day2Rows := read(t, dir, "connections/date=2025-11-21/part-00000-r1.parquet", "client_addr")
	nat := day2Rows["2001:db8::5"]
	if nat == nil || nat["server_addr"] != "2606:4700::1" || nat["rejected"] != true ||
		!cmp.Equal(nat["finding_kinds"], []any{"unapproved_nat", "one_way"}) ||
		parquetcheck.Get(nat, "observers", 0, "approved") != false {
		t.Errorf("IPv6 connection %v", nat)
	}
}

func TestAnalysisFlowsymFindings(t *testing.T) {
	dir := t.TempDir()
	writeAnalysis(t, dir, AnalysisOptions{})
	_, conns := read(t, dir, "connections/date=2025-11-21/part-00000-r1.parquet", "client_port")
	cols, rows := read(t, dir, "findings/date=2025-11-21/part-00000-r1.parquet", "kind")
	wantTypes(t, "findings", cols, map[string]string{
		"finding_id":                        text,
		"connection_id":                     text,
		"kind":                              text,
		"severity":                          text,
		"reason":                            text + " optional",
		"confidence":                        text,
		"first_seen":                        tsUTC,
		"client_addr":                       text,
		"client_port":                       i32,
		"detail":                            text + " optional",
		"observers.list.element.role":       text,
		"observers.list.element.first_seen": tsUTC,
		"evidence.list.element.object":      text + " optional",
		"evidence.list.element.line":        i64,
	})
	if _, ok := cols["observers.list.element.evidence.list.element.line"]; ok {
		t.Error("findings repeat each observer's evidence; the finding's own evidence list is enough")
	}
	connID := conns["50000"]["connection_id"].(string)
	want := map[string]any{
		"finding_id": connID + "-unapproved_nat", "connection_id": connID,
		"kind": "unapproved_nat", "severity": "high", "reason": "unapproved_observer", "confidence": "high",
		"first_seen": day2, "last_seen": day2 + 60_000_000, "protocol": int32(6),
		"client_addr": "2001:db8::5", "client_port": int32(50000), "server_addr": "2606:4700::1", "server_port": int32(443),
		"cloud": "aws", "detail": "translated by rogue-nat, a NAT that is not approved",
		"evidence": []any{map[string]any{"object": hub, "line": int64(20)}, map[string]any{"object": hub, "line": int64(30)}},
	}
	got := rows["unapproved_nat"]
	obs := got["observers"]
	delete(got, "observers")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unapproved_nat finding (-want +got):\n%s", diff)
	}
	if parquetcheck.Get(obs, 0, "name") != "rogue-nat" || parquetcheck.Get(obs, 0, "rejected") != true ||
		parquetcheck.Get(obs, 1, "name") != "k8s-prod" {
		t.Errorf("observers %v", obs)
	}
	if r := rows["one_way"]; r["severity"] != "low" || r["confidence"] != "low" || r["reason"] != "rejected" {
		t.Errorf("one_way finding %v", r)
	}
}

func TestAnalysisOCSFLayoutAndFlows(t *testing.T) {
	dir := t.TempDir()
	w := writeAnalysis(t, dir, AnalysisOptions{Schema: SchemaOCSF})
	want := []string{
		"connections/date=2025-11-20/part-00000-r1.parquet",
		"connections/date=2025-11-21/part-00000-r1.parquet",
		"findings/date=2025-11-20/part-00000-r1.parquet",
		"findings/date=2025-11-21/part-00000-r1.parquet",
		"flows/date=2025-11-20/part-00000-r1.parquet",
		"flows/date=2025-11-21/part-00000-r1.parquet",
		"flows/date=__HIVE_DEFAULT_PARTITION__/part-00000-r1.parquet",
	}
	if diff := cmp.Diff(want, w.Files()); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, onDisk(t, dir)); diff != "" {
		t.Errorf("files on disk (-want +got):\n%s", diff)
	}
	cols, rows := read(t, dir, want[4], "class_uid")
	wantTypes(t, "flows", cols, map[string]string{
		"class_uid":                     i32,
		"type_uid":                      i64,
		"time":                          i64 + " optional",
		"time_dt":                       tsUTC + " optional",
		"src_endpoint.ip":               text + " optional",
		"src_endpoint.port":             i32 + " optional",
		"connection_info.protocol_num":  i32 + " optional",
		"traffic.packets":               i64 + " optional",
		"cloud.account.uid":             text + " optional",
		"metadata.product.name":         text,
		"unmapped.source_line":          i64 + " optional",
		"unmapped.labels.key_value.key": text,
	})
	got := rows["4001"]
	ms := day1 / 1000
	for path, want := range map[string]any{
		"class_name": "Network Activity", "category_uid": int32(4), "activity_id": int32(6), "type_uid": int64(400106),
		"severity_id": int32(1), "time": ms, "time_dt": day1, "start_time": ms, "end_time": (day1 + 60_123_456) / 1000,
		"end_time_dt":     day1 + 60_123_456,
		"src_endpoint.ip": "10.1.5.5", "src_endpoint.port": int32(40001), "dst_endpoint.ip": "2001:db8::34",
		"dst_endpoint.port": int32(443), "connection_info.protocol_num": int32(6), "connection_info.protocol_name": "tcp",
		"connection_info.direction_id": nil, "traffic.packets": int64(9_000_000_000), "traffic.packets_out": int64(9_000_000_000),
		"traffic.packets_in": nil, "cloud.provider": "AWS", "metadata.version": OCSFVersion,
		"metadata.product.name": "flowsym", "metadata.product.version": "1.2.3", "metadata.log_name": "aws-vpc",
		"unmapped.sampled": false, "unmapped.source_object": "s3://logs/a.log.gz", "unmapped.source_line": int64(2),
		"unmapped.labels": map[string]any{"ecs-task-id": "t1", "type": "IPv4"}, "unmapped.pkt_src_addr": nil,
	} {
		if g := parquetcheck.Get(got, pathOf(path)...); !cmp.Equal(g, want) {
			t.Errorf("flows %s = %#v, want %#v", path, g, want)
		}
	}
	// Every normalized column is in the OCSF flows: mapped, or unmapped by
	// its own name.
	for i, c := range schema.Columns() {
		if !ocsfMapped[schema.Col(i)] && parquetcheck.Get(got, "unmapped") != nil {
			if _, ok := got["unmapped"].(map[string]any)[c.Name]; !ok {
				t.Errorf("column %s neither mapped nor under unmapped", c.Name)
			}
		}
	}
	_, rows = read(t, dir, want[6], "class_uid")
	if r := rows["4001"]; r["time"] != nil || parquetcheck.Get(r, "action_id") != int32(2) ||
		parquetcheck.Get(r, "disposition") != "Blocked" || parquetcheck.Get(r, "cloud", "provider") != "Azure" {
		t.Errorf("flow without a time %v", r)
	}
}

func TestAnalysisOCSFConnectionsAndFindings(t *testing.T) {
	dir := t.TempDir()
	writeAnalysis(t, dir, AnalysisOptions{Schema: SchemaOCSF})
	cols, conns := read(t, dir, "connections/date=2025-11-21/part-00000-r1.parquet", "src_endpoint.port")
	wantTypes(t, "connections", cols, map[string]string{
		"time":                                 i64,
		"time_dt":                              tsUTC,
		"src_endpoint.ip":                      text + " optional",
		"connection_info.uid":                  text,
		"connection_info.direction_id":         i32 + " optional",
		"traffic.packets_out":                  i64,
		"observables.list.element.type_id":     i32,
		"unmapped.observers.list.element.role": text,
		"unmapped.observers.list.element.evidence.list.element.line": i64,
	})
	c := conns["50000"]
	connID := parquetcheck.Get(c, "connection_info", "uid")
	for path, want := range map[string]any{
		"class_uid": int32(4001), "type_uid": int64(400106), "severity_id": int32(4), "severity": "High",
		"time": day2 / 1000, "time_dt": day2, "duration": int64(60_000), "count": int32(4),
		"action_id": int32(2), "disposition_id": int32(2),
		"src_endpoint.ip": "2001:db8::5", "dst_endpoint.ip": "2606:4700::1", "dst_endpoint.port": int32(443),
		"connection_info.protocol_num": int32(6), "connection_info.direction_id": int32(2),
		"connection_info.direction": "Outbound", "traffic.packets_out": int64(9), "traffic.packets_in": int64(0),
		"cloud.provider": "AWS", "metadata.log_name": "connections", "metadata.uid": connID,
		"unmapped.verdict": "findings", "unmapped.records": int64(4), "unmapped.observers.0.name": "rogue-nat",
	} {
		if g := parquetcheck.Get(c, pathOf(path)...); !cmp.Equal(g, want) {
			t.Errorf("connection %s = %#v, want %#v", path, g, want)
		}
	}
	if got := c["observables"]; !cmp.Equal(got, []any{
		map[string]any{"name": "src_endpoint.ip", "type_id": int32(2), "type": "IP Address", "value": "2001:db8::5"},
		map[string]any{"name": "dst_endpoint.ip", "type_id": int32(2), "type": "IP Address", "value": "2606:4700::1"},
	}) {
		t.Errorf("observables %v", got)
	}
	_, firstDay := read(t, dir, "connections/date=2025-11-20/part-00000-r1.parquet", "src_endpoint.port")
	if d := parquetcheck.Get(firstDay["40020"], "connection_info", "direction"); d != "Lateral" {
		t.Errorf("private to private: direction %v", d)
	}

	cols, finds := read(t, dir, "findings/date=2025-11-21/part-00000-r1.parquet", "finding_info.analytic.name")
	wantTypes(t, "findings", cols, map[string]string{
		"class_uid":                              i32,
		"finding_info.uid":                       text,
		"finding_info.types.list.element":        text,
		"finding_info.first_seen_time_dt":        tsUTC,
		"evidences.list.element.src_endpoint.ip": text + " optional",
		"metadata.correlation_uid":               text,
		"unmapped.evidence.list.element.line":    i64,
	})
	f := finds["unapproved_nat"]
	for path, want := range map[string]any{
		"class_uid": int32(2004), "class_name": "Detection Finding", "category_uid": int32(2), "activity_id": int32(1),
		"type_uid": int64(200401), "severity_id": int32(4), "confidence_id": int32(3), "status_id": int32(1),
		"time": day2 / 1000, "message": "translated by rogue-nat, a NAT that is not approved",
		"finding_info.uid": connID.(string) + "-unapproved_nat", "finding_info.types.0": "unapproved_nat",
		"finding_info.first_seen_time": day2 / 1000, "finding_info.last_seen_time_dt": day2 + 60_000_000,
		"finding_info.analytic.type_id": int32(1),
		"evidences.0.src_endpoint.ip":   "2001:db8::5", "evidences.0.dst_endpoint.port": int32(443),
		"evidences.0.connection_info.uid": connID, "cloud.provider": "AWS", "metadata.correlation_uid": connID,
		"metadata.log_name": "findings", "unmapped.reason": "unapproved_observer",
		"unmapped.evidence.1.line": int64(30), "unmapped.observers.1.name": "k8s-prod",
	} {
		if g := parquetcheck.Get(f, pathOf(path)...); !cmp.Equal(g, want) {
			t.Errorf("finding %s = %#v, want %#v", path, g, want)
		}
	}
	if f := finds["one_way"]; parquetcheck.Get(f, "severity_id") != int32(2) || parquetcheck.Get(f, "confidence_id") != int32(1) {
		t.Errorf("one_way finding %v", f)
	}
}

// pathOf splits "a.0.b" into field names and list indexes.
func pathOf(s string) []any {
	var out []any
	for _, p := range strings.Split(s, ".") {
		var i int
		if _, err := fmt.Sscanf(p, "%d", &i); err == nil {
			out = append(out, i)
		} else {
			out = append(out, p)
		}
	}
	return out
}

// TestAnalysisNoFindings: a run without findings still leaves a readable,
// empty findings/ with the full schema, so SQL counts zero.
func TestAnalysisNoFindings(t *testing.T) {
	for _, s := range Schemas {
		t.Run(s, func(t *testing.T) {
			dir := t.TempDir()
			w, err := NewAnalysisWriter(context.Background(), Dir(dir), AnalysisOptions{Schema: s})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Connection(estate()[4]); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			want := []string{"connections/date=2025-11-20/part-00000.parquet", "findings/date=__HIVE_DEFAULT_PARTITION__/part-00000.parquet"}
			if diff := cmp.Diff(want, w.Files()); diff != "" {
				t.Fatalf("files (-want +got):\n%s", diff)
			}
			f, rows := parquetcheck.Values(t, filepath.Join(dir, want[1]))
			if len(rows) != 0 || len(f.Columns) < 10 {
				t.Errorf("empty findings: %d rows, %d columns", len(rows), len(f.Columns))
			}
		})
	}
}

func TestAnalysisBadSchema(t *testing.T) {
	if _, err := NewAnalysisWriter(context.Background(), Dir(t.TempDir()), AnalysisOptions{Schema: "ecs"}); err == nil {
		t.Error("unknown schema accepted")
	}
}

// failing fails every Create after the first n.
type failing struct {
	Creator
	n atomic.Int32
}

var errDisk = errors.New("disk full")

func (f *failing) Create(ctx context.Context, name string) (ObjectWriter, error) {
	if f.n.Add(-1) < 0 {
		return nil, errDisk
	}
	return f.Creator.Create(ctx, name)
}

// TestAnalysisErrorDiscardsEverything: after an error every call reports
// it, and Close leaves no file, complete or temporary.
func TestAnalysisErrorDiscardsEverything(t *testing.T) {
	for _, s := range Schemas {
		t.Run(s, func(t *testing.T) {
			dir := t.TempDir()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			dst := &failing{Creator: Dir(dir)}
			dst.n.Store(2)
			w, err := NewAnalysisWriter(context.Background(), dst, AnalysisOptions{Schema: s, BatchRows: 1, Mem: mem})
			if err != nil {
				t.Fatal(err)
			}
			rows(t, mem, 3, func(rec arrow.RecordBatch) error { _ = w.Flows(rec); return nil })
			var got error
			for _, v := range estate() {
				if err := w.Connection(v); err != nil {
					got = err
				}
			}
			if !errors.Is(got, errDisk) {
				t.Errorf("Connection: %v, want %v", got, errDisk)
			}
			if err := w.Close(); !errors.Is(err, errDisk) {
				t.Errorf("Close: %v, want %v", err, errDisk)
			}
			if files := onDisk(t, dir); len(files) != 0 {
				t.Errorf("left %v", files)
			}
		})
	}
}

func TestAnalysisAbort(t *testing.T) {
	dir := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	w, err := NewAnalysisWriter(context.Background(), Dir(dir), AnalysisOptions{Schema: SchemaOCSF, BatchRows: 2, Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	rows(t, mem, 3, w.Flows)
	for _, v := range estate() {
		if err := w.Connection(v); err != nil {
			t.Fatal(err)
		}
	}
	w.Abort()
	if files := onDisk(t, dir); len(files) != 0 {
		t.Errorf("abort left %v", files)
	}
}

// peak tracks the most Arrow memory held at once.
type peak struct {
	memory.Allocator
	cur, max atomic.Int64
}

func (p *peak) add(n int) {
	if c := p.cur.Add(int64(n)); c > p.max.Load() {
		p.max.Store(c)
	}
}

func (p *peak) Allocate(n int) []byte { p.add(n); return p.Allocator.Allocate(n) }
func (p *peak) Free(b []byte)         { p.add(-len(b)); p.Allocator.Free(b) }
func (p *peak) Reallocate(n int, b []byte) []byte {
	p.add(n - len(b))
	return p.Allocator.Reallocate(n, b)
}

// TestAnalysisMemoryFlat: ten times the connections, over the same days,
// take no more memory: one batch of rows and one row group per partition.
func TestAnalysisMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 22,000 connections")
	}
	base := estate()
	peakOf := func(n int) int64 {
		p := &peak{Allocator: memory.NewGoAllocator()}
		w, err := NewAnalysisWriter(context.Background(), Dir(t.TempDir()), AnalysisOptions{
			Schema: SchemaOCSF, BatchRows: 256, RowGroupRows: 1024, Mem: p})
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			v := base[i%len(base)]
			v.Session = &correlate.Session{First: v.Session.First + int64(i), Last: v.Session.Last + int64(i), Records: 2}
			v.Client.Port = uint16(i)
			if err := w.Connection(v); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return p.max.Load()
	}
	small, large := peakOf(2_000), peakOf(20_000)
	t.Logf("peak Arrow memory: %d KiB for 2k connections, %d KiB for 20k", small>>10, large>>10)
	if large > small*3/2 {
		t.Errorf("peak memory grew from %d to %d bytes with the number of connections", small, large)
	}
}

// BenchmarkAnalysisConnections measures the export of judged connections
// (3 findings every 5 connections), with default batch and row group sizes.
func BenchmarkAnalysisConnections(b *testing.B) {
	base := estate()
	for _, s := range Schemas {
		b.Run(s, func(b *testing.B) {
			w, err := NewAnalysisWriter(context.Background(), Dir(b.TempDir()), AnalysisOptions{Schema: s, RunID: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; b.Loop(); i++ {
				v := base[i%len(base)]
				v.Session = &correlate.Session{First: v.Session.First + int64(i), Last: v.Session.Last + int64(i), Records: 2}
				v.Client.Port = uint16(i)
				if err := w.Connection(v); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "connections/s")
		})
	}
}

func TestMillisAndDates(t *testing.T) {
	for us, want := range map[int64]int64{0: 0, 999: 0, 1000: 1, -1: -1, -1000: -1, -1001: -2, day1 + 123_456: day1/1000 + 123} {
		if got := millis(us); got != want {
			t.Errorf("millis(%d) = %d, want %d", us, got, want)
		}
	}
	for us, want := range map[int64]string{0: "date=1970-01-01", -1: "date=1969-12-31", day1: "date=2025-11-20"} {
		if got := dateKey(us); got != want {
			t.Errorf("dateKey(%d) = %s, want %s", us, got, want)
		}
	}
}

// TestAnalysisOfTheDemoEstate runs the real pipeline on testdata/analyze
// and reads the findings back with parquet-go: the export counts what the
// report counts.
func TestAnalysisOfTheDemoEstate(t *testing.T) {
	ctx := context.Background()
	topo, err := correlate.LoadFile("../../testdata/analyze/flowsym.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := correlate.New(correlate.Options{Topology: topo})
	if cl, ok := any(c).(interface{ Close() error }); ok {
		defer cl.Close()
	}
	dir := t.TempDir()
	w, err := NewAnalysisWriter(ctx, Dir(dir), AnalysisOptions{RunID: "demo", Public: topo.IsPublic})
	if err != nil {
		t.Fatal(err)
	}
	src := &local.Source{}
	list := func(yield func(normalize.Job) error) error {
		return src.List(ctx, "../../testdata/analyze/logs", func(o ingest.Object) error {
			return yield(normalize.Job{Source: src, Object: o})
		})
	}
	err = normalize.NewDecoder(normalize.Options{}).Run(ctx, normalize.RunConfig{}, list, func(rec arrow.RecordBatch) error {
		return errors.Join(c.Add(rec), w.Flows(rec))
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := resultOf(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := verdictsOf(c, func(v correlate.Verdict) { _ = w.Connection(v) }); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := w.Counts()
	if got.Connections != res.Connections || got.Insufficient != res.Insufficient || got.OutsideLegs != res.OutsideLegs ||
		got.Findings != int64(len(res.Findings)) || len(res.Findings) == 0 {
		t.Errorf("writer counted %+v; report: %d connections, %d insufficient, %d outside legs, %d findings",
			got, res.Connections, res.Insufficient, res.OutsideLegs, len(res.Findings))
	}
	byKind := map[string]int64{}
	var connections int64
	for _, name := range w.Files() {
		_, rows := parquetcheck.Values(t, filepath.Join(dir, name))
		for _, r := range rows {
			switch {
			case strings.HasPrefix(name, DirFindings+"/"):
				byKind[r["kind"].(string)]++
			case strings.HasPrefix(name, DirConnections+"/"):
				connections++
			}
		}
	}
	want := map[string]int64{}
	for k, n := range res.ByKind {
		if n > 0 {
			want[k] = int64(n)
		}
	}
	if !cmp.Equal(byKind, want) || connections != res.Connections {
		t.Errorf("read back %d connections, findings %v; report %d, %v", connections, byKind, res.Connections, want)
	}
}

// resultOf and verdictsOf accept the correlator's current and previous
// result API (Result() with or without an error; Verdicts as a callback or
// an iterator), which is changing under spill-to-disk work.
func resultOf(c any) (*correlate.Result, error) {
	switch c := c.(type) {
	case interface {
		Result() (*correlate.Result, error)
	}:
		return c.Result()
	case interface{ Result() *correlate.Result }:
		return c.Result(), nil
	}
	return nil, fmt.Errorf("correlator %T has no Result", c)
}

func verdictsOf(c any, fn func(correlate.Verdict)) error {
	switch c := c.(type) {
	case interface {
		Verdicts(func(correlate.Verdict)) error
	}:
		return c.Verdicts(fn)
	case interface {
		Verdicts() func(func(correlate.Verdict) bool)
	}:
		for v := range c.Verdicts() {
			fn(v)
		}
		return nil
	}
	return fmt.Errorf("correlator %T has no Verdicts", c)
}

// TestAnalysisFinishThenCommit: Finish writes every file but publishes
// none and names them; Commit publishes exactly those.
func TestAnalysisFinishThenCommit(t *testing.T) {
	for _, s := range Schemas {
		t.Run(s, func(t *testing.T) {
			dir := t.TempDir()
			w, err := NewAnalysisWriter(context.Background(), Dir(dir), AnalysisOptions{Schema: s, RunID: "r"})
			if err != nil {
				t.Fatal(err)
			}
			rows(t, memory.NewGoAllocator(), 3, w.Flows)
			for _, v := range estate() {
				if err := w.Connection(v); err != nil {
					t.Fatal(err)
				}
			}
			names, err := w.Finish()
			if err != nil {
				t.Fatal(err)
			}
			if len(names) != 7 {
				t.Errorf("Finish named %v", names)
			}
			for _, f := range onDisk(t, dir) {
				if !strings.HasPrefix(path.Base(f), ".") {
					t.Errorf("%s visible before Commit", f)
				}
			}
			if err := w.Connection(estate()[0]); err == nil {
				t.Error("Connection after Finish accepted")
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(names, onDisk(t, dir)); diff != "" {
				t.Errorf("committed files (-finished +on disk):\n%s", diff)
			}
			if diff := cmp.Diff(names, w.Files()); diff != "" {
				t.Errorf("Files (-finished +got):\n%s", diff)
			}
		})
	}
}
