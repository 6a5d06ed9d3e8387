package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/state"
	"github.com/flowsym/flowsym/ingest/stores"
	"github.com/flowsym/flowsym/normalize"
	"github.com/flowsym/flowsym/report/export"
)

// stateRetention is how long an object stays in the state after a run
// last saw it. Scheduled runs list a recent window (--since), so older
// objects are never listed again; a week leaves room for late deliveries
// and for jobs that catch up after an outage.
const stateRetention = 7 * 24 * time.Hour

// scheduled is the --state of a scheduled run: which objects earlier runs
// took, and the two-phase commit of this run's outputs.
type scheduled struct {
	e       *env
	st      ingest.Store
	name    string
	s       *state.State
	out     *export.Prefixed
	mu      sync.Mutex
	results map[string]objectDone
	skipped int64
	cleaned int
}

type objectDone struct {
	obj ingest.Object
	res normalize.ObjectResult
}

// openScheduled loads the state and removes the files of runs that were
// interrupted before they committed, so their objects are taken again
// without duplicating rows.
func openScheduled(ctx context.Context, e *env, location string, out *export.Prefixed) (*scheduled, error) {
	st, name, err := stores.Open(ctx, location, stores.Options{})
	if err != nil {
		return nil, &exitError{code: exitFailure, err: fmt.Errorf("--state: %w", err)}
	}
	s, err := state.Load(ctx, st, name)
	if err != nil {
		closeStore(st)
		return nil, &exitError{code: exitFailure, err: err}
	}
	j := &scheduled{e: e, st: st, name: name, s: s, out: out, results: map[string]objectDone{}}
	if err := j.cleanUp(ctx); err != nil {
		j.close()
		return nil, err
	}
	return j, nil
}

func (j *scheduled) cleanUp(ctx context.Context) error {
	pending := j.s.Pending()
	if len(pending) == 0 {
		return nil
	}
	del, ok := j.out.Store.(ingest.Deleter)
	if !ok {
		return &exitError{code: exitFailure, err: errors.New("--state: the output store cannot delete the files of an interrupted run")}
	}
	var ids []string
	for _, r := range pending {
		for _, f := range r.Files {
			if err := del.Delete(ctx, f); err != nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("remove %s of interrupted run %s: %w", f, r.ID, err)}
			}
			j.cleaned++
		}
		ids = append(ids, r.ID)
		fmt.Fprintf(j.e.stderr, "flowsym: run %s was interrupted: removed its %d files; its objects are read again\n", r.ID, len(r.Files))
	}
	j.s.Forget(ids...)
	return j.save(ctx)
}

// plan skips objects taken before, and of a grown object the lines taken.
func (j *scheduled) plan(o ingest.Object) (bool, int64) {
	skip, lines := j.s.Plan(o)
	if skip {
		j.mu.Lock()
		j.skipped++
		j.mu.Unlock()
	}
	return skip, lines
}

// record keeps what each object gave; it runs on the decoder's workers.
func (j *scheduled) record(job normalize.Job, res normalize.ObjectResult) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.results[job.Object.Name] = objectDone{obj: job.Object, res: res}
}

// begin records the files this run is about to commit.
func (j *scheduled) begin(ctx context.Context, runID string, files []string) error {
	full := make([]string, len(files))
	for i, f := range files {
		full[i] = j.out.Full(f)
	}
	j.s.Begin(runID, full, j.e.now())
	return j.save(ctx)
}

// commit records the run's objects as taken, once its files are visible.
// Objects that could not be read whole for a passing reason are left for
// the next run.
func (j *scheduled) commit(ctx context.Context, runID string) error {
	j.s.Commit(runID)
	now := j.e.now()
	for _, d := range j.results {
		if !d.res.Retry {
			j.s.Done(d.obj, d.res.MaxLine, now)
		}
	}
	j.s.Prune(now.Add(-stateRetention))
	return j.save(ctx)
}

func (j *scheduled) save(ctx context.Context) error {
	if err := j.s.Save(ctx, j.st, j.name); err != nil {
		if errors.Is(err, state.ErrConflict) {
			return &exitError{code: exitFailure, err: fmt.Errorf("%w: is another flowsym run using this --state at the same time?", err)}
		}
		return &exitError{code: exitFailure, err: err}
	}
	return nil
}

func (j *scheduled) close() { closeStore(j.st) }

func closeStore(st ingest.Store) {
	if c, ok := st.(io.Closer); ok {
		c.Close()
	}
}
