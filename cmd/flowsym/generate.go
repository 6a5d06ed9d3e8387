package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowsym/flowsym/internal/estate"
	"github.com/flowsym/flowsym/internal/loadgen"
)

type generateFlags struct {
	out       string
	seed      uint64
	start     string
	duration  time.Duration
	scale     int
	workloads int
	oneWay    float64
	reject    float64
	scripted  bool
	overwrite bool
	records   int64
	oneObject bool
}

func newGenerateCommand(e *env) *cobra.Command {
	var f generateFlags
	cmd := &cobra.Command{
		Use:   "generate --out DIR",
		Short: "Write a simulated multi-cloud egress estate: flow logs, topology file and ground truth",
		Long: `generate writes a simulated private-egress estate with hubs and spokes in AWS,
GCP and Azure: flow logs in each cloud's real key layout and format
(DIR/logs), the topology file that describes it (DIR/flowsym.yaml), and the
ground truth of the findings it holds (DIR/truth.jsonl). Healthy traffic is
mixed with injected faults of every kind and with the exceptions that must
not raise one (coverage holes, NAT outside legs, connection observers, port
reuse). The same seed writes the same bytes.

It is the bundled demo (make demo) and the data of the benchmarks;
docs/demo-estate.md describes what it contains.

With --records N it writes the load estate instead: exactly N AWS
default-format records of a hub-and-spoke VPC, gzipped in the S3 key layout
(one object per 5-minute slot, or one big object with --one-object), with
Zipf-popular destinations, long-lived connections, port reuse, IPv6, UDP,
ICMP, NODATA and about 1.7% one-way TCP connections. DIR/truth.json says how
many are one-way; make bench-e2e times flowsym and DuckDB on it
(docs/bench-e2e.md).`,
		Example: `  flowsym generate --out out/demo
  flowsym analyze --config out/demo/flowsym.yaml out/demo/logs

  # A larger estate for benchmarks: 15 minutes, 2000 new connections per spoke per minute
  flowsym generate --out out/big --duration 15m --scale 2000 --workloads 200 --scripted=false --one-way 0.01

  # The load estate of the end-to-end benchmark: 5M records in 25 objects
  flowsym generate --out out/load --records 5000000`,
		RunE: func(cmd *cobra.Command, args []string) error {
			e.started = true
			return runGenerate(cmd, e, &f)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&f.out, "out", "o", "", "folder to write the estate to (example: --out out/demo)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed: another seed writes a different, equally valid estate (example: --seed 7)")
	fs.StringVar(&f.start, "start", "2026-11-20T10:00:00Z", "first minute of traffic, RFC 3339 (example: --start 2026-11-20T10:00:00Z)")
	fs.DurationVar(&f.duration, "duration", time.Hour, "how long the traffic lasts; at least 1h with the scripted faults (example: --duration 2h)")
	fs.IntVar(&f.scale, "scale", 20, "new background connections per spoke per minute (example: --scale 500)")
	fs.IntVar(&f.workloads, "workloads", 6, "workload interfaces per spoke, at least 5 (example: --workloads 200)")
	fs.Float64Var(&f.oneWay, "one-way", 0, "share of background connections that get no reply, 0 to 1 (example: --one-way 0.01)")
	fs.Float64Var(&f.reject, "reject", 0, "share of background connections replaced by rejected inbound scans (example: --reject 0.005)")
	fs.BoolVar(&f.scripted, "scripted", true, "include the scripted faults and exceptions; --scripted=false leaves only background traffic (example: --scripted=false)")
	fs.Int64Var(&f.records, "records", 0, "write the load estate of exactly this many AWS records instead of the demo estate (example: --records 5000000)")
	fs.BoolVar(&f.oneObject, "one-object", false, "with --records: one big gzip object instead of one per 5-minute slot (example: --one-object)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "replace an estate already in --out (example: --overwrite)")
	return cmd
}

func runGenerate(cmd *cobra.Command, e *env, f *generateFlags) error {
	if f.out == "" {
		return usageError("--out is required: the folder to write the estate to")
	}
	if f.records > 0 {
		return runLoadGenerate(cmd, e, f)
	}
	if f.oneObject {
		return usageError("--one-object goes with --records")
	}
	start, err := time.Parse(time.RFC3339, f.start)
	if err != nil {
		return usageError("--start: %v", err)
	}
	cfg := estate.Config{Seed: f.seed, Start: start, Duration: f.duration, Scale: f.scale, Workloads: f.workloads,
		OneWayShare: f.oneWay, RejectShare: f.reject, NoScripted: !f.scripted, Overwrite: f.overwrite}
	began := e.now()
	truth, err := estate.Generate(cmd.Context(), f.out, cfg)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	fmt.Fprintf(e.stderr, "flowsym: wrote %d records in %d objects (%s) to %s in %s; %d findings expected (truth.jsonl)\n",
		truth.Records, truth.Objects, humanBytes(truth.Bytes), f.out, e.now().Sub(began).Round(time.Millisecond), len(truth.Findings))
	enc := json.NewEncoder(e.stdout)
	return enc.Encode(map[string]any{"records": truth.Records, "objects": truth.Objects, "bytes": truth.Bytes,
		"findings": len(truth.Findings), "by_kind": truth.ByKind, "insufficient_coverage": truth.InsufficientCoverage})
}

// runLoadGenerate writes the load estate: DIR/logs, DIR/flowsym.yaml and
// DIR/truth.json.
func runLoadGenerate(cmd *cobra.Command, e *env, f *generateFlags) error {
	logs := filepath.Join(f.out, "logs")
	if _, err := os.Stat(logs); err == nil && !f.overwrite {
		return usageError("%s already holds an estate: give --overwrite to replace it", f.out)
	}
	if err := os.RemoveAll(logs); err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	began := e.now()
	truth, err := loadgen.Generate(cmd.Context(), loadgen.Config{Records: f.records, OneObject: f.oneObject, Seed: f.seed, Dir: logs})
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	err = errors.Join(os.WriteFile(filepath.Join(f.out, "flowsym.yaml"), []byte(truth.Topology()), 0o644),
		loadgen.WriteTruth(filepath.Join(f.out, "truth.json"), truth))
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	fmt.Fprintf(e.stderr, "flowsym: wrote %d records in %d objects (%s) to %s in %s; %d one-way TCP connections (truth.json)\n",
		truth.Records, truth.Objects, humanBytes(truth.Bytes), f.out, e.now().Sub(began).Round(time.Millisecond), truth.OneWay)
	return json.NewEncoder(e.stdout).Encode(truth)
}
