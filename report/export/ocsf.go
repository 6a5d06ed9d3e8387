package export

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/flowsym/flowsym/correlate"
	"github.com/flowsym/flowsym/normalize/schema"
)

// The OCSF shape of the export (docs/analysis-export.md has the mapping):
// flows and connections are Network Activity (class 4001, activity 6
// Traffic), findings are Detection Finding (class 2004, activity 1 Create),
// all of OCSF 1.1.0. OCSF's own timestamps (time, start_time, ...) are
// epoch milliseconds as the schema defines them; each comes with its
// Date/Time profile twin (time_dt, ...) as a Parquet timestamp, which is
// what SQL engines filter on.
const (
	OCSFVersion = "1.1.0"

	ocsfNetworkActivity  = 4001
	ocsfDetectionFinding = 2004
	ocsfCategoryNetwork  = 4
	ocsfCategoryFindings = 2
	ocsfActivityTraffic  = 6
	ocsfActivityCreate   = 1
	ocsfTypeIPAddress    = 2 // observable type_id
	ocsfAnalyticRule     = 1 // analytic type_id
	ocsfStatusNew        = 1 // finding status_id
	ocsfSeverityInfo     = 1
)

var (
	productType = arrow.StructOf(req("name", tText), req("vendor_name", tText), opt("version", tText))
	accountType = arrow.StructOf(opt("uid", tText))
	cloudType   = arrow.StructOf(opt("provider", tText), opt("region", tText), opt("zone", tText), opt("account", accountType))

	endpointFields     = []arrow.Field{opt("ip", tText), opt("port", tI32)}
	endpointType       = arrow.StructOf(endpointFields...)
	flowEndpointFields = []arrow.Field{opt("ip", tText), opt("port", tI32), opt("svc_name", tText)}
	flowEndpointType   = arrow.StructOf(flowEndpointFields...)
	observableType     = arrow.StructOf(opt("name", tText), req("type_id", tI32), opt("type", tText), opt("value", tText))
	observablesField   = req("observables", listOf(observableType))

	flowConnInfoFields = []arrow.Field{
		opt("protocol_num", tI32), opt("protocol_name", tText), opt("direction_id", tI32), opt("direction", tText),
		opt("boundary_id", tI32), opt("boundary", tText), opt("tcp_flags", tI32),
	}
	flowTrafficFields = []arrow.Field{
		opt("packets", tI64), opt("bytes", tI64), opt("packets_out", tI64), opt("bytes_out", tI64),
		opt("packets_in", tI64), opt("bytes_in", tI64),
	}
	flowMetadataFields = []arrow.Field{req("version", tText), req("product", productType), opt("log_name", tText)}
	flowCloudFields    = cloudType.Fields()
)

// ocsfHeader is the classification and time of every OCSF row. Flows
// without a time have NULL time; connections and findings always have one.
func ocsfHeader(timeRequired bool) []arrow.Field {
	t := opt
	if timeRequired {
		t = req
	}
	return []arrow.Field{
		req("class_uid", tI32), opt("class_name", tText),
		req("category_uid", tI32), opt("category_name", tText),
		req("activity_id", tI32), opt("activity_name", tText),
		req("type_uid", tI64), opt("type_name", tText),
		req("severity_id", tI32), opt("severity", tText),
		t("time", tI64), t("time_dt", tTime),
		t("start_time", tI64), t("start_time_dt", tTime),
		t("end_time", tI64), t("end_time_dt", tTime),
	}
}

// ocsfMapped are the normalized columns that have an OCSF attribute in the
// flows export; every other column goes under unmapped, by its own name.
var ocsfMapped = map[schema.Col]bool{
	schema.StartTime: true, schema.EndTime: true, schema.Cloud: true, schema.LogKind: true,
	schema.Account: true, schema.Region: true, schema.Zone: true,
	schema.SrcAddr: true, schema.DstAddr: true, schema.SrcPort: true, schema.DstPort: true,
	schema.Protocol: true, schema.Direction: true, schema.Action: true, schema.LogStatus: true,
	schema.Packets: true, schema.Bytes: true, schema.RevPackets: true, schema.RevBytes: true,
	schema.TCPFlags: true, schema.TrafficPath: true,
	schema.PktSrcAWSService: true, schema.PktDstAWSService: true,
}

