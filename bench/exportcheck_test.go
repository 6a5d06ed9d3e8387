//go:build cgo

package bench

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/flowsym/flowsym/correlate"
	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/local"
	"github.com/flowsym/flowsym/normalize"
	"github.com/flowsym/flowsym/report/export"
)

// estateDir is the small AWS hub-and-spoke estate the CLI tests use.
const estateDir = "../testdata/analyze"

// run is one analysis of the estate, exported.
type run struct {
	dir     string
	res     *correlate.Result
	records int64
	counts  export.AnalysisCounts
}

// analyze runs what `flowsym analyze --export DIR --export-schema s` runs:
// the decoder over the local source into the correlator and the flows
// export, then every verdict into the analysis export.
func analyze(t *testing.T, schemaName string) run {
	t.Helper()
	ctx := context.Background()
	topo, err := correlate.LoadFile(filepath.Join(estateDir, "flowsym.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := correlate.New(correlate.Options{Topology: topo})
	defer closeCorrelator(c)
	r := run{dir: t.TempDir()}
	w, err := export.NewAnalysisWriter(ctx, export.Dir(r.dir), export.AnalysisOptions{
		Schema: schemaName, RunID: "check", Version: "test", Public: topo.IsPublic})
	if err != nil {
		t.Fatal(err)
	}
	src := &local.Source{}
	list := func(yield func(normalize.Job) error) error {
		return src.List(ctx, filepath.Join(estateDir, "logs"), func(o ingest.Object) error {
			return yield(normalize.Job{Source: src, Object: o})
		})
	}
	dec := normalize.NewDecoder(normalize.Options{})
	err = dec.Run(ctx, normalize.RunConfig{Workers: 2}, list, func(rec arrow.RecordBatch) error {
		r.records += rec.NumRows()
		if err := c.Add(rec); err != nil {
			return err
		}
		return w.Flows(rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.res, err = result(c); err != nil {
		t.Fatal(err)
	}
	err = verdicts(c, func(v correlate.Verdict) { _ = w.Connection(v) })
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r.counts = w.Counts()
	if r.res.Connections == 0 || len(r.res.Findings) == 0 {
		t.Fatalf("the estate judged %d connections with %d findings: the check would prove nothing", r.res.Connections, len(r.res.Findings))
	}
	return r
}

// The correlator's API for results is changing (streaming verdicts, spill
// to disk); these adapters accept either form so the check does not pin it.
func result(c any) (*correlate.Result, error) {
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

func verdicts(c any, fn func(correlate.Verdict)) error {
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

func closeCorrelator(c any) {
	if c, ok := c.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}

func openDuckDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// Times are compared as instants; keep DuckDB's rendering of them in UTC.
	if _, err := db.Exec("SET TimeZone = 'UTC'"); err != nil {
		t.Logf("set time zone: %v", err)
	}
	return db
}

// table is a read_parquet over one folder of the export, Hive partitions on.
func table(dir, folder string) string {
	return fmt.Sprintf("read_parquet('%s', hive_partitioning = true)", filepath.ToSlash(filepath.Join(dir, folder, "**", "*.parquet")))
}

// counts runs a two-column query (text, count) into a map.
func counts(t *testing.T, db *sql.DB, query string) map[string]int64 {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k sql.NullString
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		out[k.String] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func one(t *testing.T, db *sql.DB, query string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// types returns DuckDB's type of every column a query returns.
func types(t *testing.T, db *sql.DB, query string) map[string]string {
	t.Helper()
	rows, err := db.Query("DESCRIBE " + query)
	if err != nil {
		t.Fatalf("DESCRIBE %s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := map[string]string{}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint(vals[0])] = fmt.Sprint(vals[1])
	}
	return out
}

func wantTypes(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for col, w := range want {
		if g := got[col]; !strings.HasPrefix(g, w) {
			t.Errorf("column %s is %q, want %q", col, g, w)
		}
	}
}

func byKind(res *correlate.Result) map[string]int64 {
	out := map[string]int64{}
	for k, n := range res.ByKind {
		if n > 0 {
			out[k] = int64(n)
		}
	}
	return out
}

// findingKeys are the findings of a result as "kind client server".
func findingKeys(res *correlate.Result) []string {
	var out []string
	for _, f := range res.Findings {
		out = append(out, f.Kind+" "+f.Client+" "+f.Server)
	}
	slices.Sort(out)
	return out
}

func keysOf(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind, client, server string
		var cport, sport int32
		if err := rows.Scan(&kind, &client, &cport, &server, &sport); err != nil {
			t.Fatal(err)
		}
		c := netip.AddrPortFrom(netip.MustParseAddr(client), uint16(cport))
		s := netip.AddrPortFrom(netip.MustParseAddr(server), uint16(sport))
		out = append(out, kind+" "+c.String()+" "+s.String())
	}
	slices.Sort(out)
	return out
}

func TestExportWithDuckDB(t *testing.T) {
	t.Run("flowsym", testFlowsym)
	t.Run("ocsf", testOCSF)
	t.Run("docs", testDocQueries)
}

// testDocQueries runs every DuckDB statement of docs/analysis-export.md on
// an export of its schema (the OCSF ones name class_uid): the documented
// queries must work as written.
func testDocQueries(t *testing.T) {
	doc, err := os.ReadFile("../docs/analysis-export.md")
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[string]string{}
	for _, s := range export.Schemas {
		dirs[s] = analyze(t, s).dir
	}
	db := openDuckDB(t)
	n := 0
	for _, block := range regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		if !strings.Contains(block[1], "read_parquet(") {
			continue // Athena
		}
		dir := dirs[export.SchemaFlowsym]
		if strings.Contains(block[1], "class_uid") {
			dir = dirs[export.SchemaOCSF]
		}
		for _, q := range strings.Split(block[1], ";") {
			if q = strings.TrimSpace(q); q == "" {
				continue
			}
			q = strings.ReplaceAll(q, "'export/", "'"+filepath.ToSlash(dir)+"/")
			rows, err := db.Query(q)
			if err != nil {
				t.Errorf("documented query fails: %v\n%s", err, q)
				continue
			}
			if !rows.Next() {
				t.Errorf("documented query returns no row:\n%s", q)
			}
			rows.Close()
			n++
		}
	}
	if n < 5 {
		t.Errorf("ran %d documented queries: the docs lost their DuckDB examples", n)
	}
}

func testFlowsym(t *testing.T) {
	r := analyze(t, export.SchemaFlowsym)
	db := openDuckDB(t)
	flows, conns, finds := table(r.dir, "flows"), table(r.dir, "connections"), table(r.dir, "findings")

	// The text report's finding counts, by kind.
	got := counts(t, db, "SELECT kind, count(*) FROM "+finds+" GROUP BY kind")
	if !maps.Equal(got, byKind(r.res)) {
		t.Errorf("findings by kind: DuckDB %v, report %v", got, r.res.ByKind)
	}
	// The report's header: connections judged, lacking coverage, outside legs.
	if n := one(t, db, "SELECT count(*) FROM "+conns); n != r.res.Connections {
		t.Errorf("connections: DuckDB %d, report %d", n, r.res.Connections)
	}
	verdicts := counts(t, db, "SELECT verdict, count(*) FROM "+conns+" GROUP BY verdict")
	if verdicts["insufficient"] != r.res.Insufficient || verdicts["outside_leg"] != r.res.OutsideLegs {
		t.Errorf("verdicts %v; report: %d insufficient, %d outside legs", verdicts, r.res.Insufficient, r.res.OutsideLegs)
	}
	if n := one(t, db, "SELECT count(*) FROM "+flows); n != r.records {
		t.Errorf("flows: DuckDB %d rows, %d records decoded", n, r.records)
	}
	// The kind-by-severity table of the report.
	want := map[string]int64{}
	for _, f := range r.res.Findings {
		want[f.Kind+"/"+f.Severity]++
	}
	if got := counts(t, db, "SELECT kind || '/' || severity, count(*) FROM "+finds+" GROUP BY ALL"); !maps.Equal(got, want) {
		t.Errorf("kind/severity: DuckDB %v, report %v", got, want)
	}
	// Which findings: kind, client and server of each.
	if got := keysOf(t, db, "SELECT kind, client_addr, client_port, server_addr, server_port FROM "+finds); !slices.Equal(got, findingKeys(r.res)) {
		t.Errorf("findings: DuckDB %v, report %v", got, findingKeys(r.res))
	}
	// "Observers in findings": the list column, unnested.
	want = map[string]int64{}
	var evidence int64
	for _, f := range r.res.Findings {
		seen := map[string]bool{}
		for _, o := range f.Observers {
			if !seen[o.Name] {
				seen[o.Name] = true
				want[o.Name]++
			}
		}
		evidence += int64(len(f.Evidence))
	}
	got = counts(t, db, "SELECT o.name, count(DISTINCT finding_id) FROM (SELECT finding_id, unnest(observers) AS o FROM "+finds+") GROUP BY ALL")
	if !maps.Equal(got, want) {
		t.Errorf("observers in findings: DuckDB %v, report %v", got, want)
	}
	if n := one(t, db, "SELECT sum(len(evidence)) FROM "+finds); n != evidence {
		t.Errorf("evidence: DuckDB %d pointers, report %d", n, evidence)
	}
	// Every finding points at its connection.
	if n := one(t, db, "SELECT count(*) FROM "+finds+" f JOIN "+conns+" c USING (connection_id) WHERE c.verdict = 'findings' AND list_contains(c.finding_kinds, f.kind)"); n != int64(len(r.res.Findings)) {
		t.Errorf("%d of %d findings join their connection", n, len(r.res.Findings))
	}
	// Partition columns come back typed, file columns as SQL types.
	wantTypes(t, types(t, db, "SELECT * FROM "+conns), map[string]string{
		"date": "DATE", "first_seen": "TIMESTAMP WITH TIME ZONE", "client_addr": "VARCHAR", "client_port": "INTEGER",
		"records": "BIGINT", "rejected": "BOOLEAN", "finding_kinds": "VARCHAR[]", "observers": "STRUCT(",
	})
	wantTypes(t, types(t, db, "SELECT * FROM "+finds), map[string]string{
		"date": "DATE", "kind": "VARCHAR", "evidence": "STRUCT(\"object\" VARCHAR, line BIGINT)[]",
	})
	wantTypes(t, types(t, db, "SELECT * FROM "+flows), map[string]string{
		"cloud": "VARCHAR", "date": "DATE", "start_time": "TIMESTAMP WITH TIME ZONE", "src_port": "INTEGER", "packets": "BIGINT",
	})
	if n := one(t, db, "SELECT count(*) FROM "+conns+" WHERE date = CAST(first_seen AS DATE)"); n != r.res.Connections {
		t.Errorf("%d of %d connections are in the partition of their first_seen date", n, r.res.Connections)
	}
	if n := one(t, db, "SELECT count(*) FROM "+flows+" WHERE cloud = 'aws' AND date = DATE '2025-11-20'"); n == 0 {
		t.Error("no flows in cloud=aws/date=2025-11-20")
	}
}

func testOCSF(t *testing.T) {
	r := analyze(t, export.SchemaOCSF)
	db := openDuckDB(t)
	flows, conns, finds := table(r.dir, "flows"), table(r.dir, "connections"), table(r.dir, "findings")

	got := counts(t, db, "SELECT finding_info.analytic.name, count(*) FROM "+finds+" WHERE class_uid = 2004 GROUP BY ALL")
	if !maps.Equal(got, byKind(r.res)) {
		t.Errorf("findings by kind: DuckDB %v, report %v", got, r.res.ByKind)
	}
	if got := counts(t, db, "SELECT finding_info.types[1], count(*) FROM "+finds+" WHERE type_uid = 200401 GROUP BY ALL"); !maps.Equal(got, byKind(r.res)) {
		t.Errorf("findings by finding_info.types: DuckDB %v, report %v", got, r.res.ByKind)
	}
	if n := one(t, db, "SELECT count(*) FROM "+conns+" WHERE class_uid = 4001 AND activity_id = 6"); n != r.res.Connections {
		t.Errorf("connections: DuckDB %d, report %d", n, r.res.Connections)
	}
	verdicts := counts(t, db, "SELECT unmapped.verdict, count(*) FROM "+conns+" GROUP BY ALL")
	if verdicts["insufficient"] != r.res.Insufficient || verdicts["outside_leg"] != r.res.OutsideLegs {
		t.Errorf("verdicts %v; report: %d insufficient, %d outside legs", verdicts, r.res.Insufficient, r.res.OutsideLegs)
	}
	if n := one(t, db, "SELECT count(*) FROM "+flows+" WHERE class_uid = 4001"); n != r.records {
		t.Errorf("flows: DuckDB %d rows, %d records decoded", n, r.records)
	}
	// Endpoints: the finding's evidence artifact is its connection.
	q := "SELECT finding_info.analytic.name, e.src_endpoint.ip, e.src_endpoint.port, e.dst_endpoint.ip, e.dst_endpoint.port " +
		"FROM (SELECT finding_info, unnest(evidences) AS e FROM " + finds + ")"
	if got := keysOf(t, db, q); !slices.Equal(got, findingKeys(r.res)) {
		t.Errorf("findings: DuckDB %v, report %v", got, findingKeys(r.res))
	}
	// Findings correlate with their connection, whose endpoints they share.
	q = "SELECT count(*) FROM " + finds + " f JOIN " + conns + " c ON f.metadata.correlation_uid = c.connection_info.uid " +
		"WHERE f.observables[1].value = c.src_endpoint.ip AND c.severity_id >= f.severity_id"
	if n := one(t, db, q); n != int64(len(r.res.Findings)) {
		t.Errorf("%d of %d findings join their connection", n, len(r.res.Findings))
	}
	// OCSF times are epoch milliseconds; their _dt twins the same instants.
	for _, tbl := range []string{conns, finds} {
		if n := one(t, db, "SELECT count(*) FROM "+tbl+" WHERE epoch_ms(time_dt) <> time OR epoch_ms(end_time_dt) <> end_time"); n != 0 {
			t.Errorf("%d rows whose time and time_dt disagree", n)
		}
	}
	if n := one(t, db, "SELECT count(*) FROM "+flows+" WHERE src_endpoint.ip IS NOT NULL AND connection_info.protocol_num = 6 AND traffic.packets > 0"); n == 0 {
		t.Error("no TCP flows with endpoints and packets")
	}
	wantTypes(t, types(t, db, "SELECT * FROM "+conns), map[string]string{
		"date": "DATE", "class_uid": "INTEGER", "type_uid": "BIGINT", "time": "BIGINT", "time_dt": "TIMESTAMP WITH TIME ZONE",
		"src_endpoint": "STRUCT(ip VARCHAR, port INTEGER)", "connection_info": "STRUCT(uid VARCHAR, protocol_num INTEGER",
		"traffic": "STRUCT(packets BIGINT", "observables": "STRUCT(",
	})
	wantTypes(t, types(t, db, "SELECT * FROM "+flows), map[string]string{
		"date": "DATE", "time_dt": "TIMESTAMP WITH TIME ZONE", "cloud": "STRUCT(provider VARCHAR",
		"unmapped": "STRUCT(",
	})
	if n := one(t, db, "SELECT count(*) FROM "+finds+" WHERE date = CAST(time_dt AS DATE)"); n != int64(len(r.res.Findings)) {
		t.Errorf("%d of %d findings are in the partition of their date", n, len(r.res.Findings))
	}
	if r.counts.Connections != r.res.Connections || r.counts.Findings != int64(len(r.res.Findings)) {
		t.Errorf("writer counted %+v, report %d connections, %d findings", r.counts, r.res.Connections, len(r.res.Findings))
	}
}
