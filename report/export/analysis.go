package export

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"net/netip"
	"path"
	"slices"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/flowsym/flowsym/correlate"
	"github.com/flowsym/flowsym/normalize/schema"
)

// Export schemas: flowsym's own flat names, or the same data shaped as OCSF
// (docs/analysis-export.md).
const (
	SchemaFlowsym = "flowsym"
	SchemaOCSF    = "ocsf"
)

// Schemas lists the export schemas, the default first.
var Schemas = []string{SchemaFlowsym, SchemaOCSF}

// The folders of an analysis export.
const (
	DirFlows       = "flows"
	DirConnections = "connections"
	DirFindings    = "findings"
)

// DefaultBatchRows is how many connection or finding rows are buffered as
// Arrow before they are encoded.
const DefaultBatchRows = 4096

// AnalysisOptions configure an AnalysisWriter.
type AnalysisOptions struct {
	// Schema is SchemaFlowsym (the default when empty) or SchemaOCSF.
	Schema string
	// RunID makes file names of this run unique, so runs that write to one
	// folder never overwrite each other.
	RunID string
	// Version is flowsym's version, written as OCSF
	// metadata.product.version; empty leaves it NULL.
	Version string
	// Public tells public addresses from private ones (the topology's
	// Topology.IsPublic). The OCSF export uses it for a connection's
	// connection_info.direction_id; nil leaves that NULL.
	Public func(netip.Addr) bool
	// BatchRows bounds the connection and finding rows held as Arrow before
	// they are encoded; <= 0 means DefaultBatchRows.
	BatchRows int
	// RowGroupRows bounds a Parquet row group; <= 0 means
	// DefaultRowGroupRows.
	RowGroupRows int64
	// Mem allocates Arrow memory; nil means the Go allocator.
	Mem memory.Allocator
}

// AnalysisCounts are what an AnalysisWriter wrote. Connections, Findings,
// ByKind, Insufficient and OutsideLegs are counted as correlate.Result
// counts them, so a report and its export can be checked against each
// other.
type AnalysisCounts struct {
	Flows        int64
	Connections  int64
	Findings     int64
	Insufficient int64
	OutsideLegs  int64
	ByKind       map[string]int64
}

// AnalysisWriter writes the analysis of a run under one Creator: flows/
// (normalized records), connections/ (one row per judged connection) and
// findings/ (one row per finding), each a Hive-partitioned folder of
// Parquet files. Memory holds at most BatchRows connection and finding
// rows as Arrow, plus for each open partition one row group being encoded;
// it does not grow with the number of connections.
//
// It is not safe for concurrent use. After the first error every call
// returns that error; Close then discards what was written.
type AnalysisWriter struct {
	ctx       context.Context
	dst       Creator
	opts      AnalysisOptions
	flows     *FlowWriter // flowsym schema
	ocsf      *table      // flows in the OCSF schema
	conns     *table
	finds     *table
	counts    AnalysisCounts
	written   []string
	flowNames []string // the flows/ files Finish finished
	err       error
	finished  bool // Finish ran: files await Commit
	done      bool // committed or aborted
}

// NewAnalysisWriter returns a writer that creates its files through dst.
func NewAnalysisWriter(ctx context.Context, dst Creator, opts AnalysisOptions) (*AnalysisWriter, error) {
	switch opts.Schema {
	case "":
		opts.Schema = SchemaFlowsym
	case SchemaFlowsym, SchemaOCSF:
	default:
		return nil, fmt.Errorf("export schema %q: want %s or %s", opts.Schema, SchemaFlowsym, SchemaOCSF)
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = DefaultBatchRows
	}
	if opts.RowGroupRows <= 0 {
		opts.RowGroupRows = DefaultRowGroupRows
	}
	if opts.Mem == nil {
		opts.Mem = memory.NewGoAllocator()
	}
	w := &AnalysisWriter{ctx: ctx, dst: dst, opts: opts, counts: AnalysisCounts{ByKind: map[string]int64{}}}
	if opts.Schema == SchemaOCSF {
		w.ocsf = w.newTable(DirFlows, ocsfFlowSchema)
		w.conns = w.newTable(DirConnections, ocsfConnectionSchema)
		w.finds = w.newTable(DirFindings, ocsfFindingSchema)
	} else {
		w.flows = NewFlowWriter(ctx, subdir{dst, DirFlows}, Options{Partitioned: true, RunID: opts.RunID, RowGroupRows: opts.RowGroupRows, Mem: opts.Mem})
		w.conns = w.newTable(DirConnections, connectionSchema)
		w.finds = w.newTable(DirFindings, findingSchema)
	}
	return w, nil
}

