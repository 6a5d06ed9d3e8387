package normalize

import (
	"context"
	"fmt"

	"github.com/valyala/fastjson"

	"github.com/flowsym/flowsym/normalize/schema"
)

// AzureNSG parses Azure NSG flow logs, Version 1 and Version 2: the
// PT1H.json documents under insights-logs-networksecuritygroupflowevent/.
// Each flow tuple becomes one record observed at the NIC whose MAC the
// tuple is filed under. Version 1 tuples say only that a flow was allowed
// or denied, so they are connection_only; Version 2 tuples carry both
// directions' counters except on begin (B) tuples.
type AzureNSG struct{}

var _ Parser = (*AzureNSG)(nil)

// Parse implements Parser.
func (*AzureNSG) Parse(ctx context.Context, in *Input, b *schema.Builder) error {
	return parseAzure(ctx, in, b)
}

// nsg reads one NSG record:
//
//	{time, resourceId, properties: {Version, flows: [{rule, flows: [{mac, flowTuples: [...]}]}]}}
func (o *azureObject) nsg(ctx context.Context, e *jsonElem, rec, props *fastjson.Value) error {
	rules, ok := arrayOf(props, "flows")
	if !ok {
		return o.structure(e, "properties.flows is not an array")
	}
	version, ok, stop := o.version(e, props, "Version")
	if !ok {
		o.countTuples(rules, "flows", "flowTuples")
		return stop
	}
	if version != 0 && version != 1 && version != 2 {
		before := o.tuple
		o.countTuples(rules, "flows", "flowTuples")
		return o.in.problem(0, fmt.Errorf("%w: %s: NSG flow log Version %d is not supported (flowsym reads 1 and 2); its %d tuples were skipped",
			ErrUnknownFormat, e.where(), version, o.tuple-before))
	}
	o.recordContext(KindAzureNSG, str(getFold(rec, "resourceId")), nil)
	for i, r := range rules {
		o.b.Fixed(schema.Rule, bstr(asString(getFold(r, "rule"))))
		flows, ok := arrayOf(r, "flows")
		if !ok {
			if err := o.structure(e, "properties.flows[%d].flows is not an array", i); err != nil {
				return err
			}
			continue
		}
		for _, f := range flows {
			o.setMAC(asString(getFold(f, "mac")))
			tuples, ok := arrayOf(f, "flowTuples")
			if !ok {
				if err := o.structure(e, "properties.flows[%d]: flowTuples is not an array", i); err != nil {
					return err
				}
				continue
			}
			for _, t := range tuples {
				if err := o.tupleRow(ctx, asString(t), version, false, nil); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkNSG reads a tuple that scanNSG did not take, and says what is
// wrong with it:
//
//	v1: ts,src,dst,sport,dport,T|U,I|O,A|D
//	v2: ts,src,dst,sport,dport,T|U,I|O,A|D,B|C|E,pkts,bytes,rpkts,rbytes
func (o *azureObject) checkNSG(s []byte, version int64, t *azureTuple) error {
	f := &o.fields
	f.splitCommas(s)
	n := f.n
	switch {
	case n != 8 && n != 13:
		return badField("flowTuples", s, fmt.Sprintf("has %d fields, want 8 (Version 1) or 13 (Version 2)", n))
	case version == 1 && n != 8, version == 2 && n != 13:
		return badField("flowTuples", s, fmt.Sprintf("has %d fields, but the record says Version %d", n, version))
	}
	*t = azureTuple{}
	ts, ok := parseUint(f.field(0))
	if !ok || ts > maxEpochSeconds {
		return badField("timestamp", f.field(0), "not Unix seconds")
	}
	t.start = int64(ts) * 1_000_000
	if err := checkHead(t, f); err != nil {
		return err
	}
	switch tok := f.field(7); string(tok) {
	case "A", "D":
		t.action = tok[0]
	default:
		return badField("decision", tok, "want A or D")
	}
	if n == 8 {
		return nil
	}
	if err := checkState(t, f.field(8)); err != nil {
		return err
	}
	return checkCounts(t, f, 9)
}
