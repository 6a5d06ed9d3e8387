package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/flowsym/flowsym/correlate"
	"github.com/flowsym/flowsym/report"
	"github.com/flowsym/flowsym/report/export"
)

var analyzeFormats = []string{"text", "json", "markdown", "html"}

type analyzeFlags struct {
	correlationFlags
	output       outputFlags
	failOn       string
	checks       string
	export       string
	exportSchema string
	appendExport bool
	state        string
	runID        string
}

func newAnalyzeCommand(e *env) *cobra.Command {
	var f analyzeFlags
	cmd := &cobra.Command{
		Use:   "analyze [--config flowsym.yaml] SOURCE...",
		Short: "Find one-way flows, asymmetric paths, hub bypass and unapproved NAT",
		Long: `analyze reads flow logs, stitches the records of each connection together
across the observers of your egress design (spoke interfaces, firewalls, NATs,
transit gateways, in AWS, GCP and Azure), and raises findings:

  one_way         TCP (UDP with --udp) with forward packets and no reply anywhere
  asymmetric      the reply bypassed a stateful hub device, or forward and
                  reverse went through two different instances
  hub_bypass      a spoke workload reached a public server without any
                  approved hub recording it, while the hub was logging
  unapproved_nat  traffic left through a NAT that is not approved, through
                  two NATs, or with a source address not approved

The topology file (--config) names the observers and their roles; without it
every observer is unknown and only one_way can be raised. docs/topology.md
describes it and docs/analysis.md what each finding means.

Everything runs in one streaming pass: memory grows with the number of
connections, not with the number of records. At the end of every run one JSON
line on stderr sums it up for log pipelines.`,
		Example: `  # The bundled demo estate
  flowsym analyze --config out/demo/flowsym.yaml out/demo/logs

  # An hourly job: JSON findings to a file, exit 1 on any hub bypass
  flowsym analyze --config flowsym.yaml --since 1h --format json --out findings.jsonl --fail-on hub_bypass ./logs`,
		RunE: func(cmd *cobra.Command, args []string) error {
			e.started = true
			return runAnalyze(cmd, e, &f, args)
		},
	}
	f.correlationFlags.register(cmd)
	f.output.register(cmd.Flags(), analyzeFormats)
	cmd.Flags().StringVar(&f.failOn, "fail-on", "", "exit with code 1 when a finding of these kinds is raised: kinds separated by commas, or any (example: --fail-on asymmetric,hub_bypass)")
	cmd.Flags().StringVar(&f.checks, "checks", "", "raise only these finding kinds, separated by commas (default: all); the others are reported as not run (example: --checks one_way)")
	cmd.Flags().StringVar(&f.export, "export", "", "also write the analysis as Parquet to this folder or prefix: flows/, connections/ and findings/,\n"+
		"Hive-partitioned by date (docs/analysis-export.md) (example: --export s3://lake/flowsym)")
	cmd.Flags().StringVar(&f.exportSchema, "export-schema", export.SchemaFlowsym, "shape of the --export files: flowsym (flat columns) or ocsf (OCSF Network Activity and Detection Finding) (example: --export-schema ocsf)")
	cmd.Flags().BoolVar(&f.appendExport, "append", false, "add this run's --export files to a folder that already holds an export (example: --append)")
	cmd.Flags().StringVar(&f.state, "state", "", "scheduled runs with --export: record the objects taken; take only new or changed ones next time\n"+
		"(docs/scheduled-runs.md) (example: --state s3://lake/flowsym/state.json)")
	cmd.Flags().StringVar(&f.runID, "run-id", "", "name part that makes this run's --export file names unique (default: the start time and a random suffix)")
	return cmd
}

// registerAnalysisFlags adds the flags analyze and trace share.
// correlationFlags are the flags analyze and trace share: the input, the
// topology file, --udp and the correlator's memory.
type correlationFlags struct {
	input  inputFlags
	corr   correlateFlags
	config string
	udp    bool
}

func (f *correlationFlags) register(cmd *cobra.Command) {
	f.input.register(cmd.Flags())
	cmd.Flags().StringVarP(&f.config, "config", "c", "", "topology file naming the observers and the approved egress path (example: --config flowsym.yaml)")
	cmd.Flags().BoolVar(&f.udp, "udp", false, "let UDP connections raise one_way too; off by default because many UDP exchanges never answer (example: --udp)")
	f.corr.register(cmd)
}

// prepare loads the topology, plans the input and sizes the correlator.
// restore puts back the runtime's memory limit; call it when the run ends.
func (f *correlationFlags) prepare(e *env, args []string) (in *input, opts correlate.Options, restore func(), err error) {
	topo, err := loadTopology(f.config)
	if err != nil {
		return nil, opts, nil, err
	}
	if in, err = f.input.plan(e, args); err != nil {
		return nil, opts, nil, err
	}
	opts, restore, err = f.corr.options(topo, f.udp)
	return in, opts, restore, err
}

