package flowbeam

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowsym/flowsym/correlate"
	"github.com/flowsym/flowsym/ingest/stores"
	"github.com/flowsym/flowsym/normalize"
	"github.com/flowsym/flowsym/report/export"
)

// Options say what a pipeline reads and writes; they mirror the flags of
// flowsym analyze.
type Options struct {
	// Inputs are the flow logs: local files, folders or globs, or
	// s3://, gs:// and azblob:// URL prefixes (as SOURCE for analyze).
	Inputs []string
	// Topology is the topology file's content (--config); empty means no
	// topology (every observer unknown). TopologyName names it in errors.
	Topology     []byte
	TopologyName string
	// UDP lets UDP connections raise one_way (--udp).
	UDP bool
	// Checks names the finding kinds to raise (--checks); empty means all.
	Checks []string
	// Since and Until bound the records read (--since, --until); zero is
	// open.
	Since, Until time.Time
	// InputFormat forces every object's format (--input-format); empty or
	// "auto" detects it per object. AWSFormat is the field order of AWS
	// lines without a header (--aws-format); empty means v2.
	InputFormat, AWSFormat string

	// Output is the findings file: JSON lines, worst first, as
	// `flowsym analyze --format json` writes them. Empty writes none.
	Output string
	// OutputShards splits the findings into that many files
	// (NAME-00000-of-00004.jsonl), each sorted, written by as many workers;
	// 1 (the default) writes one file, byte for byte the CLI's.
	OutputShards int
	// Export is the root of the analysis export (flows/, connections/,
	// findings/ as Parquet, Hive-partitioned), as analyze --export writes
	// it. Empty writes none. ExportSchema is "flowsym" (the default) or
	// "ocsf".
	Export       string
	ExportSchema string
	// RunID makes this run's file names unique; empty picks the start time
	// and a random suffix.
	RunID string
	// Version is the flowsym version written into the OCSF export's
	// metadata (product.version); empty writes "dev".
	Version string

	// BatchRows is the number of rows per Arrow batch (default 16k).
	BatchRows int
	// MaxKeys is the number of connection keys a decode worker folds
	// before it hands its partial state over (default 200k: about 100 MB).
	MaxKeys int
}

// DefaultMaxKeys bounds the state a decode worker holds: about 600 bytes
// a connection (correlate's BenchmarkCorrelate), so about 120 MB.
const DefaultMaxKeys = 200_000

// plan is Options checked and resolved, what the transforms carry.
type plan struct {
	Options
	topo      *correlate.Topology
	format    normalize.Format
	awsFormat *normalize.AWSFormat
}

// version is what the OCSF export names the product version.
func (o Options) version() string { return cmp.Or(o.Version, "dev") }

func (o Options) resolve(now time.Time) (*plan, error) {
	p := &plan{Options: o}
	if len(o.Inputs) == 0 {
		return nil, errors.New("no input: give at least one file, folder, glob or s3://, gs://, azblob:// prefix")
	}
	for _, in := range o.Inputs {
		if _, err := stores.Parse(in); err != nil {
			return nil, err
		}
	}
	if o.Output == "" && o.Export == "" {
		return nil, errors.New("nothing to write: give an output for the findings, an export root, or both")
	}
	var err error
	if p.topo, err = loadTopology(o.TopologyName, o.Topology); err != nil {
		return nil, err
	}
	for _, k := range o.Checks {
		if !slices.Contains(correlate.Kinds, k) {
			return nil, fmt.Errorf("check %q: want finding kinds (%s)", k, strings.Join(correlate.Kinds, ", "))
		}
	}
	if p.format, err = normalize.ParseFormat(cmp.Or(o.InputFormat, "auto")); err != nil {
		return nil, fmt.Errorf("input format: %w", err)
	}
	if p.awsFormat, err = normalize.ParseAWSFormat(cmp.Or(o.AWSFormat, "v2")); err != nil {
		return nil, fmt.Errorf("aws format: %w", err)
	}
	if u := p.awsFormat.Unknown(); len(u) > 0 {
		return nil, fmt.Errorf("aws format: unknown AWS flow-log fields %v", u)
	}
	if !o.Since.IsZero() && !o.Until.IsZero() && !o.Until.After(o.Since) {
		return nil, fmt.Errorf("until (%s) must be after since (%s)", o.Until.Format(time.RFC3339), o.Since.Format(time.RFC3339))
	}
	if p.OutputShards <= 0 {
		p.OutputShards = 1
	}
	if p.ExportSchema == "" {
		p.ExportSchema = export.SchemaFlowsym
	}
	if !slices.Contains(export.Schemas, p.ExportSchema) {
		return nil, fmt.Errorf("export schema %q: want one of %s", p.ExportSchema, strings.Join(export.Schemas, ", "))
	}
	if p.RunID == "" {
		p.RunID = NewRunID(now)
	}
	if strings.ContainsAny(p.RunID, "/\\ ") {
		return nil, fmt.Errorf("run id %q: no slashes or spaces", p.RunID)
	}
	if p.BatchRows <= 0 {
		p.BatchRows = 16 << 10
	}
	if p.MaxKeys <= 0 {
		p.MaxKeys = DefaultMaxKeys
	}
	return p, nil
}

func loadTopology(name string, data []byte) (*correlate.Topology, error) {
	if len(data) == 0 {
		return correlate.Empty(), nil
	}
	return correlate.Load(cmp.Or(name, "topology"), data)
}

// NewRunID names a run as the CLI does: its start time and a random
// suffix, so that runs writing into one export never collide.
func NewRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// wirePlan is what a transform carries to the workers: the resolved
// options (Beam serialises a DoFn's exported fields as JSON) and the
// window in microseconds.
type wirePlan struct {
	Options
	Window window
}

func (p *plan) wire() wirePlan {
	w := wirePlan{Options: p.Options}
	if !p.Since.IsZero() {
		w.Window.Since = p.Since.UnixMicro()
	}
	if !p.Until.IsZero() {
		w.Window.Until = p.Until.UnixMicro()
	}
	return w
}

// plan parses what the options name again, on a worker.
func (w wirePlan) plan() (*plan, error) { return w.Options.resolve(time.Time{}) }

// newID returns 8 random hex digits: a bundle's part of file names.
func newID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
