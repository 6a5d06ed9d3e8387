package normalize

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"

	"github.com/valyala/fastjson"

	"github.com/flowsym/flowsym/normalize/schema"
)

// Azure NSG and VNet flow logs share a container layout and a document
// shape: a PT1H.json block blob holding {"records": [record, ...]}, which
// Azure appends to during its hour. The document is streamed: a scanner
// (jsonWalker) cuts the records array into records and hands over one at
// a time, which fastjson then parses and checks into a tree, so memory is
// bounded by the largest record, not the document.
//
// Every record is recognised by its shape (properties.flows for NSG,
// flowRecords for VNet), so a mislabelled object still parses.
//
// source_line is the 1-based ordinal of the flow tuple among all the
// flowTuples strings of the document, in document order: the Nth tuple is
//
//	jq '[(.records // [.])[] | (.properties.flows[]?.flows[]?, .flowRecords.flows[]?.flowGroups[]?) | .flowTuples[]?] | .[N-1]'
//
// A records element that is not a record counts no tuples; a record of an
// unsupported version still counts its tuples, so the ordinals after it
// stay those of the document.

// azureObject is the state of one Azure document being parsed.
type azureObject struct {
	in     *Input
	b      *schema.Builder
	p      fastjson.Parser
	tuple  int64      // ordinal of the last tuple seen
	fields fieldSpans // of the tuple being read, when checked
	read   azureTuple // the tuple being read
	layout azureLayout
	// checkedOnly reads every record with fastjson, for tests that hold
	// the one-pass reader to it.
	checkedOnly   bool
	layoutRecords int64     // records read in one pass, for tests
	last          recordIDs // of the record whose context is fixed
	mac           []byte    // the MAC fixed last, as the record gave it
	macSet        bool
	scratch       []byte // a value being normalized for Builder.Fixed, which copies it
}

func parseAzure(ctx context.Context, in *Input, b *schema.Builder) error {
	return (&azureObject{in: in, b: b}).parse(ctx)
}

func (o *azureObject) parse(ctx context.Context) error {
	in := o.in
	w := newJSONWalker(skipBOM(in.R), "records", [2]string{"record", "records"}, func(e *jsonElem) error { return o.record(ctx, e) })
	if !o.checkedOnly {
		w.measure = o.layout.measure
	}
	return w.walk(ctx)
}

// skipBOM drops a UTF-8 byte order mark that an editor may have put at the
// start of a saved document; JSON does not allow one.
func skipBOM(r io.Reader) io.Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	if head, _ := br.Peek(3); bytes.Equal(head, []byte("\ufeff")) {
		_, _ = br.Discard(3)
	}
	return br
}

// errNotTuple is a flowTuples element that is not a tuple.
var errNotTuple = lineErr(ErrMalformed, "flow tuple is not a non-empty string")

// record dispatches one element of the records array: read in one pass
// when it has the shape Azure writes (see azureLayout), by fastjson when
// not.
func (o *azureObject) record(ctx context.Context, e *jsonElem) error {
	if !o.checkedOnly && o.layout.take(e.raw) {
		o.layoutRecords++
		return o.emit(ctx, &o.layout)
	}
	v, err := o.p.ParseBytes(e.raw)
	if err != nil {
		return o.in.problem(0, lineErr(ErrMalformed, "%s: %v", e.where(), err))
	}
	if v.Type() != fastjson.TypeObject {
		return o.in.problem(0, lineErr(ErrMalformed, "%s is a JSON %s, not a flow-log record", e.where(), v.Type()))
	}
	if props := getFold(v, "properties"); getFold(props, "flows") != nil {
		return o.nsg(ctx, e, v, props)
	}
	if fr := getFold(v, "flowRecords"); fr != nil {
		return o.vnet(ctx, e, v, fr)
	}
	if getFold(v, "records") != nil {
		return o.in.problem(0, lineErr(ErrMalformed, "%s is itself a {\"records\": [...]} document, not a record; skipped", e.where()))
	}
	return o.in.problem(0, lineErr(ErrMalformed, "%s is not an NSG or VNet flow-log record (it has neither properties.flows nor flowRecords)", e.where()))
}

// arrayOf returns the elements of an array member, and false when the
// member is present but not an array. An absent or null member is empty.
func arrayOf(v *fastjson.Value, key string) ([]*fastjson.Value, bool) {
	m := getFold(v, key)
	if m == nil || m.Type() == fastjson.TypeNull {
		return nil, true
	}
	a, err := m.Array()
	return a, err == nil
}

