// Command flowsym-beam runs flowsym's analysis on Apache Beam: on Prism,
// in this process (the default), or submitted to Dataflow, or to Flink or
// Spark through their portable job servers. It takes Beam's standard
// pipeline flags (--runner, --endpoint, --environment_type,
// --environment_config, --project, --region, --temp_location, ...) and
// flowsym analyze's flags in Beam's underscore style:
//
//	flowsym-beam --config flowsym.yaml --input s3://logs/AWSLogs/ \
//	    --since 2026-11-20 --until 2026-11-21 \
//	    --output s3://lake/flowsym/findings.jsonl --export s3://lake/flowsym
//
// docs/beam.md explains each runner step by step. The same binary is the
// pipeline's worker: Beam starts it with its own flags on every worker,
// where beam.Init takes over.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/flowsym/flowsym/dist/beam/flowbeam"
	"github.com/flowsym/flowsym/ingest"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

// list is a flag that may be repeated and takes comma-separated values.
type list []string

func (l *list) String() string { return strings.Join(*l, ",") }

func (l *list) Set(v string) error {
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

type flags struct {
	inputs                 list
	config                 string
	since, until           string
	udp                    bool
	checks                 list
	inputFormat, awsFormat string
	output                 string
	outputShards           int
	export, exportSchema   string
	appendExport           bool
	runID                  string
	maxKeys                int
}

func register(fs *flag.FlagSet) *flags {
	f := &flags{}
	fs.Var(&f.inputs, "input", "flow logs to read: a local file, folder or glob, or an s3://, gs:// or azblob://account/container/ prefix;\n"+
		"repeat it or separate with commas (example: --input s3://logs/AWSLogs/,azblob://acct/insights-logs-flowlogflowevent/)")
	fs.StringVar(&f.config, "config", "", "topology file naming the observers and the approved egress path, read where the job is submitted (example: --config flowsym.yaml)")
	fs.StringVar(&f.since, "since", "", "read only records that end at or after this time: RFC 3339, a date, or a duration back from now (example: --since 2026-11-20)")
	fs.StringVar(&f.until, "until", "", "read only records that start before this time; same forms as --since (example: --until 2026-11-21)")
	fs.BoolVar(&f.udp, "udp", false, "let UDP connections raise one_way too (example: --udp)")
	fs.Var(&f.checks, "checks", "raise only these finding kinds, separated by commas (default: all) (example: --checks one_way,hub_bypass)")
	fs.StringVar(&f.inputFormat, "input_format", "auto", "format of every input object instead of detecting it, as analyze --input-format (example: --input_format aws-text)")
	fs.StringVar(&f.awsFormat, "aws_format", "v2", "field order of AWS lines without a header, as analyze --aws-format (example: --aws_format tgw)")
	fs.StringVar(&f.output, "output", "", "findings as JSON lines, worst first, as analyze --format json writes them (example: --output gs://lake/flowsym/findings.jsonl)")
	fs.IntVar(&f.outputShards, "output_shards", 1, "write the findings as this many sorted files NAME-SSSSS-of-NNNNN.jsonl, by as many workers (example: --output_shards 16)")
	fs.StringVar(&f.export, "export", "", "write the analysis as Parquet under this folder or prefix: flows/, connections/, findings/, Hive-partitioned by date (example: --export s3://lake/flowsym)")
	fs.StringVar(&f.exportSchema, "export_schema", "flowsym", "shape of the --export files: flowsym or ocsf (example: --export_schema ocsf)")
	fs.BoolVar(&f.appendExport, "append", false, "add this run's --export files to a folder that already holds an export (example: --append)")
	fs.StringVar(&f.runID, "run_id", "", "name part that makes this run's file names unique (default: the start time and a random suffix)")
	fs.IntVar(&f.maxKeys, "max_keys", flowbeam.DefaultMaxKeys, "connection keys a worker folds before it hands its partial state to the shuffle (about 600 bytes each)")
	return f
}

// usage prints flowsym's own flags first and then Beam's, which are many
// more and mostly for one runner each.
func usage(fs *flag.FlagSet) {
	own := flag.NewFlagSet("", flag.ContinueOnError)
	register(own)
	out := fs.Output()
	fmt.Fprint(out, `flowsym-beam runs flowsym analyze as an Apache Beam pipeline: on Prism in this
process (the default), on Dataflow, or on Flink or Spark through a job server.

  flowsym-beam --config flowsym.yaml --input s3://logs/AWSLogs/ --since 2026-11-20 --until 2026-11-21 \
      --output s3://lake/flowsym/findings.jsonl --export s3://lake/flowsym

docs/beam.md explains each runner step by step.

flowsym's flags:
`)
	own.SetOutput(out)
	own.PrintDefaults()
	fmt.Fprint(out, "\nBeam's flags (--runner and those of each runner):\n")
	beamOnly := flag.NewFlagSet("", flag.ContinueOnError)
	fs.VisitAll(func(fl *flag.Flag) {
		if own.Lookup(fl.Name) == nil {
			beamOnly.Var(fl.Value, fl.Name, fl.Usage)
		}
	})
	beamOnly.SetOutput(out)
	beamOnly.PrintDefaults()
}

func (f *flags) options(now time.Time) (flowbeam.Options, error) {
	o := flowbeam.Options{Inputs: f.inputs, UDP: f.udp, Checks: f.checks, InputFormat: f.inputFormat, AWSFormat: f.awsFormat,
		Output: f.output, OutputShards: f.outputShards, Export: f.export, ExportSchema: f.exportSchema,
		RunID: f.runID, MaxKeys: f.maxKeys, Version: version}
	var err error
	if o.Since, err = ingest.ParseTime(f.since, now); err != nil {
		return o, fmt.Errorf("--since: %w", err)
	}
	if o.Until, err = ingest.ParseTime(f.until, now); err != nil {
		return o, fmt.Errorf("--until: %w", err)
	}
	if f.config != "" {
		if o.Topology, err = os.ReadFile(f.config); err != nil {
			return o, fmt.Errorf("--config: %w", err)
		}
		o.TopologyName = f.config
	}
	if len(o.Inputs) == 0 {
		return o, errors.New("no --input given")
	}
	return o, nil
}

func main() {
	// Workers run this same binary: what they need is registered before
	// beam.Init, which is where a worker goes off to run its bundles.
	flowbeam.Register()
	f := register(flag.CommandLine)
	flag.CommandLine.Usage = func() { usage(flag.CommandLine) }
	flag.Parse()
	beam.Init()

	ctx := context.Background()
	opts, err := f.options(time.Now())
	if err == nil && opts.Export != "" && !f.appendExport {
		// As analyze --export: never mix two runs' rows by accident.
		err = flowbeam.CheckEmpty(ctx, opts.Export)
		if err != nil {
			err = fmt.Errorf("--export: %w (--append adds to it)", err)
		}
	}
	if err == nil {
		p, s := beam.NewPipelineWithRoot()
		if err = flowbeam.Build(s, opts); err == nil {
			if err = beamx.Run(ctx, p); err != nil {
				fmt.Fprintf(os.Stderr, "flowsym-beam: %v\n", err)
				os.Exit(1)
			}
			return
		}
	}
	fmt.Fprintf(os.Stderr, "flowsym-beam: %v\n", err)
	os.Exit(2)
}
