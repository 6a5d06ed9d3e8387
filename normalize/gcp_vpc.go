package normalize

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/flowsym/flowsym/normalize/schema"
)

// GCPVPC parses GCP VPC Flow Logs as a Cloud Logging sink writes them to
// Cloud Storage: one LogEntry per line (NDJSON) under
// compute.googleapis.com/vpc_flows/YYYY/MM/DD/. It also reads the same
// entries as a JSON array (gcloud logging read --format=json, the Logging
// API's {"entries": [...]}), pretty-printed, and as BigQuery exports them
// (the payload under jsonPayload or json_payload or at the top level,
// INT64 as strings, timestamps as "2019-06-14 03:45:37.186193 UTC").
//
// source_line is the line of the entry in NDJSON, or the 1-based position
// of the entry in the document when the object is one JSON value.
//
// Each entry is recognised by its payload, so a Cloud NAT entry in the
// same object is read as one (see GCPNAT) rather than lost.
type GCPVPC struct{}

var _ Parser = (*GCPVPC)(nil)

// Parse implements Parser.
func (*GCPVPC) Parse(ctx context.Context, in *Input, b *schema.Builder) error {
	return parseGCP(ctx, in, b)
}

// gcpObject is the state of one GCP object being parsed.
type gcpObject struct {
	in  *Input
	b   *schema.Builder
	p   fastjson.Parser
	buf []byte // scratch for labels built from several values
	// warning is a problem about the record being staged that loses no
	// data; it is reported after the record is committed.
	warning error
}

func parseGCP(ctx context.Context, in *Input, b *schema.Builder) error {
	br, ok := in.R.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(in.R, 64<<10)
	}
	o := &gcpObject{in: in, b: b}
	if gcpWholeJSON(br) {
		w := newJSONWalker(skipBOM(br), "entries", [2]string{"entry", "entries"}, func(e *jsonElem) error {
			v, err := o.p.ParseBytes(e.raw)
			if err != nil {
				return in.problem(e.ordinal, lineErr(ErrMalformed, "%s: %v", e.where(), err))
			}
			return o.entry(v, e.ordinal)
		})
		return w.walk(ctx)
	}
	return o.lines(ctx, br)
}

// gcpWholeJSON tells a document that is one JSON value (an array, or a
// pretty-printed object whose first line is a lone "{") from NDJSON, whose
// first line is a complete entry.
func gcpWholeJSON(br *bufio.Reader) bool {
	head, _ := br.Peek(4096)
	head = bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(head) == 0 {
		return false
	}
	if head[0] == '[' {
		return true
	}
	line, _, _ := bytes.Cut(head, []byte("\n"))
	return string(bytes.TrimSpace(line)) == "{"
}

// lines reads NDJSON. A line that is not JSON is malformed, unless it is
// the last one: then the object was cut while it was written (or read),
// which is reported as damage after every complete line is kept.
func (o *gcpObject) lines(ctx context.Context, r io.Reader) error {
	lr := newLineReader(r)
	var (
		cutLine int64 // a line that failed to parse, pending until we know whether it was the last
		cutErr  error
	)
	flushCut := func() error {
		if cutLine == 0 {
			return nil
		}
		n, err := cutLine, cutErr
		cutLine, cutErr = 0, nil
		return o.in.problem(n, lineErr(ErrMalformed, "not a JSON object: %v", err))
	}
	for {
		line, n, err := lr.next()
		switch {
		case err == io.EOF:
			if cutLine != 0 {
				return fmt.Errorf("%w: the last line, %d, is cut or is not JSON (%v); the lines before it were kept", ErrDamaged, cutLine, cutErr)
			}
			return nil
		case errors.Is(err, errLineTooLong):
			if err := flushCut(); err != nil {
				return err
			}
			if err := o.in.problem(n, lineErr(ErrMalformed, "%v", err)); err != nil {
				return err
			}
			continue
		case err != nil:
			if err := flushCut(); err != nil {
				return err
			}
			return damaged(n, err)
		}
		if err := flushCut(); err != nil {
			return err
		}
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		v, perr := o.p.ParseBytes(line)
		if perr != nil {
			cutLine, cutErr = n, perr
			continue
		}
		if err := o.entry(v, n); err != nil {
			return err
		}
	}
}

