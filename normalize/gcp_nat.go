package normalize

import (
	"bytes"
	"context"

	"github.com/valyala/fastjson"

	"github.com/flowsym/flowsym/normalize/schema"
)

// GCPNAT parses GCP Cloud NAT logs (compute.googleapis.com/nat_flows) in
// the layouts GCPVPC reads. A Cloud NAT entry is one connection event, a
// translation made (allocation_status OK) or a packet dropped for lack of a
// NAT port (DROPPED); it counts no packets, so every record is
// connection_only. The observer is the NAT gateway.
type GCPNAT struct{}

var _ Parser = (*GCPNAT)(nil)

// Parse implements Parser.
func (*GCPNAT) Parse(ctx context.Context, in *Input, b *schema.Builder) error {
	return parseGCP(ctx, in, b)
}

// isNATPayload tells a Cloud NAT entry from a VPC Flow Logs one: by the
// log name where there is one, else by members only Cloud NAT has.
func isNATPayload(e, p *fastjson.Value) bool {
	for _, k := range [...]string{"logName", "log_name"} {
		if name := str(e, k); name != nil {
			if bytes.Contains(name, []byte("nat_flows")) {
				return true
			}
			if bytes.Contains(name, []byte("vpc_flows")) {
				return false
			}
		}
	}
	return p.Get("allocation_status") != nil || p.Get("gateway_identifiers") != nil
}

// nat stages a Cloud NAT record.
func (o *gcpObject) nat(e, p *fastjson.Value) error {
	b := o.b
	b.Fixed(schema.Cloud, "gcp")
	b.Fixed(schema.LogKind, KindGCPNAT)
	conn := p.Get("connection")
	if conn == nil || conn.Type() != fastjson.TypeObject {
		return lineErr(ErrMalformed, "field connection is missing")
	}
	if err := gcpConnection(b, conn); err != nil {
		return err
	}
	// A dropped connection has no translation: nat_ip and nat_port are
	// absent (or, in some exports, empty and 0).
	if err := setJSONAddr(b, schema.NATAddr, conn.Get("nat_ip"), "connection.nat_ip", false); err != nil {
		return err
	}
	if err := setJSONInt(b, schema.NATPort, conn.Get("nat_port"), "connection.nat_port", 65535); err != nil {
		return err
	}
	if !b.IsSet(schema.NATAddr) {
		b.Unset(schema.NATPort)
	}
	// The entry is written when the connection is made (or dropped): its
	// LogEntry timestamp is the event's one instant.
	ts := e.Get("timestamp")
	if err := setJSONTime(b, schema.StartTime, ts, "timestamp"); err != nil {
		return err
	}
	if us, ok := b.StagedInt(schema.StartTime); ok {
		b.Time(schema.EndTime, us)
	}
	b.Bool(schema.ConnectionOnly, true)
	// Cloud NAT translates connections that VMs open to the outside.
	b.Str(schema.Direction, "egress")

	status := str(p, "allocation_status")
	if status != nil {
		b.Label("allocation_status", bstr(status))
	}
	switch string(status) {
	case "OK":
		b.Str(schema.Action, "accept")
	case "DROPPED":
		b.Str(schema.Action, "reject")
	}

	gw := p.Get("gateway_identifiers")
	res := e.Get("resource", "labels")
	vpc := p.Get("vpc")
	ep := p.Get("endpoint")
	setFirst(b, schema.Observer, str(gw, "gateway_name"), str(res, "gateway_name"))
	// The gateway lives in the project of its network (the Shared VPC host
	// project); the endpoint VM may be in a service project.
	account := firstOf(str(res, "project_id"), str(vpc, "project_id"), str(ep, "project_id"))
	setFirst(b, schema.Account, account)
	resRegion, _ := gcpRegion(str(res, "region"))
	setFirst(b, schema.Region, str(gw, "region"), resRegion, str(ep, "region"))
	setFirst(b, schema.Zone, str(ep, "zone"))
	setFirst(b, schema.Network, str(vpc, "vpc_name"))
	setFirst(b, schema.Subnet, str(vpc, "subnetwork_name"))
	setFirst(b, schema.Instance, str(ep, "vm_name"))
	// The documentation shows the router both as router_name and as
	// cloud_router; either is kept under the first name.
	if r := firstOf(str(gw, "router_name"), str(gw, "cloud_router")); r != nil {
		b.Label("gateway_identifiers.router_name", bstr(r))
	}
	if pid := str(ep, "project_id"); pid != nil && !bytes.Equal(pid, account) {
		b.Label("endpoint.project_id", bstr(pid))
	}
	return nil
}

func firstOf(vals ...[]byte) []byte {
	for _, v := range vals {
		if len(v) > 0 {
			return v
		}
	}
	return nil
}