// ConnectionSchema and FindingSchema are the Arrow schemas of the
// connections/ and findings/ files of a flowsym-schema export (the date
// partition column is in the folder names, not in the files).
func ConnectionSchema() *arrow.Schema { return connectionSchema }

// FindingSchema: see ConnectionSchema.
func FindingSchema() *arrow.Schema { return findingSchema }

// Flows appends a batch of normalized flows to flows/. The batch is not
// kept.
func (w *AnalysisWriter) Flows(rec arrow.RecordBatch) error {
	if w.err != nil {
		return w.err
	}
	if w.finished {
		return errors.New("analysis export: Flows after Finish or Close")
	}
	if rec.NumRows() == 0 {
		return nil
	}
	var err error
	if w.flows != nil {
		err = w.flows.Write(rec)
	} else {
		err = w.ocsfFlows(rec)
	}
	if err != nil {
		return w.fail(err)
	}
	w.counts.Flows += rec.NumRows()
	return nil
}

// Connection appends one judged connection to connections/ and its
// findings to findings/. Nothing of v is kept after the call.
func (w *AnalysisWriter) Connection(v correlate.Verdict) error {
	if w.err != nil {
		return w.err
	}
	if w.finished {
		return errors.New("analysis export: Connection after Finish or Close")
	}
	c := describe(v)
	w.counts.Connections++
	switch c.verdict {
	case verdictOutsideLeg:
		w.counts.OutsideLegs++
	case verdictInsufficient:
		w.counts.Insufficient++
	}
	for _, f := range v.Findings {
		w.counts.Findings++
		w.counts.ByKind[f.Kind]++
	}
	if w.opts.Schema == SchemaOCSF {
		w.ocsfConnection(&c)
	} else {
		w.connection(&c)
	}
	for i := range v.Findings {
		if w.opts.Schema == SchemaOCSF {
			w.ocsfFinding(&c, &v.Findings[i])
		} else {
			w.finding(&c, &v.Findings[i])
		}
	}
	if w.conns.pending+w.finds.pending >= w.opts.BatchRows {
		if err := errors.Join(w.conns.flush(), w.finds.flush()); err != nil {
			return w.fail(err)
		}
	}
	return nil
}

func (w *AnalysisWriter) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// Close finishes every file and makes them visible: Finish, then Commit.
// An empty connections/ or findings/ still gets one file without rows (in
// the NULL date partition), so that the folder has a schema engines can
// read and queries count zero instead of failing. On error, files not yet
// committed are discarded.
func (w *AnalysisWriter) Close() error {
	if _, err := w.Finish(); err != nil {
		return err
	}
	return w.Commit()
}

// Finish writes the end of every file without publishing any, and returns
// the names they will have, as FlowWriter.Finish does: a scheduled run
// records them before Commit, so that a run killed while committing can be
// cleaned up. On error everything is discarded.
func (w *AnalysisWriter) Finish() ([]string, error) {
	switch {
	case w.err != nil && (w.finished || w.done):
		return nil, w.err
	case w.done:
		return w.written, nil
	case w.finished:
		return w.pending(), nil
	}
	w.finished = true
	if w.err != nil {
		w.Abort()
		return nil, w.err
	}
	if w.flows != nil {
		names, err := w.flows.Finish()
		if err != nil {
			w.fail(err)
			w.Abort()
			return nil, err
		}
		w.flowNames = prefixAll(DirFlows, names)
	}
	for _, t := range []*table{w.ocsf, w.conns, w.finds} {
		if t == nil {
			continue
		}
		err := t.flush()
		if err == nil && t != w.ocsf && t.rows == 0 {
			_, err = t.part(DefaultPartitionKey)
		}
		if err == nil {
			err = t.finish()
		}
		if err != nil {
			w.fail(err)
			w.Abort()
			return nil, err
		}
	}
	return w.pending(), nil
}