func loadTopology(path string) (*correlate.Topology, error) {
	if path == "" {
		return correlate.Empty(), nil
	}
	topo, err := correlate.LoadFile(path)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return topo, nil
}

func runAnalyze(cmd *cobra.Command, e *env, f *analyzeFlags, args []string) error {
	if err := f.output.check(analyzeFormats); err != nil {
		return err
	}
	failOn, err := parseKinds("fail-on", f.failOn)
	if err != nil {
		return err
	}
	checks, err := parseKinds("checks", f.checks)
	if err != nil {
		return err
	}
	for _, k := range failOn {
		if len(checks) > 0 && !slices.Contains(checks, k) && f.failOn != "any" {
			return usageError("--fail-on %s: --checks does not run that check", k)
		}
	}
	in, opts, restore, err := f.prepare(e, args)
	if err != nil {
		return err
	}
	defer restore()
	opts.Checks = checks
	start := e.now()
	e.summary, e.metricsFile = newSummary("analyze", start), f.output.metricsFile
	runID := newRunID(start, f.runID)
	aw, job, release, err := f.openExport(cmd.Context(), e, opts.Topology, runID)
	if err != nil {
		return err
	}
	defer release()
	if job != nil {
		in.skip, in.onObject = job.plan, job.record
	}
	// One correlator shard per worker, each fed without a global lock.
	sharded := correlate.NewSharded(opts, in.workers)
	var flowsMu sync.Mutex
	sink := sharded.Add
	if aw != nil {
		sink = func(rec arrowBatch) error {
			if err := sharded.Add(rec); err != nil {
				return err
			}
			flowsMu.Lock()
			defer flowsMu.Unlock()
			return aw.Flows(rec)
		}
	}
	err = in.runConcurrent(cmd.Context(), sink)
	parts := sharded.Close()
	defer closeAll(parts)
	reportProblems(e.stderr, in.problems)
	e.summary.fromInput(in)
	if err != nil {
		if aw != nil {
			aw.Abort()
		}
		return err
	}
	res, err := correlate.ResultOf(parts)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	e.summary.fromResult(res)
	if aw != nil {
		var cerr error
		if err := correlate.VerdictsOf(parts, func(v correlate.Verdict) { cerr = errors.Join(cerr, aw.Connection(v)) }); err != nil || cerr != nil {
			aw.Abort()
			return &exitError{code: exitFailure, err: errors.Join(err, cerr)}
		}
		if err := commitOutputs(cmd.Context(), aw, job, runID); err != nil {
			return err
		}
	}
	sum := report.Summary{Objects: in.decoder.Stats.Objects.Load(), Bytes: in.decoder.Stats.Bytes.Load(), Problems: in.problems.Summary()}
	err = f.output.write(e, func(w io.Writer) error {
		switch f.output.format {
		case "json":
			return report.JSON(w, res.Findings)
		case "markdown":
			return report.Markdown(w, res, sum)
		case "html":
			return report.HTML(w, res, sum)
		}
		return report.Text(w, res, sum)
	})
	if err != nil {
		return err
	}
	return failOnFindings(res, failOn)
}

// openExport opens the --export writer and the --state of a scheduled
// run, or nothing when --export is not given.
func (f *analyzeFlags) openExport(ctx context.Context, e *env, topo *correlate.Topology, runID string) (*export.AnalysisWriter, *scheduled, func(), error) {
	none := func() {}
	if f.export == "" {
		if f.state != "" {
			return nil, nil, none, usageError("--state records what a scheduled run exported: give --export too")
		}
		return nil, nil, none, nil
	}
	if !slices.Contains(export.Schemas, f.exportSchema) {
		return nil, nil, none, usageError("--export-schema %q: want one of %s", f.exportSchema, strings.Join(export.Schemas, ", "))
	}
	dst, release, err := exportFolder(ctx, f.export, f.appendExport || f.state != "")
	if err != nil {
		return nil, nil, none, err
	}
	aw, err := export.NewAnalysisWriter(ctx, dst, export.AnalysisOptions{Schema: f.exportSchema, RunID: runID, Version: version, Public: topo.IsPublic})
	if err != nil {
		release()
		return nil, nil, none, &exitError{code: exitFailure, err: err}
	}
	var job *scheduled
	if f.state != "" {
		if job, err = openScheduled(ctx, e, f.state, dst); err != nil {
			aw.Abort()
			release()
			return nil, nil, none, err
		}
	}
	return aw, job, func() {
		if job != nil {
			job.close()
		}
		release()
	}, nil
}

