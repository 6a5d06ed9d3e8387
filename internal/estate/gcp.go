package estate

import (
	"fmt"
	"strconv"
	"time"
)

// GCP: VPC Flow Logs and Cloud NAT logs as a Cloud Logging sink writes
// them to Cloud Storage (FLOWLOG_FORMATS.md 4.6, 4.8): one LogEntry per
// line, hourly shards under compute.googleapis.com/<log id>/YYYY/MM/DD/.
//
// The GKE nodes report with a 1-minute aggregation interval: the egress
// direction as SRC, the ingress direction as DEST, counters as JSON
// strings. GCP samples packets; the generator does not, so that the
// estate is deterministic and a direction missing from it is missing on
// purpose.

func (g *gen) gcpHop(c *conn, h *hop, win *window) {
	// The client VM sends the forward direction (it reports it as SRC)
	// and receives the reply (DEST); the server VM the other way round.
	client := h.kind == hopGCPClient
	if win.fp > 0 && h.see&seeFwdIn != 0 {
		g.gcpVPCRecord(c, h.vm, win, true, client)
	}
	if win.rp > 0 && h.see&seeRevIn != 0 {
		g.gcpVPCRecord(c, h.vm, win, false, !client)
	}
}

// gcpVPCRecord writes one VPC Flow Logs entry reported by vm. fwd says
// which direction's packets it counts; srcSide says whether vm is the
// source of those packets.
func (g *gen) gcpVPCRecord(c *conn, vm *gcpVM, win *window, fwd, srcSide bool) {
	src, dst, sport, dport := c.client, c.server, c.cport, c.sport
	pkts, bytes := win.fp, win.fb
	if !fwd {
		src, dst, sport, dport = c.server, c.client, c.sport, c.cport
		pkts, bytes = win.rp, win.rb
	}
	// The other end: another node of the cluster (east-west) or a
	// public address.
	peer := g.gcpNodeByAddr(src)
	if srcSide {
		peer = g.gcpNodeByAddr(dst)
	}
	b := append(g.buf[:0], `{"insertId":"`...)
	b = g.insertID(b)
	b = append(b, `","jsonPayload":{"bytes_sent":"`...)
	b = strconv.AppendUint(b, bytes, 10)
	b = append(b, `","connection":{"dest_ip":"`...)
	b = append(b, dst.txt...)
	b = append(b, `","dest_port":`...)
	b = strconv.AppendUint(b, uint64(dport), 10)
	b = append(b, `,"protocol":`...)
	b = strconv.AppendUint(b, uint64(c.proto), 10)
	b = append(b, `,"src_ip":"`...)
	b = append(b, src.txt...)
	b = append(b, `","src_port":`...)
	b = strconv.AppendUint(b, uint64(sport), 10)
	b = append(b, '}')
	// Annotations of the two ends, source first, as the records list them.
	srcVM, dstVM := vm, peer
	if !srcSide {
		srcVM, dstVM = peer, vm
	}
	b = gcpSideJSON(b, false, dstVM)
	b = append(b, `,"end_time":"`...)
	b = appendTime(b, win.hi)
	b = append(b, `","packets_sent":"`...)
	b = strconv.AppendUint(b, pkts, 10)
	b = append(b, `","reporter":"`...)
	if srcSide {
		b = append(b, "SRC"...)
	} else {
		b = append(b, "DEST"...)
	}
	b = append(b, '"')
	b = gcpSideJSON(b, true, srcVM)
	b = append(b, `,"start_time":"`...)
	b = appendTime(b, win.lo)
	b = append(b, `"},"logName":"projects/`+gcpHostProject+`/logs/compute.googleapis.com%2Fvpc_flows","receiveTimestamp":"`...)
	b = appendTime(b, win.hi+20)
	b = append(b, `","resource":`...)
	b = append(b, vm.resource...)
	b = append(b, `,"timestamp":"`...)
	b = appendTime(b, win.hi)
	b = append(b, "\"}\n"...)
	g.buf = b
	g.gcpWrite(g.gcp.vpcLog, win.hi, b)
	if c.tracked() {
		c.seen(win.lo, win.hi)
	}
}

// gcpSideJSON adds the annotations of one end: the instance, network and
// cluster of a node, or the location of a public address.
func gcpSideJSON(b []byte, src bool, vm *gcpVM) []byte {
	k := &gcpKeys[0]
	if src {
		k = &gcpKeys[1]
	}
	if vm == nil {
		return append(b, k.location...)
	}
	b = append(b, k.gke...)
	b = append(b, vm.instance...)
	b = append(b, k.vpc...)
	return append(b, vm.vpc...)
}