// pending lists the files Finish finished, sorted.
func (w *AnalysisWriter) pending() []string {
	names := slices.Clone(w.flowNames)
	for _, t := range []*table{w.ocsf, w.conns, w.finds} {
		if t != nil {
			for _, pf := range t.parts {
				names = append(names, pf.name)
			}
		}
	}
	sort.Strings(names)
	return names
}

// Commit publishes the files Finish finished. On error, the files not yet
// committed are discarded.
func (w *AnalysisWriter) Commit() error {
	if w.done {
		return w.err
	}
	if !w.finished {
		return w.fail(errors.New("analysis export: Commit before Finish"))
	}
	w.done = true
	var err error
	if w.flows != nil {
		err = w.flows.Commit()
		w.written = append(w.written, prefixAll(DirFlows, w.flows.Files())...)
	}
	for _, t := range []*table{w.ocsf, w.conns, w.finds} {
		if t == nil {
			continue
		}
		if err != nil {
			t.abort()
			continue
		}
		err = t.commit()
		w.written = append(w.written, t.written...)
	}
	sort.Strings(w.written)
	w.err = err
	return err
}

// Abort discards every file not yet committed.
func (w *AnalysisWriter) Abort() {
	if w.done {
		return
	}
	w.done, w.finished = true, true
	w.abort()
}

func (w *AnalysisWriter) abort() {
	if w.flows != nil {
		w.flows.Abort()
	}
	for _, t := range []*table{w.ocsf, w.conns, w.finds} {
		if t != nil {
			t.abort()
		}
	}
}

// Files returns the names of the committed files, sorted.
func (w *AnalysisWriter) Files() []string { return w.written }

// Counts returns what was written so far.
func (w *AnalysisWriter) Counts() AnalysisCounts {
	c := w.counts
	c.ByKind = maps.Clone(c.ByKind)
	return c
}

// DefaultPartitionKey is the date partition of rows without a time.
const DefaultPartitionKey = "date=" + DefaultPartition

// dateKey is the Hive partition folder of a time in microseconds.
func dateKey(micros int64) string {
	return "date=" + time.UnixMicro(micros).UTC().Format(time.DateOnly)
}

// subdir creates files under a folder of another Creator.
type subdir struct {
	Creator
	dir string
}

func (s subdir) Create(ctx context.Context, name string) (ObjectWriter, error) {
	return s.Creator.Create(ctx, path.Join(s.dir, name))
}

func prefixAll(dir string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = path.Join(dir, n)
	}
	return out
}

// Verdicts of a connection, as connections.verdict names them.
const (
	verdictFindings     = "findings"
	verdictInsufficient = "insufficient"
	verdictOutsideLeg   = "outside_leg"
	verdictOK           = "ok"
)

// conn is what every row of one connection shares.
type conn struct {
	v              *correlate.Verdict
	id             string
	first, last    int64 // microseconds
	client, server netip.AddrPort
	clientText     string
	serverText     string
	cloud          string
	fwdPkts        int64 // the most any observer counted
	revPkts        int64
	rejected       bool
	verdict        string
	kinds          []string
}

func describe(v correlate.Verdict) conn {
	c := conn{v: &v, id: connectionID(v), first: v.Session.First, last: v.Session.Last,
		client: v.Client.AddrPort(), server: v.Server.AddrPort()}
	c.clientText, c.serverText = c.client.Addr().String(), c.server.Addr().String()
	for _, w := range v.Views {
		if c.cloud == "" {
			c.cloud = w.ID.Cloud
		}
		c.fwdPkts = max(c.fwdPkts, w.FwdPkts)
		c.revPkts = max(c.revPkts, w.RevPkts)
		c.rejected = c.rejected || w.Rejected
	}
	switch {
	case v.OutsideLeg:
		c.verdict = verdictOutsideLeg
	case len(v.Findings) > 0:
		c.verdict = verdictFindings
	case v.Insufficient:
		c.verdict = verdictInsufficient
	default:
		c.verdict = verdictOK
	}
	c.kinds = make([]string, len(v.Findings))
	for i, f := range v.Findings {
		c.kinds[i] = f.Kind
	}
	return c
}