// flowUnmapped lists the unmapped columns and their fields.
var flowUnmapped, flowUnmappedFields = func() ([]schema.Col, []arrow.Field) {
	var cols []schema.Col
	var fields []arrow.Field
	for i, c := range schema.Columns() {
		if ocsfMapped[schema.Col(i)] {
			continue
		}
		cols = append(cols, schema.Col(i))
		fields = append(fields, opt(c.Name, exportType(c.Kind)))
	}
	return cols, fields
}()

var ocsfFlowSchema = arrow.NewSchema(append(ocsfHeader(false),
	opt("action_id", tI32), opt("action", tText),
	opt("disposition_id", tI32), opt("disposition", tText),
	opt("status_code", tText),
	req("src_endpoint", flowEndpointType),
	req("dst_endpoint", flowEndpointType),
	req("connection_info", arrow.StructOf(flowConnInfoFields...)),
	req("traffic", arrow.StructOf(flowTrafficFields...)),
	req("cloud", cloudType),
	req("metadata", arrow.StructOf(flowMetadataFields...)),
	req("unmapped", arrow.StructOf(flowUnmappedFields...)),
), nil)

var ocsfConnectionSchema = arrow.NewSchema(append(ocsfHeader(true),
	req("duration", tI64),
	req("count", tI32),
	req("action_id", tI32), req("action", tText),
	req("disposition_id", tI32), req("disposition", tText),
	req("src_endpoint", endpointType),
	req("dst_endpoint", endpointType),
	req("connection_info", arrow.StructOf(
		req("uid", tText), req("protocol_num", tI32), opt("protocol_name", tText),
		opt("direction_id", tI32), opt("direction", tText))),
	req("traffic", arrow.StructOf(req("packets", tI64), req("packets_out", tI64), req("packets_in", tI64))),
	req("cloud", cloudType),
	req("metadata", arrow.StructOf(req("version", tText), req("product", productType), req("log_name", tText), req("uid", tText))),
	observablesField,
	req("unmapped", arrow.StructOf(
		req("verdict", tText), req("finding_kinds", listOf(tText)),
		req("insufficient", tBool), req("outside_leg", tBool),
		req("records", tI64), req("rejected", tBool),
		connectionObservers)),
), nil)

var ocsfFindingSchema = arrow.NewSchema(append(ocsfHeader(true),
	req("confidence_id", tI32), opt("confidence", tText),
	req("status_id", tI32), opt("status", tText),
	opt("message", tText),
	req("finding_info", arrow.StructOf(
		req("uid", tText), req("title", tText), opt("desc", tText), req("types", listOf(tText)),
		req("first_seen_time", tI64), req("first_seen_time_dt", tTime),
		req("last_seen_time", tI64), req("last_seen_time_dt", tTime),
		req("analytic", arrow.StructOf(req("uid", tText), req("name", tText), req("type_id", tI32), opt("type", tText))))),
	req("evidences", listOf(arrow.StructOf(
		req("src_endpoint", endpointType), req("dst_endpoint", endpointType),
		req("connection_info", arrow.StructOf(req("uid", tText), req("protocol_num", tI32), opt("protocol_name", tText)))))),
	req("cloud", cloudType),
	req("metadata", arrow.StructOf(req("version", tText), req("product", productType), req("log_name", tText),
		req("uid", tText), req("correlation_uid", tText))),
	observablesField,
	req("unmapped", arrow.StructOf(opt("reason", tText), findingObserverField, req("evidence", listOf(evidenceType)))),
), nil)

// OCSFFlowSchema, OCSFConnectionSchema and OCSFFindingSchema are the Arrow
// schemas of an OCSF-shaped export's files.
func OCSFFlowSchema() *arrow.Schema { return ocsfFlowSchema }

// OCSFConnectionSchema: see OCSFFlowSchema.
func OCSFConnectionSchema() *arrow.Schema { return ocsfConnectionSchema }

// OCSFFindingSchema: see OCSFFlowSchema.
func OCSFFindingSchema() *arrow.Schema { return ocsfFindingSchema }

