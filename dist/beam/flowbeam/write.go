package flowbeam

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"

	"github.com/flowsym/flowsym/correlate"
	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/stores"
	"github.com/flowsym/flowsym/report"
	"github.com/flowsym/flowsym/report/export"
)

// shardName is the name of findings shard i of n: the output itself when
// there is one shard, else NAME-00003-of-00016.EXT.
func shardName(output string, i, n int) string {
	if n <= 1 {
		return output
	}
	dir, base := split(output)
	stem, ext := base, ""
	if j := strings.LastIndex(base, "."); j > 0 {
		stem, ext = base[:j], base[j:]
	}
	return join(dir, fmt.Sprintf("%s-%05d-of-%05d%s", stem, i, n, ext))
}

func findingsTag(shard int) string { return "findings-" + strconv.Itoa(shard) }

// writeFindingsFn writes one shard of the findings: sorted worst first
// with correlate.CompareFindings, as Result.Findings is, and rendered by
// report.JSON, so one shard is the CLI's --format json output byte for
// byte. A shard holds the findings in memory to sort them (a few hundred
// bytes each).
type writeFindingsFn struct {
	Plan wirePlan
	fss  *fileSystems
}

func (f *writeFindingsFn) Setup()    { f.fss = &fileSystems{} }
func (f *writeFindingsFn) Teardown() { f.fss.close() }

func (f *writeFindingsFn) ProcessElement(ctx context.Context, shard int, lines func(*[]byte) bool, emit func(TempFile)) error {
	var all []correlate.Finding
	var line []byte
	for lines(&line) {
		var fd correlate.Finding
		if err := json.Unmarshal(line, &fd); err != nil {
			return fmt.Errorf("finding %q: %w", line, err)
		}
		all = append(all, fd)
	}
	slices.SortFunc(all, correlate.CompareFindings)
	t, err := f.write(ctx, shard, all)
	if err != nil {
		return err
	}
	emit(t)
	return nil
}

func (f *writeFindingsFn) write(ctx context.Context, shard int, all []correlate.Finding) (TempFile, error) {
	final := shardName(f.Plan.Output, shard, f.Plan.OutputShards)
	dir, base := split(final)
	t := TempFile{Temp: join(tempRoot(dir, f.Plan.RunID), newID()+"-"+base), Final: final, Tag: findingsTag(shard)}
	fs, err := f.fss.get(ctx, t.Temp)
	if err != nil {
		return t, err
	}
	w, err := fs.OpenWrite(ctx, t.Temp)
	if err != nil {
		return t, fmt.Errorf("create %s: %w", t.Temp, err)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	err = report.JSON(bw, all)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", t.Temp, cerr)
	}
	return t, err
}

// renameFn moves every committed file into place; it runs after a
// reshuffle, so only files of bundles the runner committed get here, and
// many workers rename at once.
type renameFn struct {
	fss *fileSystems
}

func (f *renameFn) Setup()    { f.fss = &fileSystems{} }
func (f *renameFn) Teardown() { f.fss.close() }

func (f *renameFn) ProcessElement(ctx context.Context, t TempFile, emit func(string)) error {
	if err := rename(ctx, f.fss, t); err != nil {
		return err
	}
	filesWritten.Inc(ctx, 1)
	emit(t.Tag)
	return nil
}

// finalizeFn runs once, after every rename (their tags are its side
// input). It writes what no bundle wrote: an empty findings file for each
// shard without findings, and, as analyze does, one Parquet file without
// rows in an export folder that got none, so that engines see its
// schema. Then it removes the run's temporary folders: what is left there
// is from bundles that failed and were retried.
type finalizeFn struct {
	Plan wirePlan
}

func (f *finalizeFn) ProcessElement(ctx context.Context, _ []byte, tags func(*string) bool) error {
	p, err := f.Plan.plan()
	if err != nil {
		return err
	}
	fss := &fileSystems{}
	defer fss.close()
	seen := map[string]bool{}
	var tag string
	for tags(&tag) {
		seen[tag] = true
	}
	if p.Output != "" {
		wf := &writeFindingsFn{Plan: f.Plan, fss: fss}
		for shard := range p.OutputShards {
			if seen[findingsTag(shard)] {
				continue
			}
			t, err := wf.write(ctx, shard, nil)
			if err == nil {
				err = rename(ctx, fss, t)
			}
			if err != nil {
				return err
			}
		}
	}
	if p.Export != "" {
		missing := map[string]bool{export.DirConnections: !seen[export.DirConnections], export.DirFindings: !seen[export.DirFindings]}
		if missing[export.DirConnections] || missing[export.DirFindings] {
			sink := &tempCreator{fss: fss, root: p.Export, temp: join(tempRoot(p.Export, p.RunID), newID()), keep: func(name string) bool {
				folder, _, _ := strings.Cut(name, "/")
				return missing[folder]
			}}
			aw, err := export.NewAnalysisWriter(ctx, sink, export.AnalysisOptions{Schema: p.ExportSchema, RunID: p.RunID, Version: p.version()})
			if err == nil {
				err = aw.Close()
			}
			for _, t := range sink.take() {
				err = errors.Join(err, rename(ctx, fss, t))
			}
			if err != nil {
				return err
			}
		}
	}
	var errs error
	for _, root := range []string{p.Export, outputDir(p.Output)} {
		if root != "" {
			errs = errors.Join(errs, removeTree(ctx, tempRoot(root, p.RunID)))
		}
	}
	if errs != nil {
		log.Warnf(ctx, "flowsym: temporary files left behind: %v", errs)
	}
	return nil
}

func outputDir(output string) string {
	if output == "" {
		return ""
	}
	dir, _ := split(output)
	return dir
}

// removeTree deletes a run's temporary folder, with flowsym's stores,
// which list recursively (Beam's file systems list by glob).
func removeTree(ctx context.Context, root string) error {
	loc, err := stores.Parse(root)
	if err != nil {
		return err
	}
	if loc.Scheme == stores.Local {
		err := os.RemoveAll(loc.Prefix)
		// The _temporary folder too, when no other run uses it.
		_ = os.Remove(filepath.Dir(loc.Prefix))
		return err
	}
	st, prefix, err := stores.Open(ctx, root+"/", stores.Options{})
	if err != nil {
		return err
	}
	if c, ok := st.(io.Closer); ok {
		defer c.Close()
	}
	del, ok := st.(ingest.Deleter)
	if !ok {
		return fmt.Errorf("%s: store cannot delete", root)
	}
	var names []string
	if err := st.List(ctx, prefix, func(o ingest.Object) error { names = append(names, o.Name); return nil }); err != nil {
		return err
	}
	var errs error
	for _, n := range names {
		errs = errors.Join(errs, del.Delete(ctx, n))
	}
	return errs
}