// connectionID is a stable name of a connection: the same records give the
// same id in every run, and findings point at their connection with it.
func connectionID(v correlate.Verdict) string {
	h := fnv.New128a()
	var b [2 + 16 + 2 + 16 + 2 + 8]byte
	b[0] = v.Key.Proto
	copy(b[2:], v.Key.A.Addr[:])
	binary.BigEndian.PutUint16(b[18:], v.Key.A.Port)
	copy(b[20:], v.Key.B.Addr[:])
	binary.BigEndian.PutUint16(b[36:], v.Key.B.Port)
	binary.BigEndian.PutUint64(b[38:], uint64(v.Session.First))
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil))
}

// findingID names a finding: a connection raises each kind at most once.
func findingID(c *conn, kind string) string { return c.id + "-" + kind }

// Column types and field helpers shared by the schemas.
var (
	tText = arrow.BinaryTypes.String
	tI32  = arrow.PrimitiveTypes.Int32
	tI64  = arrow.PrimitiveTypes.Int64
	tBool = arrow.FixedWidthTypes.Boolean
	tTime = schema.KindTime.ArrowType() // timestamp[us, UTC]
)

// opt is a nullable field; req one that is never NULL.
func opt(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}

func req(name string, t arrow.DataType) arrow.Field { return arrow.Field{Name: name, Type: t} }

// listOf is a list whose elements are never NULL.
func listOf(t arrow.DataType) arrow.DataType { return arrow.ListOfNonNullable(t) }

var (
	evidenceType = arrow.StructOf(opt("object", tText), req("line", tI64))
	// observerType is what one observer saw of a connection.
	observerType         = arrow.StructOf(observerFields(true)...)
	findingObserverType  = arrow.StructOf(observerFields(false)...)
	connectionObservers  = req("observers", listOf(observerType))
	findingObserverField = req("observers", listOf(findingObserverType))
)

func observerFields(evidence bool) []arrow.Field {
	fs := []arrow.Field{
		opt("name", tText), opt("observer_id", tText), opt("cloud", tText), opt("log_kind", tText),
		opt("resource", tText), opt("region", tText), req("role", tText), req("approved", tBool),
		req("sampled", tBool), req("forward", tBool), req("reverse", tBool),
		req("forward_packets", tI64), req("reverse_packets", tI64), req("records", tI64),
		req("rejected", tBool), req("first_seen", tTime), req("last_seen", tTime),
	}
	if evidence {
		fs = append(fs, req("evidence", listOf(evidenceType)))
	}
	return fs
}

var connectionSchema = arrow.NewSchema([]arrow.Field{
	req("connection_id", tText),
	req("first_seen", tTime),
	req("last_seen", tTime),
	req("protocol", tI32),
	req("client_addr", tText),
	req("client_port", tI32),
	req("server_addr", tText),
	req("server_port", tI32),
	opt("cloud", tText),
	req("records", tI64),
	req("forward_packets", tI64),
	req("reverse_packets", tI64),
	req("rejected", tBool),
	req("verdict", tText),
	req("finding_kinds", listOf(tText)),
	req("insufficient", tBool),
	req("outside_leg", tBool),
	connectionObservers,
}, nil)

var findingSchema = arrow.NewSchema([]arrow.Field{
	req("finding_id", tText),
	req("connection_id", tText),
	req("kind", tText),
	req("severity", tText),
	opt("reason", tText),
	req("confidence", tText),
	req("first_seen", tTime),
	req("last_seen", tTime),
	req("protocol", tI32),
	req("client_addr", tText),
	req("client_port", tI32),
	req("server_addr", tText),
	req("server_port", tI32),
	opt("cloud", tText),
	opt("detail", tText),
	findingObserverField,
	req("evidence", listOf(evidenceType)),
}, nil)

func (w *AnalysisWriter) connection(c *conn) {
	f := w.conns.row(dateKey(c.first))
	f.str(c.id)
	connectionTuple(f, c)
	f.optStr(c.cloud)
	f.i64(c.v.Session.Records)
	f.i64(c.fwdPkts)
	f.i64(c.revPkts)
	f.boolean(c.rejected)
	f.str(c.verdict)
	f.strs(c.kinds)
	f.boolean(c.v.Insufficient)
	f.boolean(c.v.OutsideLeg)
	observers(f, c.v.Views, true)
	f.end()
}