// header fills the classification and times of an OCSF row.
func (w *AnalysisWriter) header(f *fill, class, category, activity int32, className, categoryName, activityName string, sevID int32, sev string, t, first, last int64) {
	f.i32(class)
	f.str(className)
	f.i32(category)
	f.str(categoryName)
	f.i32(activity)
	f.str(activityName)
	f.i64(int64(class)*100 + int64(activity))
	f.str(className + ": " + activityName)
	f.i32(sevID)
	f.str(sev)
	for _, us := range []int64{t, first, last} {
		f.i64(millis(us))
		f.ts(us)
	}
}

func (w *AnalysisWriter) product(f *fill) {
	f.structOf(func(p *fill) {
		p.str("flowsym")
		p.str("flowsym")
		p.optStr(w.opts.Version)
	})
}

func (w *AnalysisWriter) ocsfConnection(c *conn) {
	v := c.v
	sevID, sev := int32(ocsfSeverityInfo), "Informational"
	for _, fd := range v.Findings {
		if id, name := severity(fd.Severity); id > sevID {
			sevID, sev = id, name
		}
	}
	f := w.conns.row(dateKey(c.first))
	w.header(f, ocsfNetworkActivity, ocsfCategoryNetwork, ocsfActivityTraffic, "Network Activity", "Network Activity", "Traffic",
		sevID, sev, c.first, c.first, c.last)
	f.i64(millis(c.last) - millis(c.first))
	f.i32(int32(min(v.Session.Records, 1<<31-1)))
	if c.rejected {
		f.i32(2)
		f.str("Denied")
		f.i32(2)
		f.str("Blocked")
	} else {
		f.i32(1)
		f.str("Allowed")
		f.i32(1)
		f.str("Allowed")
	}
	endpoint(f, c.clientText, c.client.Port())
	endpoint(f, c.serverText, c.server.Port())
	f.structOf(func(ci *fill) {
		ci.str(c.id)
		ci.i32(int32(v.Key.Proto))
		ci.optStr(protocolName(int64(v.Key.Proto)))
		if id, name, ok := w.direction(c); ok {
			ci.i32(id)
			ci.str(name)
		} else {
			ci.null()
			ci.null()
		}
	})
	f.structOf(func(t *fill) {
		t.i64(c.fwdPkts + c.revPkts)
		t.i64(c.fwdPkts)
		t.i64(c.revPkts)
	})
	cloud(f, c.cloud)
	f.structOf(func(m *fill) {
		m.str(OCSFVersion)
		w.product(m)
		m.str(DirConnections)
		m.str(c.id)
	})
	observables(f, c)
	f.structOf(func(u *fill) {
		u.str(c.verdict)
		u.strs(c.kinds)
		u.boolean(v.Insufficient)
		u.boolean(v.OutsideLeg)
		u.i64(v.Session.Records)
		u.boolean(c.rejected)
		observers(u, v.Views, true)
	})
	f.end()
}

func (w *AnalysisWriter) ocsfFinding(c *conn, fd *correlate.Finding) {
	sevID, sev := severity(fd.Severity)
	id := findingID(c, fd.Kind)
	f := w.finds.row(dateKey(c.first))
	w.header(f, ocsfDetectionFinding, ocsfCategoryFindings, ocsfActivityCreate, "Detection Finding", "Findings", "Create",
		sevID, sev, c.first, c.first, c.last)
	confID, conf := confidence(fd.Confidence)
	f.i32(confID)
	f.str(conf)
	f.i32(ocsfStatusNew)
	f.str("New")
	f.optStr(fd.Detail)
	f.structOf(func(fi *fill) {
		fi.str(id)
		fi.str(findingTitle(fd.Kind))
		fi.optStr(fd.Detail)
		fi.strs([]string{fd.Kind})
		fi.i64(millis(c.first))
		fi.ts(c.first)
		fi.i64(millis(c.last))
		fi.ts(c.last)
		fi.structOf(func(a *fill) {
			a.str(fd.Kind)
			a.str(fd.Kind)
			a.i32(ocsfAnalyticRule)
			a.str("Rule")
		})
	})
	f.list(1, func(_ int, e *fill) {
		endpoint(e, c.clientText, c.client.Port())
		endpoint(e, c.serverText, c.server.Port())
		e.structOf(func(ci *fill) {
			ci.str(c.id)
			ci.i32(int32(c.v.Key.Proto))
			ci.optStr(protocolName(int64(c.v.Key.Proto)))
		})
	})
	cloud(f, fd.Cloud)
	f.structOf(func(m *fill) {
		m.str(OCSFVersion)
		w.product(m)
		m.str(DirFindings)
		m.str(id)
		m.str(c.id)
	})
	observables(f, c)
	f.structOf(func(u *fill) {
		u.optStr(fd.Reason)
		observers(u, c.v.Views, false)
		evidence(u, fd.Evidence)
	})
	f.end()
}