// structure reports a part of a record that does not have the documented
// shape; the rest of the record is still read.
func (o *azureObject) structure(e *jsonElem, format string, args ...any) error {
	return o.in.problem(0, lineErr(ErrMalformed, "%s: %s", e.where(), fmt.Sprintf(format, args...)))
}

// version reads a record's format version; 0 means absent. ok is false
// when the version is not an integer: that is reported here, and the
// record is skipped. stop is Report's answer.
func (o *azureObject) version(e *jsonElem, v *fastjson.Value, key string) (n int64, ok bool, stop error) {
	n, raw, err := jsonInt(getFold(v, key))
	switch {
	case err == errAbsent:
		return 0, true, nil
	case err != nil:
		return 0, false, o.structure(e, "%s %q is not an integer; the record was skipped", key, raw)
	}
	return n, true, nil
}

// countTuples counts the tuples of a record that is skipped, so that the
// ordinals of the records after it stay those of the document.
func (o *azureObject) countTuples(groups []*fastjson.Value, inner, tuples string) {
	for _, g := range groups {
		if inner == "" {
			a, _ := arrayOf(g, tuples)
			o.tuple += int64(len(a))
			continue
		}
		sub, _ := arrayOf(g, inner)
		for _, f := range sub {
			a, _ := arrayOf(f, tuples)
			o.tuple += int64(len(a))
		}
	}
}

// recordContext fixes what every tuple of a record shares (see
// schema.Builder.Fixed), so it costs nothing per tuple. Azure resource ids
// are case-insensitive and the platform writes them upper-case in
// flow-log paths and flowLogResourceID, so resource_id and
// target_resource are upper-cased: one spelling joins NSG and VNet logs.
// The subscription GUID is lower-cased, as the portal and CLI show it.
//
// Nearly every record of a document comes from the same flow log, so a
// record whose ids are those of the record before fixes nothing again.
func (o *azureObject) recordContext(kind string, resID, target []byte) {
	if o.last.same(kind, resID, target) {
		return
	}
	o.last.remember(kind, resID, target)
	b := o.b
	b.Fixed(schema.Cloud, "azure")
	b.Fixed(schema.LogKind, kind)
	o.scratch = upperASCII(o.scratch[:0], resID)
	b.Fixed(schema.ResourceID, bstr(o.scratch))
	o.scratch = upperASCII(o.scratch[:0], target)
	b.Fixed(schema.TargetResource, bstr(o.scratch))
	o.scratch = o.scratch[:0]
	id := resID
	if len(id) == 0 {
		id = target
	}
	for _, c := range subscriptionOf(id) {
		o.scratch = append(o.scratch, lowerASCII(c))
	}
	b.Fixed(schema.Account, bstr(o.scratch))
	if kind == KindAzureVNet {
		b.Fixed(schema.Network, bstr(resourceName(target, "virtualNetworks")))
		b.Fixed(schema.Subnet, bstr(resourceName(target, "subnets")))
	}
}

// recordIDs are the ids recordContext last fixed the columns from.
type recordIDs struct {
	kind          string // "" until the first record
	resID, target []byte
}

func (r *recordIDs) same(kind string, resID, target []byte) bool {
	return r.kind == kind && bytes.Equal(r.resID, resID) && bytes.Equal(r.target, target)
}

func (r *recordIDs) remember(kind string, resID, target []byte) {
	r.kind = kind
	r.resID = append(r.resID[:0], resID...)
	r.target = append(r.target[:0], target...)
}

// subscriptionOf returns the GUID after /subscriptions/ in a resource id.
func subscriptionOf(id []byte) []byte {
	const key = "/subscriptions/"
	for i := 0; i+len(key) <= len(id); i++ {
		if id[i] == '/' && equalFoldASCII(id[i:i+len(key)], key) {
			rest := id[i+len(key):]
			if j := bytes.IndexByte(rest, '/'); j >= 0 {
				rest = rest[:j]
			}
			if len(rest) == 0 {
				return nil
			}
			return rest
		}
	}
	return nil
}

// resourceName returns the name after /<typ>/ in a resource id (ignoring
// case), e.g. the VNet of .../virtualNetworks/myVNet/subnets/app.
func resourceName(id []byte, typ string) []byte {
	for i := 0; i+len(typ)+2 <= len(id); i++ {
		if id[i] == '/' && equalFoldASCII(id[i+1:i+1+len(typ)], typ) && id[i+1+len(typ)] == '/' {
			rest := id[i+2+len(typ):]
			if j := bytes.IndexByte(rest, '/'); j >= 0 {
				rest = rest[:j]
			}
			return rest
		}
	}
	return nil
}