// connectionTuple writes the columns connections/ and findings/ share, in
// their order: first and last time, protocol, client and server.
func connectionTuple(f *fill, c *conn) {
	f.ts(c.first)
	f.ts(c.last)
	f.i32(int32(c.v.Key.Proto))
	f.str(c.clientText)
	f.i32(int32(c.client.Port()))
	f.str(c.serverText)
	f.i32(int32(c.server.Port()))
}

func (w *AnalysisWriter) finding(c *conn, fd *correlate.Finding) {
	f := w.finds.row(dateKey(c.first))
	f.str(findingID(c, fd.Kind))
	f.str(c.id)
	f.str(fd.Kind)
	f.str(fd.Severity)
	f.optStr(fd.Reason)
	f.str(fd.Confidence)
	connectionTuple(f, c)
	f.optStr(fd.Cloud)
	f.optStr(fd.Detail)
	observers(f, c.v.Views, false)
	evidence(f, fd.Evidence)
	f.end()
}

// observers fills a list of observerType (or findingObserverType).
func observers(f *fill, views []correlate.View, withEvidence bool) {
	f.list(len(views), func(i int, o *fill) {
		v := &views[i]
		o.optStr(v.Name)
		o.optStr(v.ID.ID)
		o.optStr(v.ID.Cloud)
		o.optStr(v.ID.Kind)
		o.optStr(v.ID.Resource)
		o.optStr(v.Region)
		o.str(string(v.Role))
		o.boolean(v.Approved())
		o.boolean(v.Sampled)
		o.boolean(v.Forward)
		o.boolean(v.Reverse)
		o.i64(v.FwdPkts)
		o.i64(v.RevPkts)
		o.i64(int64(v.Records))
		o.boolean(v.Rejected)
		o.ts(v.First)
		o.ts(v.Last)
		if withEvidence {
			o.list(len(v.Evidence), func(j int, e *fill) {
				e.optStr(v.Evidence[j].Object)
				e.i64(v.Evidence[j].Line)
			})
		}
	})
}

func evidence(f *fill, refs []correlate.EvidenceRef) {
	f.list(len(refs), func(i int, e *fill) {
		e.optStr(refs[i].Object)
		e.i64(refs[i].Line)
	})
}

// fill appends one row's values to the builders of a record or a struct,
// in field order. A type assertion that fails, or end finding fields left
// unfilled, is a mismatch between a schema and its fill code: a bug that
// every test run hits.
type fill struct {
	field func(int) array.Builder
	n, i  int
}

func (f *fill) next() array.Builder {
	b := f.field(f.i)
	f.i++
	return b
}

// end checks that every field got a value.
func (f *fill) end() {
	if f.i != f.n {
		panic(fmt.Sprintf("export: filled %d of %d fields", f.i, f.n))
	}
}

func (f *fill) str(s string) { f.next().(*array.StringBuilder).Append(s) }

// optStr appends s, or NULL when it is empty.
func (f *fill) optStr(s string) {
	b := f.next().(*array.StringBuilder)
	if s == "" {
		b.AppendNull()
		return
	}
	b.Append(s)
}

func (f *fill) null()            { f.next().AppendNull() }
func (f *fill) i32(v int32)      { f.next().(*array.Int32Builder).Append(v) }
func (f *fill) i64(v int64)      { f.next().(*array.Int64Builder).Append(v) }
func (f *fill) boolean(v bool)   { f.next().(*array.BooleanBuilder).Append(v) }
func (f *fill) ts(micros int64)  { f.next().(*array.TimestampBuilder).Append(arrow.Timestamp(micros)) }
func (f *fill) strs(ss []string) { f.list(len(ss), nil, ss...) }

// structOf fills a struct field.
func (f *fill) structOf(fn func(*fill)) {
	b := f.next().(*array.StructBuilder)
	b.Append(true)
	sub := fill{field: b.FieldBuilder, n: b.NumField()}
	fn(&sub)
	sub.end()
}