// entry stages and commits one LogEntry, or reports why it cannot.
func (o *gcpObject) entry(e *fastjson.Value, n int64) error {
	if e.Type() != fastjson.TypeObject {
		return o.in.problem(n, lineErr(ErrMalformed, "a JSON %s, not a log entry object", e.Type()))
	}
	payload := gcpPayload(e)
	if payload == nil {
		return o.in.problem(n, lineErr(ErrMalformed, "no jsonPayload with a connection: not a VPC Flow Logs or Cloud NAT entry"))
	}
	var err error
	o.warning = nil
	if isNATPayload(e, payload) {
		err = o.nat(e, payload)
	} else {
		err = o.vpc(e, payload)
	}
	if err != nil {
		o.b.Discard()
		return o.in.problem(n, err)
	}
	o.b.Int(schema.SourceLine, n)
	if err := o.b.Commit(); err != nil {
		return err
	}
	if w := o.warning; w != nil {
		o.warning = nil
		return o.in.problem(n, w)
	}
	return nil
}

// gcpPayload finds the flow payload: jsonPayload in a LogEntry and in
// BigQuery's log sink tables, json_payload in Log Analytics views, or the
// entry itself when a query selected jsonPayload.*.
func gcpPayload(e *fastjson.Value) *fastjson.Value {
	for _, k := range [...]string{"jsonPayload", "json_payload"} {
		if p := e.Get(k); p != nil && p.Type() == fastjson.TypeObject {
			return p
		}
	}
	if c := e.Get("connection"); c != nil && c.Type() == fastjson.TypeObject {
		return e
	}
	return nil
}

// gcpSide names the members that describe one end of a VPC flow.
type gcpSide struct {
	ip, port, instance, vpc, gateway, gke string
}

var (
	gcpSrc  = gcpSide{"src_ip", "src_port", "src_instance", "src_vpc", "src_gateway", "src_gke_details"}
	gcpDest = gcpSide{"dest_ip", "dest_port", "dest_instance", "dest_vpc", "dest_gateway", "dest_gke_details"}
)