// failOnFindings maps --fail-on to exit code 1.
func failOnFindings(res *correlate.Result, kinds []string) error {
	var hit []string
	for _, k := range kinds {
		if n := res.ByKind[k]; n > 0 {
			hit = append(hit, fmt.Sprintf("%d %s", n, k))
		}
	}
	if len(hit) == 0 {
		return nil
	}
	return &exitError{code: exitFindings, err: fmt.Errorf("findings matched --fail-on: %s", strings.Join(hit, ", "))}
}

var traceFormats = []string{"text", "markdown", "json"}

type traceFlags struct {
	correlationFlags
	output         outputFlags
	client, server string
	proto          string
}

func newTraceCommand(e *env) *cobra.Command {
	var f traceFlags
	cmd := &cobra.Command{
		Use:   "trace --client IP[:PORT] --server IP[:PORT] [--proto tcp] SOURCE...",
		Short: "Show one conversation's records across every observer, and its verdict",
		Long: `trace picks one failing flow and correlates it across hub and spoke flow
logs in one command: the verdict first (which findings hold, or that the path
is symmetric through the approved hub), then every record of the conversation
in time order, grouped by observer with its role, each with direction,
action, packets, bytes, TCP flags and the object and line it came from.

Ports are optional: without them every connection between the two addresses
is shown, each with its own verdict.`,
		Example: `  flowsym trace --config flowsym.yaml --client 10.1.5.5 --server 93.184.216.34:443 ./logs
  flowsym trace --client '[2600:1f18::15]:51000' --server '[2606:4700::1]:443' --proto tcp --format markdown ./logs`,
		RunE: func(cmd *cobra.Command, args []string) error {
			e.started = true
			return runTrace(cmd, e, &f, args)
		},
	}
	f.correlationFlags.register(cmd)
	f.output.register(cmd.Flags(), traceFormats)
	cmd.Flags().StringVar(&f.client, "client", "", "the side that opened the connection: IP or IP:PORT, IPv6 in brackets with a port (example: --client 10.1.5.5:40001)")
	cmd.Flags().StringVar(&f.server, "server", "", "the side that answered: IP or IP:PORT (example: --server 93.184.216.34:443)")
	cmd.Flags().StringVar(&f.proto, "proto", "tcp", "protocol: tcp, udp, icmp, icmp6 or a number (example: --proto udp)")
	return cmd
}

func runTrace(cmd *cobra.Command, e *env, f *traceFlags, args []string) error {
	if err := f.output.check(traceFormats); err != nil {
		return err
	}
	m, err := f.match()
	if err != nil {
		return err
	}
	in, opts, restore, err := f.prepare(e, args)
	if err != nil {
		return err
	}
	defer restore()
	e.summary, e.metricsFile = newSummary("trace", e.now()), f.output.metricsFile
	// The whole correlator runs, so the verdict uses the same coverage and
	// port statistics as analyze would.
	c := correlate.New(opts)
	defer c.Close()
	tr := &correlate.Tracer{Match: m}
	err = in.run(cmd.Context(), func(rec arrowBatch) error {
		if err := tr.Add(rec); err != nil {
			return err
		}
		return c.Add(rec)
	})
	reportProblems(e.stderr, in.problems)
	e.summary.fromInput(in)
	if err != nil {
		return err
	}
	var verdicts []correlate.Verdict
	err = c.Verdicts(func(v correlate.Verdict) {
		if m.Key(v.Key) {
			verdicts = append(verdicts, v.Clone())
		}
	})
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	records := tr.Sorted()
	return f.output.write(e, func(w io.Writer) error {
		switch f.output.format {
		case "json":
			return report.TraceJSON(w, m, verdicts, records)
		case "markdown":
			return report.TraceMarkdown(w, m, verdicts, records)
		}
		return report.Trace(w, m, verdicts, records)
	})
}

func (f *traceFlags) match() (correlate.Match, error) {
	var m correlate.Match
	var err error
	if f.client == "" || f.server == "" {
		return m, usageError("trace needs --client and --server")
	}
	if m.Client, err = correlate.ParseEndpoint(f.client); err != nil {
		return m, usageError("--client: %v", err)
	}
	if m.Server, err = correlate.ParseEndpoint(f.server); err != nil {
		return m, usageError("--server: %v", err)
	}
	if m.Proto, err = correlate.ParseProto(f.proto); err != nil {
		return m, usageError("--proto: %v", err)
	}
	return m, nil
}

func closeAll(parts []*correlate.Correlator) {
	for _, p := range parts {
		p.Close()
	}
}
