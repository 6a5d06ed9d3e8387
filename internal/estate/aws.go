package estate

import (
	"fmt"
	"strconv"
	"time"
)

// AWS VPC flow logs: one text object per flow log per 5-minute slot,
// gzip-compressed, starting with a header line, under the S3 key layout
// AWS delivers (FLOWLOG_FORMATS.md 1.7). Records use the custom format
// awsFlowFmt, 1-minute aggregation windows, and are filed in the slot of
// their end time. Every interface logs NODATA for a minute without
// traffic, so coverage is continuous except where a SKIPDATA hole is
// injected.

// awsHop writes what one interface logged of one window of c.
//
// Addresses follow AWS's rules for an interface (1.5): srcaddr and dstaddr
// show the interface's own address in place of a packet address it does
// not own, while pkt-srcaddr and pkt-dstaddr keep the packet's. The
// client's and the server's own interfaces own their address; every other
// hop (TGW, firewall, NAT) forwards packets addressed elsewhere.
func (g *gen) awsHop(c *conn, h *hop, win *window) {
	e := h.eni
	own := h.kind == hopAWSClient || h.kind == hopAWSServer
	me := e.addr(win.v6)
	if win.fp > 0 {
		action := "ACCEPT"
		if h.reject {
			action = "REJECT"
		}
		if h.see&seeFwdIn != 0 {
			dst := c.server
			if !own {
				dst = me
			}
			g.awsRec(e, c, win, c.client, dst, c.cport, c.sport, c.client, c.server, win.fp, win.fb, win.ff, action, "ingress", 0)
		}
		if h.see&seeFwdOut != 0 {
			src := c.client
			if !own {
				src = me
			}
			g.awsRec(e, c, win, src, c.server, c.cport, c.sport, c.client, c.server, win.fp, win.fb, win.ff, action, "egress", h.path)
		}
	}
	if win.rp > 0 {
		if h.see&seeRevIn != 0 {
			dst := c.client
			if !own {
				dst = me
			}
			g.awsRec(e, c, win, c.server, dst, c.sport, c.cport, c.server, c.client, win.rp, win.rb, win.rf, "ACCEPT", "ingress", 0)
		}
		if h.see&seeRevOut != 0 {
			src := c.server
			if !own {
				src = me
			}
			g.awsRec(e, c, win, src, c.client, c.sport, c.cport, c.server, c.client, win.rp, win.rb, win.rf, "ACCEPT", "egress", 1)
		}
	}
	if h.kind != hopAWSNAT || h.reject {
		return
	}
	// The outside leg: the NAT's own address and translated port to the
	// server, out through the internet gateway (traffic-path 8), and the
	// reply coming back to it. It is a connection of its own that never
	// raises a finding; it is not part of c's time span.
	if win.fp > 0 {
		g.awsLine(e, win, e.v4, c.server, c.natPort, c.sport, e.v4, c.server, c.proto, win.fp, win.fb, win.ff, "ACCEPT", "egress", 8, false)
	}
	if win.rp > 0 {
		g.awsLine(e, win, c.server, e.v4, c.sport, c.natPort, c.server, e.v4, c.proto, win.rp, win.rb, win.rf, "ACCEPT", "ingress", 0, false)
	}
}

func (g *gen) awsRec(e *awsENI, c *conn, win *window, src, dst *host, sport, dport uint16, psrc, pdst *host, pkts, bytes uint64, flags uint8, action, dir string, path uint8) {
	if g.awsLine(e, win, src, dst, sport, dport, psrc, pdst, c.proto, pkts, bytes, flags, action, dir, path, win.v6) && c.tracked() {
		c.seen(win.lo, win.hi)
	}
}

// awsLine writes one record line; false when the interface is in a
// SKIPDATA hole and the record is lost.
func (g *gen) awsLine(e *awsENI, win *window, src, dst *host, sport, dport uint16, psrc, pdst *host, proto uint8, pkts, bytes uint64, flags uint8, action, dir string, path uint8, v6 bool) bool {
	if e.inHole(win.m) {
		return false
	}
	e.last = win.m
	b := append(g.buf[:0], e.head...)
	b = append(b, src.txt...)
	b = append(b, ' ')
	b = append(b, dst.txt...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(sport), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(dport), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(proto), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, pkts, 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, bytes, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, win.lo, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, win.hi, 10)
	b = append(b, ' ')
	b = append(b, action...)
	b = append(b, " OK"...)
	b = append(b, e.meta...)
	b = strconv.AppendUint(b, uint64(flags), 10)
	if v6 {
		b = append(b, " IPv6 "...)
	} else {
		b = append(b, " IPv4 "...)
	}
	b = append(b, psrc.txt...)
	b = append(b, ' ')
	b = append(b, pdst.txt...)
	b = append(b, " "+awsRegion+" "...)
	b = append(b, e.azID...)
	b = append(b, ' ')
	b = append(b, dir...)
	b = append(b, ' ')
	if path == 0 {
		b = append(b, '-')
	} else {
		b = strconv.AppendUint(b, uint64(path), 10)
	}
	b = append(b, '\n')
	g.buf = b
	g.awsWrite(e.fl, win.m, b)
	return true
}

// awsEndMinute writes NODATA for every interface that logged nothing in
// minute m, and SKIPDATA for every interface in a hole.
func (g *gen) awsEndMinute(m int) {
	t0 := g.base + int64(m)*60
	for _, e := range g.aws.all {
		var status string
		switch {
		case e.inHole(m):
			status = " - SKIPDATA"
		case e.last != m:
			status = " - NODATA"
		default:
			continue
		}
		b := append(g.buf[:0], e.head...)
		b = append(b, "- - - - - - - "...)
		b = strconv.AppendInt(b, t0, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, t0+59, 10)
		b = append(b, status...)
		b = append(b, e.meta...)
		b = append(b, "- - - - "+awsRegion+" "...)
		b = append(b, e.azID...)
		b = append(b, " - -\n"...)
		g.buf = b
		g.awsWrite(e.fl, m, b)
	}
}

// awsWrite appends a line to the flow log's object for minute m's slot,
// opening the next object when the slot changes or the object is full.
func (g *gen) awsWrite(fl *awsFlowLog, m int, line []byte) {
	t := g.base + int64(m)*60
	slot := t - t%300
	if fl.cur != nil && (fl.slot != slot || fl.cur.records >= int64(g.cfg.ObjectRecords)) {
		g.closeObject(fl.cur)
		fl.cur = nil
		if fl.slot == slot {
			fl.part++
		} else {
			fl.part = 0
		}
	}
	if fl.cur == nil {
		fl.slot = slot
		ts := time.Unix(slot, 0).UTC()
		// The last part of the name is a hash AWS gives each object;
		// here it is derived from the seed, flow log, slot and part.
		hash := mix64(g.cfg.Seed ^ uint64(slot)*31 ^ uint64(fl.part)<<48 ^ strHash(fl.id))
		key := fmt.Sprintf("aws/AWSLogs/%s/vpcflowlogs/%s/%s/%s_vpcflowlogs_%s_%s_%s_%08x.log.gz",
			awsAccount, awsRegion, ts.Format("2006/01/02"), awsAccount, awsRegion, fl.id, ts.Format("20060102T1504Z"), uint32(hash))
		fl.cur = g.open(key, true)
		if fl.cur == nil {
			return
		}
		fl.cur.writeString(awsFlowFmt + "\n")
	}
	fl.cur.write(line)
	fl.cur.records++
}

func strHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}