func upperASCII(dst, s []byte) []byte {
	for _, c := range s {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// setMAC fixes the MAC address, which is also the observer, for the
// tuples that follow, as 12 upper-case hex digits without separators
// (Azure writes 000D3AF87856, some pipelines 00-0D-3A-F8-78-56 or mixed
// case).
func (o *azureObject) setMAC(mac []byte) {
	if o.macSet && bytes.Equal(mac, o.mac) {
		return
	}
	o.mac, o.macSet = append(o.mac[:0], mac...), true
	o.scratch = appendMAC(o.scratch[:0], mac)
	o.b.Fixed(schema.MAC, bstr(o.scratch))
	o.b.Fixed(schema.Observer, bstr(o.scratch))
}

func appendMAC(dst, mac []byte) []byte {
	for _, c := range mac {
		switch {
		case c == ':' || c == '-' || c == '.':
		case 'a' <= c && c <= 'z':
			dst = append(dst, c-('a'-'A'))
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// checkCount reads counter k of a tuple; empty stays absent (NULL).
func checkCount(t *azureTuple, k int, tok []byte) error {
	if len(tok) == 0 {
		return nil
	}
	v, ok := parseUint(tok)
	if !ok || v > math.MaxInt64 {
		return badField(countNames[k], tok, "not a non-negative integer")
	}
	t.counts[k] = int64(v)
	t.has |= hasCount << k
	return nil
}

// checkPort reads port k (0 source, 1 destination); empty stays absent.
func checkPort(t *azureTuple, k int, tok []byte) error {
	if len(tok) == 0 {
		return nil
	}
	v, ok := parseUint(tok)
	if !ok || v > 65535 {
		return badField([2]string{"source port", "destination port"}[k], tok, "not a port (0 to 65535)")
	}
	t.ports[k] = int64(v)
	t.has |= hasPort << k
	return nil
}

// checkAddr reads a required address.
func checkAddr(dst *[schema.AddrWidth]byte, tok []byte, name string) error {
	a, ok := parseAddrBytes(tok)
	if !ok {
		return badField(name, tok, "not an IP address")
	}
	*dst = a
	return nil
}

// checkHead reads the fields NSG and VNet tuples share after the
// timestamp: src,dst,sport,dport,proto,I|O.
func checkHead(t *azureTuple, f *fieldSpans) error {
	if err := checkAddr(&t.src, f.field(1), "source address"); err != nil {
		return err
	}
	if err := checkAddr(&t.dst, f.field(2), "destination address"); err != nil {
		return err
	}
	for k := range t.ports {
		if err := checkPort(t, k, f.field(3+k)); err != nil {
			return err
		}
	}
	if err := checkProtocol(t, f.field(5)); err != nil {
		return err
	}
	switch tok := f.field(6); string(tok) {
	case "I", "O":
		t.dir = tok[0]
	default:
		return badField("direction", tok, "want I or O")
	}
	return nil
}

// checkProtocol reads NSG's T/U letters or an IANA number (VNet).
func checkProtocol(t *azureTuple, tok []byte) error {
	switch string(tok) {
	case "T":
		t.proto = 6
		return nil
	case "U":
		t.proto = 17
		return nil
	}
	v, ok := parseUint(tok)
	if !ok || v > 255 {
		return badField("protocol", tok, "want T, U or a protocol number")
	}
	t.proto = int64(v)
	return nil
}

// checkState reads the state letter of an NSG v2 or VNet tuple.
func checkState(t *azureTuple, tok []byte) error {
	switch string(tok) {
	case "B", "C", "E", "D":
		t.state = tok[0]
		return nil
	}
	return badField("flow state", tok, "want B, C, E or D")
}

// checkCounts reads the four counters of a v2 or VNet tuple: packets and
// bytes source to destination, then destination to source. A begin (B)
// tuple's are not read (see azureTuple.connectionOnly).
func checkCounts(t *azureTuple, f *fieldSpans, first int) error {
	if t.state == 'B' {
		return nil
	}
	for k := range t.counts {
		if err := checkCount(t, k, f.field(first+k)); err != nil {
			return err
		}
	}
	return nil
}
