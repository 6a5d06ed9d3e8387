package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowsym/flowsym/correlate"
)

// runSummary is the one JSON line written to stderr at the end of every
// run, for log pipelines: what was read, what came out, how long it took.
type runSummary struct {
	Event         string         `json:"event"`
	Command       string         `json:"command"`
	ExitCode      int            `json:"exit_code"`
	Error         string         `json:"error,omitempty"`
	Start         time.Time      `json:"start"`
	DurationS     float64        `json:"duration_s"`
	Objects       int64          `json:"objects"`
	BytesRead     int64          `json:"bytes_read"`
	Records       int64          `json:"records"`
	OutsideWindow int64          `json:"records_outside_window"`
	InputErrors   int64          `json:"input_errors"`
	InputProblems int64          `json:"input_problems"`
	RowsWritten   int64          `json:"rows_written,omitempty"`
	Connections   int64          `json:"connections,omitempty"`
	Insufficient  int64          `json:"insufficient_coverage,omitempty"`
	Findings      map[string]int `json:"findings,omitempty"`
}

func newSummary(command string, start time.Time) *runSummary {
	return &runSummary{Event: "flowsym.run", Command: command, Start: start.UTC()}
}

// fromInput copies the input counters.
func (s *runSummary) fromInput(in *input) {
	st := &in.decoder.Stats
	s.Objects, s.BytesRead = st.Objects.Load(), st.Bytes.Load()
	s.Records, s.OutsideWindow = st.Records.Load(), st.Filtered.Load()
	s.InputErrors, s.InputProblems = in.problems.Errors(), in.problems.Total()
}

// fromResult copies the analysis counters.
func (s *runSummary) fromResult(r *correlate.Result) {
	s.Connections, s.Insufficient = r.Connections, r.Insufficient
	s.Findings = map[string]int{}
	for _, k := range correlate.Kinds {
		s.Findings[k] = r.ByKind[k]
	}
}

func (s *runSummary) write(w io.Writer, code int, err error, now time.Time) {
	s.ExitCode = code
	if err != nil {
		s.Error = err.Error()
	}
	s.DurationS = now.Sub(s.Start).Seconds()
	line, _ := json.Marshal(s)
	fmt.Fprintf(w, "%s\n", line)
}

// writeMetrics writes the run's figures in Prometheus text format to path,
// for the node exporter's textfile collector. The file is replaced
// atomically, so the collector never reads half of it.
func writeMetrics(path string, s *runSummary) error {
	reg := prometheus.NewRegistry()
	gauge := func(name, help string, v float64, labels ...string) {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "flowsym_" + name, Help: help}, labelNames(labels))
		reg.MustRegister(g)
		g.WithLabelValues(labelValues(labels)...).Set(v)
	}
	cmd := []string{"command", s.Command}
	gauge("last_run_timestamp_seconds", "When the last run started, as a Unix time.", float64(s.Start.Unix()), cmd...)
	gauge("last_run_duration_seconds", "How long the last run took.", s.DurationS, cmd...)
	gauge("last_run_exit_code", "Exit code of the last run (0 success).", float64(s.ExitCode), cmd...)
	gauge("objects_read", "Objects the last run read.", float64(s.Objects), cmd...)
	gauge("bytes_read", "Stored bytes the last run read.", float64(s.BytesRead), cmd...)
	gauge("records", "Records the last run kept.", float64(s.Records), cmd...)
	gauge("input_errors", "Bad records or objects the last run met.", float64(s.InputErrors), cmd...)
	if s.Findings != nil {
		gauge("connections", "Connections the last run judged.", float64(s.Connections), cmd...)
		gauge("insufficient_coverage_connections", "Connections that lacked coverage to judge.", float64(s.Insufficient), cmd...)
		fv := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "flowsym_findings", Help: "Findings of the last run by kind."}, []string{"command", "kind"})
		reg.MustRegister(fv)
		for _, k := range sortedKeys(s.Findings) {
			fv.WithLabelValues(s.Command, k).Set(float64(s.Findings[k]))
		}
	}
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return fmt.Errorf("write --metrics-file: %w", err)
	}
	return nil
}

func labelNames(kv []string) []string {
	var out []string
	for i := 0; i < len(kv); i += 2 {
		out = append(out, kv[i])
	}
	return out
}

func labelValues(kv []string) []string {
	var out []string
	for i := 1; i < len(kv); i += 2 {
		out = append(out, kv[i])
	}
	return out
}

func sortedKeys(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }
