package estate

import (
	"fmt"
	"strconv"
	"time"
)

// Azure VNet flow logs (FLOWLOG_FORMATS.md 6): one PT1H.json block blob
// per NIC per hour, {"records":[...]}, one record per NIC per minute with
// traffic. A tuple names the flow's initiator and responder and counts
// both directions: B when the flow begins (no counters: evidence of
// neither direction), C every 5 minutes while it continues, E when it
// ends, D when a rule denied it. Timestamps are epoch milliseconds.

func (g *gen) azHop(c *conn, h *hop, win *window) {
	n := h.nic
	if h.reject {
		// A denied flow gets one D tuple and no counters.
		if win.w == 0 {
			g.azTuple(n, ruleDenyIn, c, c.client, c.server, c.cport, c.sport, 'I', 'D', win.lo, 0, 0, 0, 0)
		}
		return
	}
	src, dst, sport, dport := c.client, c.server, c.cport, c.sport
	dir, rule := byte('I'), ruleAllowHub
	switch h.kind {
	case hopAzClient:
		dir, rule = 'O', ruleAllowOut
	case hopAzServer:
		rule = ruleDenyIn
	case hopAzForwardRev:
		// This NVA saw the reply as a flow of its own: the server is
		// its initiator.
		src, dst, sport, dport = c.server, c.client, c.sport, c.cport
	}
	if win.w == 0 {
		g.azTuple(n, rule, c, src, dst, sport, dport, dir, 'B', win.lo, 0, 0, 0, 0)
	}
	if !azTupleDue(win) {
		return
	}
	var fp, fb, rp, rb uint64
	if h.see&seeFwdIn != 0 {
		fp, fb = c.accFP, c.accFB
	}
	if h.see&seeRevIn != 0 {
		rp, rb = c.accRP, c.accRB
	}
	if h.kind == hopAzForwardRev {
		fp, fb, rp, rb = rp, rb, fp, fb
	}
	state := byte('C')
	if win.last {
		state = 'E'
	}
	g.azTuple(n, rule, c, src, dst, sport, dport, dir, state, win.hi, fp, fb, rp, rb)
}

// azTuple adds one flow tuple to the NIC's record of this minute.
func (g *gen) azTuple(n *azNIC, rule int, c *conn, src, dst *host, sport, dport uint16, dir, state byte, t int64, fp, fb, rp, rb uint64) {
	b := n.tuples[rule]
	if len(b) > 0 {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = strconv.AppendInt(b, t*1000, 10)
	b = append(b, ',')
	b = append(b, src.txt...)
	b = append(b, ',')
	b = append(b, dst.txt...)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(sport), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(dport), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(c.proto), 10)
	b = append(b, ',', dir, ',', state, ',', 'N', 'X', ',')
	b = strconv.AppendUint(b, fp, 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, fb, 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, rp, 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, rb, 10)
	b = append(b, '"')
	n.tuples[rule] = b
	n.count++
	if c.tracked() {
		c.seen(t, t)
	}
}

// azEndMinute writes each NIC's record of minute m: its tuples grouped by
// rule under the NSG that evaluated them.
func (g *gen) azEndMinute(m int) {
	t := g.base + int64(m)*60 + 59
	for _, n := range g.az.all {
		if n.count == 0 {
			continue
		}
		hour := t - t%3600
		if n.cur != nil && n.hour != hour {
			g.closeAzure(n)
		}
		if n.cur == nil {
			n.hour = hour
			ts := time.Unix(hour, 0).UTC()
			key := fmt.Sprintf("azure/insights-logs-flowlogflowevent/flowLogResourceID=%s/y=%04d/m=%02d/d=%02d/h=%02d/m=00/macAddress=%s/PT1H.json",
				n.flowLog, ts.Year(), ts.Month(), ts.Day(), ts.Hour(), n.mac)
			if n.cur = g.open(key, false); n.cur == nil {
				return
			}
			n.cur.writeString(`{"records":[` + "\n")
		} else {
			n.cur.writeString(",\n")
		}
		b := append(g.buf[:0], `{"time":"`...)
		b = time.Unix(t, 0).UTC().AppendFormat(b, "2006-01-02T15:04:05.0000000Z")
		b = append(b, `","flowLogVersion":4,"flowLogGUID":"`...)
		b = append(b, n.guid...)
		b = append(b, `","macAddress":"`...)
		b = append(b, n.mac...)
		b = append(b, `","category":"FlowLogFlowEvent","flowLogResourceID":"`...)
		b = append(b, n.flowLog...)
		b = append(b, `","targetResourceID":"`...)
		b = append(b, n.target...)
		b = append(b, `","operationName":"FlowLogFlowEvent","flowRecords":{"flows":[{"aclID":"`...)
		b = append(b, n.aclID...)
		b = append(b, `","flowGroups":[`...)
		first := true
		for r := range n.tuples {
			if len(n.tuples[r]) == 0 {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, `{"rule":"`...)
			b = append(b, azRuleNames[r]...)
			b = append(b, `","flowTuples":[`...)
			b = append(b, n.tuples[r]...)
			b = append(b, "]}"...)
			n.tuples[r] = n.tuples[r][:0]
		}
		b = append(b, "]}]}}"...)
		g.buf = b
		n.cur.write(b)
		n.cur.records += int64(n.count)
		n.count = 0
	}
}

// closeAzure ends the NIC's open document.
func (g *gen) closeAzure(n *azNIC) {
	n.cur.writeString("\n]}\n")
	g.closeObject(n.cur)
	n.cur = nil
}