func endpoint(f *fill, ip string, port uint16) {
	f.structOf(func(e *fill) {
		e.str(ip)
		e.i32(int32(port))
	})
}

func cloud(f *fill, provider string) {
	f.structOf(func(c *fill) {
		c.optStr(cloudProvider(provider))
		c.null()
		c.null()
		c.null()
	})
}

func observables(f *fill, c *conn) {
	f.list(2, func(i int, o *fill) {
		name, ip := "src_endpoint.ip", c.clientText
		if i == 1 {
			name, ip = "dst_endpoint.ip", c.serverText
		}
		o.str(name)
		o.i32(ocsfTypeIPAddress)
		o.str("IP Address")
		o.str(ip)
	})
}

// direction is OCSF's connection direction, from the client's and the
// server's side of the private ranges.
func (w *AnalysisWriter) direction(c *conn) (int32, string, bool) {
	if w.opts.Public == nil {
		return 0, "", false
	}
	switch pc, ps := w.opts.Public(c.client.Addr()), w.opts.Public(c.server.Addr()); {
	case !pc && ps:
		return 2, "Outbound", true
	case pc && !ps:
		return 1, "Inbound", true
	case !pc && !ps:
		return 3, "Lateral", true
	}
	return 0, "Unknown", true
}

func severity(s string) (int32, string) {
	switch s {
	case "critical":
		return 5, "Critical"
	case "high":
		return 4, "High"
	case "medium":
		return 3, "Medium"
	case "low":
		return 2, "Low"
	}
	return ocsfSeverityInfo, "Informational"
}

func confidence(s string) (int32, string) {
	switch s {
	case "high":
		return 3, "High"
	case "medium":
		return 2, "Medium"
	case "low":
		return 1, "Low"
	}
	return 0, "Unknown"
}

func findingTitle(kind string) string {
	switch kind {
	case correlate.KindOneWay:
		return "One-way connection: no reply seen anywhere"
	case correlate.KindAsymmetric:
		return "Asymmetric path through a stateful hub device"
	case correlate.KindHubBypass:
		return "Spoke reached a public server bypassing the approved hub"
	case correlate.KindUnapprovedNAT:
		return "Traffic left through an unapproved NAT path"
	}
	return kind
}

// cloudProvider is OCSF's cloud.provider spelling of a cloud.
func cloudProvider(c string) string {
	switch c {
	case "aws":
		return "AWS"
	case "gcp":
		return "GCP"
	case "azure":
		return "Azure"
	}
	return c
}

// protocolName is IANA's lower-case keyword of a protocol number, as OCSF's
// connection_info.protocol_name wants it; "" when flowsym does not name it.
func protocolName(p int64) string {
	switch p {
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 58:
		return "ipv6-icmp"
	case 132:
		return "sctp"
	}
	return ""
}

// boundary is OCSF's connection_info.boundary_id of an AWS traffic-path
// code: OCSF numbers AWS's eight paths 4 to 11, in AWS's order.
var boundaryNames = [...]string{"Same VPC", "Internet/VPC Gateway", "Virtual Private Gateway", "Intra-region VPC",
	"Inter-region VPC", "Local Gateway", "Gateway VPC", "Internet Gateway"}

