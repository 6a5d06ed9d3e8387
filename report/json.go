// Package report renders the correlator's results for people (text) and
// for tools (JSON, one finding per line), and a single connection's trace.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/flowsym/flowsym/correlate"
)

// JSON writes one finding per line in the shape ANALYSIS.md defines, which
// tools read: the field names are a contract.
func JSON(w io.Writer, findings []correlate.Finding) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range findings {
		f := findings[i]
		if f.Observers == nil {
			f.Observers = []correlate.FindingObserver{}
		}
		if f.Evidence == nil {
			f.Evidence = []correlate.EvidenceRef{}
		}
		if err := enc.Encode(&f); err != nil {
			return fmt.Errorf("write findings: %w", err)
		}
	}
	return nil
}

// traceJSON is the JSON shape of a trace: the verdict of each connection
// first, then its records.
type traceJSON struct {
	Protocol    int             `json:"protocol"`
	Client      string          `json:"client"`
	Server      string          `json:"server"`
	Connections []traceConnJSON `json:"connections"`
}

type traceConnJSON struct {
	Client    string              `json:"client"`
	Server    string              `json:"server"`
	FirstSeen string              `json:"first_seen"`
	LastSeen  string              `json:"last_seen"`
	Verdict   string              `json:"verdict"`
	Findings  []correlate.Finding `json:"findings"`
	Records   []traceRecordJSON   `json:"records"`
}

type traceRecordJSON struct {
	Time      string `json:"time"`
	Observer  string `json:"observer"`
	ID        string `json:"id"`
	Role      string `json:"role"`
	Direction string `json:"direction"`
	Forward   bool   `json:"forward"`
	Action    string `json:"action,omitempty"`
	State     string `json:"flow_state,omitempty"`
	Packets   *int64 `json:"packets"`
	Bytes     *int64 `json:"bytes"`
	Flags     *int64 `json:"tcp_flags"`
	Object    string `json:"object"`
	Line      int64  `json:"line"`
}

// TraceJSON writes a trace as one JSON document.
func TraceJSON(w io.Writer, m correlate.Match, verdicts []correlate.Verdict, records []correlate.TraceRecord) error {
	doc := traceJSON{Protocol: int(m.Proto), Client: endpoint(m.Client), Server: endpoint(m.Server), Connections: []traceConnJSON{}}
	opt := func(n int64) *int64 {
		if n < 0 {
			return nil
		}
		return &n
	}
	for _, v := range sortedVerdicts(verdicts) {
		c := traceConnJSON{Client: v.Client.AddrPort().String(), Server: v.Server.AddrPort().String(),
			FirstSeen: clock(v.Session.First, "2006-01-02T15:04:05Z"), LastSeen: clock(v.Session.Last, "2006-01-02T15:04:05Z"),
			Verdict: strings.TrimPrefix(verdictLines(v)[0], "Verdict: "), Findings: v.Findings, Records: []traceRecordJSON{}}
		if c.Findings == nil {
			c.Findings = []correlate.Finding{}
		}
		for _, view := range v.Views {
			for _, r := range records {
				if r.Observer != view.ID || r.From < v.Session.First || r.To > v.Session.Last {
					continue
				}
				c.Records = append(c.Records, traceRecordJSON{Time: clock(r.From, "2006-01-02T15:04:05Z"), Observer: view.Name,
					ID: view.ID.ID, Role: string(view.Role), Direction: r.Direction, Forward: r.Forward, Action: r.Action,
					State: r.State, Packets: opt(r.Packets), Bytes: opt(r.Bytes), Flags: opt(r.Flags), Object: r.Object, Line: r.Line})
			}
		}
		doc.Connections = append(doc.Connections, c)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}
