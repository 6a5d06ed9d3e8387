package normalize

import (
	"context"
	"fmt"

	"github.com/valyala/fastjson"

	"github.com/flowsym/flowsym/normalize/schema"
)

// AzureVNet parses Azure VNet flow logs, the successor of NSG flow logs:
// the PT1H.json documents under insights-logs-flowlogflowevent/. Each flow
// tuple becomes one record observed at the NIC of the record's macAddress.
// There is no decision field: state D (denied) is a reject, every other
// state an accept.
type AzureVNet struct{}

var _ Parser = (*AzureVNet)(nil)

// Parse implements Parser.
func (*AzureVNet) Parse(ctx context.Context, in *Input, b *schema.Builder) error {
	return parseAzure(ctx, in, b)
}

// maxVNetVersion is the newest flowLogVersion flowsym reads; 4 is the one
// Microsoft documents.
const maxVNetVersion = 4

// vnet reads one VNet record:
//
//	{time, flowLogVersion, flowLogGUID, macAddress, flowLogResourceID, targetResourceID,
//	 flowRecords: {flows: [{aclID, flowGroups: [{rule, flowTuples: [...]}]}]}}
//
// flowLogGUID is not kept: it names the same flow log as flowLogResourceID,
// which is in resource_id, and a label costs every row.
func (o *azureObject) vnet(ctx context.Context, e *jsonElem, rec, records *fastjson.Value) error {
	acls, ok := arrayOf(records, "flows")
	if !ok {
		return o.structure(e, "flowRecords.flows is not an array")
	}
	version, ok, stop := o.version(e, rec, "flowLogVersion")
	if !ok {
		o.countTuples(acls, "flowGroups", "flowTuples")
		return stop
	}
	if version < 0 || version > maxVNetVersion {
		before := o.tuple
		o.countTuples(acls, "flowGroups", "flowTuples")
		return o.in.problem(0, fmt.Errorf("%w: %s: VNet flowLogVersion %d is not supported (flowsym reads up to %d); its %d tuples were skipped",
			ErrUnknownFormat, e.where(), version, maxVNetVersion, o.tuple-before))
	}
	target := str(getFold(rec, "targetResourceID"))
	o.recordContext(KindAzureVNet, str(getFold(rec, "flowLogResourceID")), target)
	o.setMAC(asString(getFold(rec, "macAddress")))
	for i, a := range acls {
		acl := asString(getFold(a, "aclID"))
		groups, ok := arrayOf(a, "flowGroups")
		if !ok {
			if err := o.structure(e, "flowRecords.flows[%d].flowGroups is not an array", i); err != nil {
				return err
			}
			continue
		}
		for _, g := range groups {
			o.b.Fixed(schema.Rule, bstr(asString(getFold(g, "rule"))))
			tuples, ok := arrayOf(g, "flowTuples")
			if !ok {
				if err := o.structure(e, "flowRecords.flows[%d]: flowTuples is not an array", i); err != nil {
					return err
				}
				continue
			}
			for _, t := range tuples {
				if err := o.tupleRow(ctx, asString(t), version, true, acl); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkVNet reads a tuple that scanVNet did not take, and says what is
// wrong with it:
//
//	ts,src,dst,sport,dport,proto,I|O,B|C|E|D,encryption,pkts,bytes,rpkts,rbytes
//
// The timestamp is in milliseconds in Microsoft's sample and in seconds in
// one of its examples; the magnitude tells them apart.
func (o *azureObject) checkVNet(s []byte, t *azureTuple) error {
	f := &o.fields
	if f.splitCommas(s); f.n != 13 {
		return badField("flowTuples", s, fmt.Sprintf("has %d fields, want 13", f.n))
	}
	*t = azureTuple{}
	ts, ok := parseUint(f.field(0))
	if !ok || ts >= 1e14 {
		return badField("timestamp", f.field(0), "not Unix seconds or milliseconds")
	}
	t.start, _ = epochMicros(ts)
	if err := checkHead(t, f); err != nil {
		return err
	}
	if err := checkState(t, f.field(7)); err != nil {
		return err
	}
	t.action = 'A'
	if t.state == 'D' {
		t.action = 'D'
	}
	t.enc = f.field(8)
	return checkCounts(t, f, 9)
}
