package main

import (
	"slices"

	"github.com/spf13/cobra"

	"github.com/flowsym/flowsym/correlate"
	"github.com/flowsym/flowsym/report"
)

type analyzeFlags struct {
	input  inputFlags
	config string
	format string
	udp    bool
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
connections, not with the number of records.`,
		Example: `  # The bundled demo estate
  flowsym analyze --config out/demo/flowsym.yaml out/demo/logs

  # One hour, findings as JSON lines for a log pipeline
  flowsym analyze --config flowsym.yaml --since 2026-11-20T10:00:00Z --until 2026-11-20T11:00:00Z --format json ./logs`,
		RunE: func(cmd *cobra.Command, args []string) error {
			e.started = true
			return runAnalyze(cmd, e, &f, args)
		},
	}
	f.input.register(cmd.Flags())
	registerAnalysisFlags(cmd, &f.config, &f.udp)
	cmd.Flags().StringVar(&f.format, "format", "text", "output: text (a summary for people) or json (one finding per line) (example: --format json)")
	return cmd
}

// registerAnalysisFlags adds the flags analyze and trace share.
func registerAnalysisFlags(cmd *cobra.Command, config *string, udp *bool) {
	cmd.Flags().StringVarP(config, "config", "c", "", "topology file naming the observers and the approved egress path (example: --config flowsym.yaml)")
	cmd.Flags().BoolVar(udp, "udp", false, "let UDP connections raise one_way too; off by default because many UDP exchanges never answer (example: --udp)")
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
	if !slices.Contains([]string{"text", "json"}, f.format) {
		return usageError("--format %q: want text or json", f.format)
	}
	topo, err := loadTopology(f.config)
	if err != nil {
		return err
	}
	in, err := f.input.plan(e, args)
	if err != nil {
		return err
	}
	c := correlate.New(correlate.Options{Topology: topo, UDP: f.udp})
	if err := in.run(cmd.Context(), c.Add); err != nil {
		reportProblems(e.stderr, in.problems)
		return err
	}
	reportProblems(e.stderr, in.problems)
	res := c.Result()
	if f.format == "json" {
		return report.JSON(e.stdout, res.Findings)
	}
	return report.Text(e.stdout, res, report.Summary{
		Objects:  in.decoder.Stats.Objects.Load(),
		Bytes:    in.decoder.Stats.Bytes.Load(),
		Problems: in.problems.Summary(),
	})
}

type traceFlags struct {
	input          inputFlags
	config         string
	udp            bool
	client, server string
	proto          string
}

func newTraceCommand(e *env) *cobra.Command {
	var f traceFlags
	cmd := &cobra.Command{
		Use:   "trace --client IP[:PORT] --server IP[:PORT] [--proto tcp] SOURCE...",
		Short: "Show one conversation's records across every observer, and its verdict",
		Long: `trace picks one failing flow and correlates it across hub and spoke flow
logs in one command: every record of the conversation in time order, grouped
by observer with its role, each with direction, action, packets, bytes, TCP
flags and the object and line it came from, after the verdict: which findings
hold, or that the path is symmetric through the approved hub.

Ports are optional: without them every connection between the two addresses
is shown, each with its own verdict.`,
		Example: `  flowsym trace --config flowsym.yaml --client 10.1.5.5 --server 93.184.216.34:443 ./logs
  flowsym trace --client '[2600:1f18::15]:51000' --server '[2606:4700::1]:443' --proto tcp ./logs`,
		RunE: func(cmd *cobra.Command, args []string) error {
			e.started = true
			return runTrace(cmd, e, &f, args)
		},
	}
	f.input.register(cmd.Flags())
	registerAnalysisFlags(cmd, &f.config, &f.udp)
	cmd.Flags().StringVar(&f.client, "client", "", "the side that opened the connection: IP or IP:PORT, IPv6 in brackets with a port (example: --client 10.1.5.5:40001)")
	cmd.Flags().StringVar(&f.server, "server", "", "the side that answered: IP or IP:PORT (example: --server 93.184.216.34:443)")
	cmd.Flags().StringVar(&f.proto, "proto", "tcp", "protocol: tcp, udp, icmp, icmp6 or a number (example: --proto udp)")
	return cmd
}

func runTrace(cmd *cobra.Command, e *env, f *traceFlags, args []string) error {
	var m correlate.Match
	var err error
	if f.client == "" || f.server == "" {
		return usageError("trace needs --client and --server")
	}
	if m.Client, err = correlate.ParseEndpoint(f.client); err != nil {
		return usageError("--client: %v", err)
	}
	if m.Server, err = correlate.ParseEndpoint(f.server); err != nil {
		return usageError("--server: %v", err)
	}
	if m.Proto, err = correlate.ParseProto(f.proto); err != nil {
		return usageError("--proto: %v", err)
	}
	topo, err := loadTopology(f.config)
	if err != nil {
		return err
	}
	in, err := f.input.plan(e, args)
	if err != nil {
		return err
	}
	// The whole correlator runs, so the verdict uses the same coverage and
	// port statistics as analyze would.
	c := correlate.New(correlate.Options{Topology: topo, UDP: f.udp})
	tr := &correlate.Tracer{Match: m}
	sink := func(rec arrowBatch) error {
		if err := tr.Add(rec); err != nil {
			return err
		}
		return c.Add(rec)
	}
	if err := in.run(cmd.Context(), sink); err != nil {
		reportProblems(e.stderr, in.problems)
		return err
	}
	reportProblems(e.stderr, in.problems)
	var verdicts []correlate.Verdict
	for v := range c.Verdicts() {
		if m.Key(v.Key) {
			verdicts = append(verdicts, v)
		}
	}
	return report.Trace(e.stdout, m, verdicts, tr.Sorted())
}