// vpc stages a VPC Flow Logs record. The reporter decides the observer: SRC
// (and SRC_GATEWAY) means the source end captured the packets as they left
// it, so the record is egress there; DEST means ingress at the destination.
func (o *gcpObject) vpc(e, p *fastjson.Value) error {
	b := o.b
	b.Fixed(schema.Cloud, "gcp")
	b.Fixed(schema.LogKind, KindGCPVPC)
	conn := p.Get("connection")
	if conn == nil || conn.Type() != fastjson.TypeObject {
		return lineErr(ErrMalformed, "field connection is missing")
	}
	if err := gcpConnection(b, conn); err != nil {
		return err
	}
	if err := setJSONTime(b, schema.StartTime, p.Get("start_time"), "start_time"); err != nil {
		return err
	}
	if err := setJSONTime(b, schema.EndTime, p.Get("end_time"), "end_time"); err != nil {
		return err
	}
	if err := setJSONInt(b, schema.Packets, p.Get("packets_sent"), "packets_sent", math.MaxInt64); err != nil {
		return err
	}
	if err := setJSONInt(b, schema.Bytes, p.Get("bytes_sent"), "bytes_sent", math.MaxInt64); err != nil {
		return err
	}
	b.Bool(schema.Sampled, true)
	b.Bool(schema.ConnectionOnly, false)

	// Drop records (disposition DROPPED) count the dropped packets.
	if d := str(p, "disposition"); d != nil {
		b.Label("disposition", bstr(d))
		switch string(d) {
		case "DROPPED":
			b.Str(schema.Action, "reject")
			if !b.IsSet(schema.Packets) {
				if err := setJSONInt(b, schema.Packets, p.Get("packets_dropped"), "packets_dropped", math.MaxInt64); err != nil {
					return err
				}
				if err := setJSONInt(b, schema.Bytes, p.Get("bytes_dropped"), "bytes_dropped", math.MaxInt64); err != nil {
					return err
				}
			}
		case "ALLOWED":
			b.Str(schema.Action, "accept")
		}
	}
	if r := str(p, "drop_reason"); r != nil {
		b.Label("drop_reason", bstr(r))
	}

	reporter := str(p, "reporter")
	var side gcpSide
	gateway := false
	switch string(reporter) {
	case "SRC":
		side = gcpSrc
		b.Str(schema.Direction, "egress")
	case "DEST":
		side = gcpDest
		b.Str(schema.Direction, "ingress")
	case "SRC_GATEWAY":
		side, gateway = gcpSrc, true
		b.Str(schema.Direction, "egress")
	case "DEST_GATEWAY":
		side, gateway = gcpDest, true
		b.Str(schema.Direction, "ingress")
	default:
		// Keep the record: its 5-tuple and counters are still evidence,
		// only whose it is is unknown. The warning says so.
		if reporter != nil {
			b.Label("reporter", bstr(reporter))
			o.warning = fmt.Errorf("%w: reporter %q is not SRC, DEST, SRC_GATEWAY or DEST_GATEWAY; observer and direction left empty", ErrUnknownField, reporter)
		} else {
			o.warning = fmt.Errorf("%w: no reporter; observer and direction left empty", ErrUnknownField)
		}
		o.resourceContext(e)
		o.gkeLabels(p, gcpSrc)
		o.gkeLabels(p, gcpDest)
		return nil
	}
	inst := p.Get(side.instance)
	vpc := p.Get(side.vpc)
	gw := p.Get(side.gateway)
	zone := str(inst, "zone")
	setFirst(b, schema.Account, str(inst, "project_id"), str(vpc, "project_id"), str(gw, "project_id"))
	setFirst(b, schema.Region, str(inst, "region"), str(vpc, "subnetwork_region"), str(gw, "location"))
	setFirst(b, schema.Zone, zone)
	setFirst(b, schema.Network, str(vpc, "vpc_name"), str(gw, "vpc", "vpc_name"))
	setFirst(b, schema.Subnet, str(vpc, "subnetwork_name"))
	if vm := str(inst, "vm_name"); vm != nil {
		b.Bytes(schema.Instance, vm)
		b.Bytes(schema.Observer, vm)
	} else if name := str(gw, "name"); name != nil {
		b.Bytes(schema.Observer, name)
	} else {
		// Metadata annotations are off (the Compute Engine API default):
		// the reporter's own address is the only name of the interface.
		b.Bytes(schema.Observer, str(conn, side.ip))
	}
	if gateway {
		if t := str(gw, "type"); t != nil {
			b.Label(side.gateway+".type", bstr(t))
		}
	} else {
		// The monitored resource describes the VM end (a gce_subnetwork);
		// it says nothing about a gateway.
		o.resourceContext(e)
	}
	if region, isZone := gcpRegion(zone); isZone {
		setFirst(b, schema.Region, region)
	}
	o.gkeLabels(p, gcpSrc)
	o.gkeLabels(p, gcpDest)
	return nil
}