// millis turns microseconds into OCSF's epoch milliseconds (floored).
func millis(us int64) int64 { return floorDiv(us, 1000) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// ocsfFlows converts a normalized batch to the OCSF shape and writes it,
// cut into runs of one date, into flows/date=.../.
func (w *AnalysisWriter) ocsfFlows(rec arrow.RecordBatch) error {
	v, err := schema.NewView(rec)
	if err != nil {
		return err
	}
	out, keys := w.ocsfFlowBatch(v)
	defer out.Release()
	for start, i := 0, 1; i <= len(keys); i++ {
		if i < len(keys) && keys[i] == keys[start] {
			continue
		}
		slice := out.NewSlice(int64(start), int64(i))
		err := w.ocsf.write(keys[start], slice)
		slice.Release()
		if err != nil {
			return err
		}
		start = i
	}
	return nil
}

// ocsfFlowBatch builds the OCSF batch of v and each row's date partition.
// Columns that OCSF takes unchanged are shared with the input, not copied.
func (w *AnalysisWriter) ocsfFlowBatch(v *schema.View) (arrow.RecordBatch, []string) {
	mem := w.opts.Mem
	n := v.Rows()
	rec := v.Batch()
	var owned []arrow.Array
	own := func(a arrow.Array) arrow.Array {
		owned = append(owned, a)
		return a
	}
	// in is a column of the input in its export type (exportColumn):
	// shared when it needs no conversion.
	in := func(c schema.Col) arrow.Array {
		a, err := exportColumn(mem, rec, c)
		if err != nil {
			panic(fmt.Sprintf("export: OCSF: %v", err)) // the schema and this code disagree
		}
		return own(a)
	}
	defer func() {
		for _, a := range owned {
			a.Release()
		}
	}()
	i32s := func(fn func(i int) (int32, bool)) arrow.Array {
		return own(nullable(array.NewInt32Builder(mem), n, fn))
	}
	i64s := func(fn func(i int) (int64, bool)) arrow.Array {
		return own(nullable(array.NewInt64Builder(mem), n, fn))
	}
	strs := func(fn func(i int) string) arrow.Array {
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.Reserve(n)
		for i := range n {
			if s := fn(i); s != "" {
				b.Append(s)
			} else {
				b.AppendNull()
			}
		}
		return own(b.NewArray())
	}
	constI32 := func(x int32) arrow.Array { return i32s(func(int) (int32, bool) { return x, true }) }
	constStr := func(s string) arrow.Array { return strs(func(int) string { return s }) }
	structOf := func(fields []arrow.Field, cols ...arrow.Array) arrow.Array {
		s, err := array.NewStructArrayWithFields(cols, fields)
		if err != nil {
			panic(fmt.Sprintf("export: OCSF struct: %v", err)) // the schema and this code disagree
		}
		return own(s)
	}
	str := func(c schema.Col, i int) string {
		if v.IsNull(c, i) {
			return ""
		}
		return v.Str(c, i)
	}
	intOf := func(c schema.Col, i int) (int64, bool) { return v.Int(c, i), !v.IsNull(c, i) }
	msOf := func(c schema.Col) arrow.Array {
		return i64s(func(i int) (int64, bool) { x, ok := intOf(c, i); return millis(x), ok })
	}
	sum := func(a, b schema.Col) arrow.Array {
		return i64s(func(i int) (int64, bool) {
			x, okx := intOf(a, i)
			y, oky := intOf(b, i)
			return x + y, okx || oky
		})
	}

	// The event time: the record's start, or its end when the log gives
	// only that; its date is the partition.
	keys := make([]string, n)
	tms := array.NewInt64Builder(mem)
	defer tms.Release()
	tdt := array.NewTimestampBuilder(mem, tTime.(*arrow.TimestampType))
	defer tdt.Release()
	lastDay, lastKey := int64(-1<<63), ""
	for i := range n {
		us, ok := intOf(schema.StartTime, i)
		if !ok {
			us, ok = intOf(schema.EndTime, i)
		}
		if !ok {
			tms.AppendNull()
			tdt.AppendNull()
			keys[i] = DefaultPartitionKey
			continue
		}
		tms.Append(millis(us))
		tdt.Append(arrow.Timestamp(us))
		day := floorDiv(us, int64(24*time.Hour/time.Microsecond))
		if day != lastDay {
			lastDay, lastKey = day, dateKey(us)
		}
		keys[i] = lastKey
	}
	action := func(i int) int32 {
		switch str(schema.Action, i) {
		case "accept":
			return 1
		case "reject":
			return 2
		}
		return 0
	}
	direction := func(i int) int32 {
		switch str(schema.Direction, i) {
		case "ingress":
			return 1
		case "egress":
			return 2
		}
		return 0
	}
	boundary := func(i int) int32 {
		if p, ok := intOf(schema.TrafficPath, i); ok && p >= 1 && int(p) <= len(boundaryNames) {
			return int32(p)
		}
		return 0
	}

	unmapped := make([]arrow.Array, len(flowUnmapped))
	for i, c := range flowUnmapped {
		unmapped[i] = in(c)
	}
	cols := []arrow.Array{
		constI32(ocsfNetworkActivity), constStr("Network Activity"),
		constI32(ocsfCategoryNetwork), constStr("Network Activity"),
		constI32(ocsfActivityTraffic), constStr("Traffic"),
		i64s(func(int) (int64, bool) { return ocsfNetworkActivity*100 + ocsfActivityTraffic, true }),
		constStr("Network Activity: Traffic"),
		constI32(ocsfSeverityInfo), constStr("Informational"),
		own(tms.NewArray()), own(tdt.NewArray()),
		msOf(schema.StartTime), in(schema.StartTime),
		msOf(schema.EndTime), in(schema.EndTime),
		i32s(func(i int) (int32, bool) { a := action(i); return a, a != 0 }),
		strs(func(i int) string { return [...]string{"", "Allowed", "Denied"}[action(i)] }),
		i32s(func(i int) (int32, bool) { a := action(i); return a, a != 0 }),
		strs(func(i int) string { return [...]string{"", "Allowed", "Blocked"}[action(i)] }),
		in(schema.LogStatus),
		structOf(flowEndpointFields, in(schema.SrcAddr), in(schema.SrcPort), in(schema.PktSrcAWSService)),
		structOf(flowEndpointFields, in(schema.DstAddr), in(schema.DstPort), in(schema.PktDstAWSService)),
		structOf(flowConnInfoFields,
			in(schema.Protocol),
			strs(func(i int) string {
				if p, ok := intOf(schema.Protocol, i); ok {
					return protocolName(p)
				}
				return ""
			}),
			i32s(func(i int) (int32, bool) { d := direction(i); return d, d != 0 }),
			strs(func(i int) string { return [...]string{"", "Inbound", "Outbound"}[direction(i)] }),
			i32s(func(i int) (int32, bool) { p := boundary(i); return p + 3, p != 0 }),
			strs(func(i int) string {
				if p := boundary(i); p != 0 {
					return boundaryNames[p-1]
				}
				return ""
			}),
			in(schema.TCPFlags),
		),
		structOf(flowTrafficFields,
			sum(schema.Packets, schema.RevPackets), sum(schema.Bytes, schema.RevBytes),
			in(schema.Packets), in(schema.Bytes), in(schema.RevPackets), in(schema.RevBytes),
		),
		structOf(flowCloudFields,
			strs(func(i int) string { return cloudProvider(str(schema.Cloud, i)) }),
			in(schema.Region), in(schema.Zone),
			structOf(accountType.Fields(), in(schema.Account)),
		),
		structOf(flowMetadataFields,
			constStr(OCSFVersion),
			structOf(productType.Fields(), constStr("flowsym"), constStr("flowsym"), constStr(w.opts.Version)),
			in(schema.LogKind),
		),
		structOf(flowUnmappedFields, unmapped...),
	}
	return array.NewRecordBatch(ocsfFlowSchema, cols, int64(n)), keys
}

// fixedBuilder is an Arrow builder of fixed-width values.
type fixedBuilder[T any] interface {
	array.Builder
	UnsafeAppend(T)
}

// nullable builds an n-row array of fn's values, NULL where fn says there
// is none, and releases b.
func nullable[T any](b fixedBuilder[T], n int, fn func(i int) (T, bool)) arrow.Array {
	defer b.Release()
	b.Reserve(n)
	for i := range n {
		if x, ok := fn(i); ok {
			b.UnsafeAppend(x)
		} else {
			b.UnsafeAppendBoolToBitmap(false)
		}
	}
	return b.NewArray()
}
