package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/stores"
	"github.com/flowsym/flowsym/normalize"
	"github.com/flowsym/flowsym/report/export"
)

type normalizeFlags struct {
	input       inputFlags
	out         string
	append      bool
	runID       string
	metricsFile string
	state       string
}

func newNormalizeCommand(e *env) *cobra.Command {
	var f normalizeFlags
	cmd := &cobra.Command{
		Use:   "normalize SOURCE... --out PATH",
		Short: "Convert flow logs into one normalized Parquet export",
		Long: `normalize reads flow logs from files, folders (recursively) and glob patterns,
detects each object's format, and writes every record in flowsym's one
normalized schema as Parquet (zstd), ready for DuckDB, Athena, BigQuery or
Spark.

When --out ends in .parquet, one file is written (replaced atomically if it
exists). Otherwise --out is a folder, written Hive-partitioned as
cloud=<cloud>/date=<YYYY-MM-DD>/part-<n>-<run>.parquet so that engines prune by
date; the folder must be empty or absent unless --append is given.

Bad input never stops the run early: each malformed line or damaged object is
counted and reported on stderr with its object and line, and the records
around it are kept. More than --max-errors errors stops the run (exit 3) and
nothing is written.`,
		Example: `  # One Parquet file from a folder of AWS flow logs
  flowsym normalize ./AWSLogs --out flows.parquet

  # A Hive-partitioned export of one hour, from several clouds' logs
  flowsym normalize ./logs/aws ./logs/azure --since 2026-11-20T10:00:00Z --until 2026-11-20T11:00:00Z --out ./export

  # An hourly job: S3 in, S3 out, each object taken once across runs
  flowsym normalize s3://logs/AWSLogs/ --since 2h --out s3://lake/flowsym/flows --state s3://lake/flowsym/state.json

  # Headerless CloudWatch Logs export with a custom format
  flowsym normalize cwl-export.log --aws-format "version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status flow-direction" --out out.parquet`,
		RunE: func(cmd *cobra.Command, args []string) error {
			e.started = true
			return runNormalize(cmd, e, &f, args)
		},
	}
	f.input.register(cmd.Flags())
	cmd.Flags().StringVarP(&f.out, "out", "o", "", "where to write: a file ending in .parquet, or a folder for a Hive-partitioned export (example: --out ./export)")
	cmd.Flags().BoolVar(&f.append, "append", false, "add this run's files to a folder that already holds an export (example: --append)")
	cmd.Flags().StringVar(&f.state, "state", "",
		"scheduled runs: a file or object (local path, s3://, gs://, azblob://) recording the objects earlier runs took;\n"+
			"this run takes only new or changed objects and adds its files to --out without duplicates, and a run killed\n"+
			"half-way is cleaned up by the next (example: --state s3://bucket/flowsym/state.json)")
	cmd.Flags().StringVar(&f.metricsFile, "metrics-file", "", "also write the run's figures in Prometheus text format to this file (example: --metrics-file /var/lib/node_exporter/flowsym.prom)")
	cmd.Flags().StringVar(&f.runID, "run-id", "", "name part that makes this run's file names unique (default: the start time and a random suffix)")
	return cmd
}

func runNormalize(cmd *cobra.Command, e *env, f *normalizeFlags, args []string) error {
	ctx := cmd.Context()
	if f.out == "" {
		return usageError("--out is required: a file ending in .parquet, or a folder")
	}
	single := strings.HasSuffix(f.out, ".parquet")
	if f.state != "" && single {
		return usageError("--state needs a folder --out: a scheduled run adds files to a folder export, and one Parquet file cannot be appended to")
	}
	in, err := f.input.plan(e, args)
	if err != nil {
		return err
	}
	start := e.now()
	dst, opts, closeOut, err := outputFor(ctx, f, start)
	if err != nil {
		return err
	}
	defer closeOut()
	var job *scheduled
	if f.state != "" {
		if job, err = openScheduled(ctx, e, f.state, dst); err != nil {
			return err
		}
		defer job.close()
		in.skip, in.onObject = job.plan, job.record
	}
	e.summary, e.metricsFile = newSummary("normalize", start), f.metricsFile
	w := export.NewFlowWriter(ctx, dst, opts)
	err = in.run(ctx, w.Write)
	reportProblems(e.stderr, in.problems)
	e.summary.fromInput(in)
	if err != nil {
		w.Abort()
		return err
	}
	if err := commitOutputs(ctx, w, job, opts.RunID); err != nil {
		return err
	}
	e.summary.RowsWritten = w.Rows()
	st := &in.decoder.Stats
	fmt.Fprintf(e.stderr, "flowsym: read %d objects (%s) in %s: %d records", st.Objects.Load(), humanBytes(st.Bytes.Load()),
		e.now().Sub(start).Round(time.Millisecond), st.Records.Load())
	if n := st.Filtered.Load(); n > 0 {
		fmt.Fprintf(e.stderr, " (%d more outside --since/--until)", n)
	}
	if n := in.pruned.Load(); n > 0 {
		fmt.Fprintf(e.stderr, "; %d objects or folders skipped by key date", n)
	}
	if job != nil && job.skipped > 0 {
		fmt.Fprintf(e.stderr, "; %d objects taken by earlier runs", job.skipped)
	}
	fmt.Fprintf(e.stderr, "\nflowsym: wrote %d rows to %s (%d files)\n", w.Rows(), ingest.Scrub(f.out), len(w.Files()))
	return nil
}