// gcpKeys are the member names of the destination and the source end.
var gcpKeys = func() [2]struct{ location, gke, vpc string } {
	var out [2]struct{ location, gke, vpc string }
	for i, side := range []string{"dest", "src"} {
		out[i].location = `,"` + side + `_location":{"continent":"America","country":"usa"}`
		out[i].gke = `,"` + side + `_gke_details":{"cluster":{"cluster_location":"` + gcpRegion + `","cluster_name":"` + gcpCluster + `"}},"` + side + `_instance":`
		out[i].vpc = `,"` + side + `_vpc":`
	}
	return out
}()

// gcpNATEntry writes the Cloud NAT entry made when c was opened: a
// translation to c.natHost, or a drop for lack of NAT ports. It counts
// no packets: it says only that the connection existed.
func (g *gen) gcpNATEntry(c *conn, h *hop, win *window) {
	t := g.base + int64(win.m)*60 + int64(c.startSec)
	b := append(g.buf[:0], `{"insertId":"`...)
	b = g.insertID(b)
	b = append(b, `","jsonPayload":{"allocation_status":"`...)
	if c.natDropped {
		b = append(b, "DROPPED"...)
	} else {
		b = append(b, "OK"...)
	}
	b = append(b, `","connection":{"dest_ip":"`...)
	b = append(b, c.server.txt...)
	b = append(b, `","dest_port":`...)
	b = strconv.AppendUint(b, uint64(c.sport), 10)
	if !c.natDropped {
		b = append(b, `,"nat_ip":"`...)
		b = append(b, c.natHost.txt...)
		b = append(b, `","nat_port":`...)
		b = strconv.AppendUint(b, uint64(c.natPort), 10)
	}
	b = append(b, `,"protocol":`...)
	b = strconv.AppendUint(b, uint64(c.proto), 10)
	b = append(b, `,"src_ip":"`...)
	b = append(b, c.client.txt...)
	b = append(b, `","src_port":`...)
	b = strconv.AppendUint(b, uint64(c.cport), 10)
	b = append(b, `},"endpoint":{"project_id":"`+gcpSpokeProject+`","region":"`+gcpRegion+`","vm_name":"`...)
	b = append(b, h.vm.name...)
	b = append(b, `","zone":"`...)
	b = append(b, h.vm.zone...)
	b = append(b, `"},"gateway_identifiers":{"gateway_name":"`+gcpNATGateway+`","region":"`+gcpRegion+`","router_name":"`+gcpRouter+`"},`+
		`"vpc":{"project_id":"`+gcpHostProject+`","subnetwork_name":"`+gcpSubnet+`","vpc_name":"`+gcpVPC+`"}},`+
		`"labels":{"nat.googleapis.com/router_name":"`+gcpRouter+`"},`+
		`"logName":"projects/`+gcpHostProject+`/logs/compute.googleapis.com%2Fnat_flows","receiveTimestamp":"`...)
	b = appendTime(b, t+8)
	b = append(b, `","resource":{"labels":{"gateway_name":"`+gcpNATGateway+`","project_id":"`+gcpHostProject+`","region":"`+gcpRegion+`","router_id":"`+gcpRouterID+`"},"type":"nat_gateway"},"timestamp":"`...)
	b = appendTime(b, t)
	b = append(b, "\"}\n"...)
	g.buf = b
	g.gcpWrite(g.gcp.natLog, t, b)
	if c.tracked() {
		c.seen(t, t)
	}
}

func (g *gen) gcpNodeByAddr(h *host) *gcpVM {
	return g.gcpNodes[h]
}

// insertID appends a LogEntry insertId: unique in the run, derived from
// the seed.
func (g *gen) insertID(b []byte) []byte {
	g.entries++
	v := mix64(g.cfg.Seed ^ g.entries*0x2545f4914f6cdd1d)
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	for range 14 {
		b = append(b, digits[v%36])
		v /= 36
	}
	return b
}

// gcpWrite appends an entry to the log's shard for the hour of t (the
// entry's timestamp), opening the next shard when the hour changes or the
// shard is full.
func (g *gen) gcpWrite(l *gcpLog, t int64, line []byte) {
	hour := t - t%3600
	if l.cur != nil && (l.hour != hour || l.cur.records >= int64(g.cfg.ObjectRecords)) {
		g.closeObject(l.cur)
		l.cur = nil
		if l.hour == hour {
			l.shard++
		} else {
			l.shard = 0
		}
	}
	if l.cur == nil {
		l.hour = hour
		ts := time.Unix(hour, 0).UTC()
		key := fmt.Sprintf("gcp/compute.googleapis.com/%s/%s/%s_%s_S%d.json",
			l.logID, ts.Format("2006/01/02"), ts.Format("15:04:05"), ts.Add(time.Hour-time.Second).Format("15:04:05"), l.shard)
		if l.cur = g.open(key, false); l.cur == nil {
			return
		}
	}
	l.cur.write(line)
	l.cur.records++
}

// appendTime appends an RFC 3339 UTC time with whole seconds.
func appendTime(b []byte, sec int64) []byte {
	return time.Unix(sec, 0).UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
}