// gcpConnection stages the 5-tuple of a VPC or NAT connection object.
func gcpConnection(b *schema.Builder, conn *fastjson.Value) error {
	if err := setJSONAddr(b, schema.SrcAddr, conn.Get("src_ip"), "connection.src_ip", true); err != nil {
		return err
	}
	if err := setJSONAddr(b, schema.DstAddr, conn.Get("dest_ip"), "connection.dest_ip", true); err != nil {
		return err
	}
	if err := setJSONInt(b, schema.SrcPort, conn.Get("src_port"), "connection.src_port", 65535); err != nil {
		return err
	}
	if err := setJSONInt(b, schema.DstPort, conn.Get("dest_port"), "connection.dest_port", 65535); err != nil {
		return err
	}
	return setJSONProto(b, schema.Protocol, conn.Get("protocol"), "connection.protocol")
}

// resourceContext fills what the payload did not say from the LogEntry's
// monitored resource: gce_subnetwork labels name the project, subnetwork
// and location (a zone) of the reporting end.
func (o *gcpObject) resourceContext(e *fastjson.Value) {
	b := o.b
	labels := e.Get("resource", "labels")
	if labels == nil {
		return
	}
	setFirst(b, schema.Account, str(labels, "project_id"))
	setFirst(b, schema.Subnet, str(labels, "subnetwork_name"))
	loc := str(labels, "location")
	if region, isZone := gcpRegion(loc); isZone {
		setFirst(b, schema.Zone, loc)
		setFirst(b, schema.Region, region)
	} else {
		setFirst(b, schema.Region, loc)
	}
}

// gcpRegion returns the region of a zone name (us-east1-b -> us-east1) and
// whether loc is a zone; a region is returned as is.
func gcpRegion(loc []byte) ([]byte, bool) {
	// Zones are <region>-<letter>; regions end in a digit.
	n := len(loc)
	if n >= 3 && loc[n-2] == '-' && loc[n-1] >= 'a' && loc[n-1] <= 'z' {
		return loc[:n-2], true
	}
	return loc, false
}

// setFirst stages the first non-empty value, unless the column is set.
func setFirst(b *schema.Builder, c schema.Col, vals ...[]byte) {
	if b.IsSet(c) {
		return
	}
	for _, v := range vals {
		if len(v) > 0 {
			b.Bytes(c, v)
			return
		}
	}
}

// gkeLabels keeps the GKE annotations of one end, under their payload
// paths (src_gke_details.pod.pod_name and so on).
func (o *gcpObject) gkeLabels(p *fastjson.Value, side gcpSide) {
	g := p.Get(side.gke)
	if g == nil || g.Type() != fastjson.TypeObject {
		return
	}
	b := o.b
	for _, f := range gkeFields {
		if v := str(g, f.path...); v != nil {
			key := f.src
			if side.gke == gcpDest.gke {
				key = f.dest
			}
			b.Label(key, bstr(v))
		}
	}
	// Services (at most two, or one MANY_SERVICES entry) become one label
	// of namespace/name pairs. It is rare enough to build as a new string.
	services := g.GetArray("service")
	if len(services) == 0 {
		return
	}
	o.buf = o.buf[:0]
	for i, s := range services {
		if i > 0 {
			o.buf = append(o.buf, ',')
		}
		if ns := str(s, "service_namespace"); ns != nil {
			o.buf = append(o.buf, ns...)
			o.buf = append(o.buf, '/')
		}
		o.buf = append(o.buf, str(s, "service_name")...)
	}
	b.Label(side.gke+".service", string(o.buf))
}

// gkeField is a GKE annotation kept as a label.
type gkeField struct {
	path      []string
	src, dest string // the label keys for each end
}

var gkeFields = func() []gkeField {
	paths := [][]string{
		{"cluster", "cluster_name"},
		{"cluster", "cluster_location"},
		{"pod", "pod_namespace"},
		{"pod", "pod_name"},
		{"pod", "workload", "workload_name"},
		{"pod", "workload", "workload_type"},
	}
	out := make([]gkeField, len(paths))
	for i, p := range paths {
		key := "." + strings.Join(p, ".")
		out[i] = gkeField{path: p, src: gcpSrc.gke + key, dest: gcpDest.gke + key}
	}
	return out
}()