// commitOutputs publishes the run's files. With a state, the file names
// are recorded before they become visible and the objects after, so that
// a run killed at any point leaves a state from which the next run removes
// what this one published and takes its objects again.
func commitOutputs(ctx context.Context, w twoPhase, job *scheduled, runID string) error {
	files, err := w.Finish()
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	if job != nil {
		if err := job.begin(ctx, runID, files); err != nil {
			w.Abort()
			return err
		}
	}
	if err := w.Commit(); err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	if job != nil {
		return job.commit(ctx, runID)
	}
	return nil
}

// twoPhase is an export that finishes its files before publishing them.
type twoPhase interface {
	Finish() ([]string, error)
	Commit() error
	Abort()
}

// newRunID names a run's files: its start time and a random suffix, unless
// --run-id gives one.
func newRunID(start time.Time, given string) string {
	if given != "" {
		return given
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return start.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// exportFolder opens a folder or prefix an export writes into, and a
// function that releases its store.
func exportFolder(ctx context.Context, location string, appendOK bool) (*export.Prefixed, func(), error) {
	loc, err := stores.Parse(location)
	if err != nil {
		return nil, nil, usageError("%v", err)
	}
	if loc.Scheme == stores.Local {
		if !appendOK {
			if err := checkEmptyDir(location); err != nil {
				return nil, nil, err
			}
		}
		return export.Dir(location), func() {}, nil
	}
	st, root, err := stores.Open(ctx, location, stores.Options{})
	if err != nil {
		return nil, nil, &exitError{code: exitFailure, err: err}
	}
	release := func() { closeStore(st) }
	if !appendOK {
		if err := checkEmptyPrefix(ctx, st, root); err != nil {
			release()
			return nil, nil, err
		}
	}
	return export.Under(st, root), release, nil
}

// outputFor checks --out and returns where and how to write, and a
// function that releases the output store.
func outputFor(ctx context.Context, f *normalizeFlags, start time.Time) (*export.Prefixed, export.Options, func(), error) {
	runID := newRunID(start, f.runID)
	loc, err := stores.Parse(f.out)
	if err != nil {
		return nil, export.Options{}, nil, usageError("--out: %v", err)
	}
	single := strings.HasSuffix(f.out, ".parquet")
	if loc.Scheme == stores.Local && single {
		if st, err := os.Stat(f.out); err == nil && st.IsDir() {
			return nil, export.Options{}, nil, usageError("--out %s is a folder; give a file name or a folder without the .parquet suffix", f.out)
		}
		return export.Dir(filepath.Dir(f.out)), export.Options{File: filepath.Base(f.out), RunID: runID}, func() {}, nil
	}
	if !single {
		dst, release, err := exportFolder(ctx, f.out, f.append || f.state != "")
		return dst, export.Options{Partitioned: true, RunID: runID}, release, err
	}
	st, root, err := stores.Open(ctx, f.out, stores.Options{})
	if err != nil {
		return nil, export.Options{}, nil, &exitError{code: exitFailure, err: fmt.Errorf("--out: %w", err)}
	}
	dir, file := path.Split(root)
	return export.Under(st, strings.TrimSuffix(dir, "/")), export.Options{File: file, RunID: runID}, func() { closeStore(st) }, nil
}

// checkEmptyPrefix refuses to add files to a non-empty prefix without
// --append, as checkEmptyDir does for a local folder.
func checkEmptyPrefix(ctx context.Context, st ingest.Store, root string) error {
	empty, err := ingest.Empty(ctx, st, root)
	switch {
	case err != nil:
		return &exitError{code: exitFailure, err: fmt.Errorf("--out: %w", err)}
	case !empty:
		return usageError("--out %s already holds objects: give --append to add this run's files, or choose another prefix", ingest.Scrub(root))
	}
	return nil
}

func checkEmptyDir(dir string) error {
	d, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return usageError("--out: %v", err)
	}
	defer d.Close()
	st, err := d.Stat()
	if err != nil {
		return usageError("--out: %v", err)
	}
	if !st.IsDir() {
		return usageError("--out %s is a file; a folder export needs a folder (or end the name in .parquet for one file)", dir)
	}
	if _, err := d.Readdirnames(1); err != io.EOF {
		return usageError("--out folder %s is not empty: give --append to add this run's files to it, or choose another folder", dir)
	}
	return nil
}

// reportProblems prints the bad-input summary and the kept examples.
func reportProblems(w io.Writer, ps *normalize.Problems) {
	if ps.Total() == 0 {
		return
	}
	fmt.Fprintf(w, "flowsym: input problems: %s\n", ps.Summary())
	for _, p := range ps.Examples() {
		msg := strings.SplitN(p.Error(), "\n", 2)[0]
		fmt.Fprintf(w, "  %s\n", msg)
	}
	if shown := int64(len(ps.Examples())); ps.Total() > shown {
		fmt.Fprintf(w, "  ... and %d more\n", ps.Total()-shown)
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