// list fills a list of n structs, or with strs a list of strings.
func (f *fill) list(n int, fn func(int, *fill), strs ...string) {
	b := f.next().(*array.ListBuilder)
	b.Append(true)
	if fn == nil {
		vb := b.ValueBuilder().(*array.StringBuilder)
		for _, s := range strs {
			vb.Append(s)
		}
		return
	}
	sb := b.ValueBuilder().(*array.StructBuilder)
	for i := range n {
		sb.Append(true)
		sub := fill{field: sb.FieldBuilder, n: sb.NumField()}
		fn(i, &sub)
		sub.end()
	}
}

// table is one Hive-partitioned folder of Parquet files of one schema:
// rows are buffered per partition as Arrow, then encoded into the
// partition's file.
type table struct {
	w        *AnalysisWriter
	dir      string
	schema   *arrow.Schema
	fields   int
	builders map[string]*array.RecordBuilder
	parts    map[string]*partFile
	pending  int // rows in the builders
	rows     int64
	written  []string
}

func (w *AnalysisWriter) newTable(dir string, s *arrow.Schema) *table {
	return &table{w: w, dir: dir, schema: s, fields: s.NumFields(), builders: map[string]*array.RecordBuilder{}, parts: map[string]*partFile{}}
}

// row starts a row in partition key; the caller fills every field.
func (t *table) row(key string) *fill {
	b := t.builders[key]
	if b == nil {
		b = array.NewRecordBuilder(t.w.opts.Mem, t.schema)
		t.builders[key] = b
	}
	t.pending++
	return &fill{field: b.Field, n: t.fields}
}

// flush encodes every buffered row into its partition's file.
func (t *table) flush() error {
	if t.pending == 0 {
		return nil
	}
	for _, k := range sortedKeys(t.builders) {
		b := t.builders[k]
		rec := b.NewRecordBatch()
		err := t.write(k, rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	t.pending = 0
	return nil
}

// write encodes a batch of the table's schema into partition key's file.
func (t *table) write(key string, rec arrow.RecordBatch) error {
	if rec.NumRows() == 0 {
		return nil
	}
	pf, err := t.part(key)
	if err != nil {
		return err
	}
	if err := pf.pw.WriteBuffered(rec); err != nil {
		return fmt.Errorf("write %s: %w", pf.name, err)
	}
	pf.rows += rec.NumRows()
	t.rows += rec.NumRows()
	return nil
}

func (t *table) part(key string) (*partFile, error) {
	if pf, ok := t.parts[key]; ok {
		return pf, nil
	}
	if err := t.w.ctx.Err(); err != nil {
		return nil, err
	}
	file := "part-00000.parquet"
	if t.w.opts.RunID != "" {
		file = fmt.Sprintf("part-%05d-%s.parquet", 0, t.w.opts.RunID)
	}
	name := path.Join(t.dir, key, file)
	pf, err := createPart(t.w.ctx, t.w.dst, name, t.schema, t.w.opts.RowGroupRows, t.w.opts.Mem)
	if err != nil {
		return nil, err
	}
	t.parts[key] = pf
	return pf, nil
}

// finish writes every file's footer; the files await commit.
func (t *table) finish() error {
	t.release()
	for _, k := range sortedKeys(t.parts) {
		pf := t.parts[k]
		if pf.finished {
			continue
		}
		if err := pf.pw.Close(); err != nil {
			return fmt.Errorf("finish %s: %w", pf.name, err)
		}
		pf.finished = true
	}
	return nil
}

// commit publishes the finished files; on error the rest are discarded.
func (t *table) commit() error {
	var err error
	for _, k := range sortedKeys(t.parts) {
		pf := t.parts[k]
		if err != nil || !pf.finished {
			pf.abort()
			continue
		}
		if err = pf.out.Commit(); err != nil {
			err = fmt.Errorf("commit %s: %w", pf.name, err)
			continue
		}
		t.written = append(t.written, pf.name)
	}
	t.parts = map[string]*partFile{}
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (t *table) abort() {
	t.release()
	for _, pf := range t.parts {
		pf.abort()
	}
	t.parts = map[string]*partFile{}
}

func (t *table) release() {
	for _, b := range t.builders {
		b.Release()
	}
	t.builders = map[string]*array.RecordBuilder{}
	t.pending = 0
}
