// Package state records which objects a scheduled run has processed, so
// that the next run takes only new or changed objects (and, of an object
// that grew, such as an Azure PT1H.json during its hour, only the records
// added since), and so that a run killed half-way can be cleaned up and
// rerun without losing or duplicating anything.
//
// The state is one small JSON object in any store, replaced atomically
// and only if nobody else replaced it since it was read (compare-and-swap
// on its ETag), so two schedulers running at once cannot both commit.
package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/flowsym/flowsym/ingest"
)

// Version is the state format this package reads and writes.
const Version = 1

// Object is what a run took from one object.
type Object struct {
	Size int64  `json:"size"`
	ETag string `json:"etag,omitempty"`
	// Lines is the highest line (or record index) taken from it.
	Lines int64     `json:"lines"`
	Seen  time.Time `json:"seen"`
}

// Run is a run that started writing outputs. A run still pending when the
// next one starts was interrupted: its files are removed and its objects
// are processed again.
type Run struct {
	ID      string    `json:"id"`
	Started time.Time `json:"started"`
	Pending bool      `json:"pending"`
	// Files are the outputs the run committed or was about to.
	Files []string `json:"files,omitempty"`
}

// State is the content of the state object.
type State struct {
	Version int               `json:"version"`
	Objects map[string]Object `json:"objects"`
	Runs    []Run             `json:"runs"`

	etag   string // version of the state object read; "" when it did not exist
	exists bool
}

// maxRuns bounds the run history kept in the state.
const maxRuns = 50

// Load reads the state at name in st. A missing state is an empty one.
func Load(ctx context.Context, st ingest.Store, name string) (*State, error) {
	s := &State{Version: Version, Objects: map[string]Object{}}
	r, err := st.Open(ctx, name)
	if errors.Is(err, ingest.ErrNotFound) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", ingest.Scrub(name), err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read state %s: %w", ingest.Scrub(name), err)
	}
	if v, ok := r.(ingest.Versioned); ok {
		s.etag = v.ETag()
	} else if sr, ok := st.(ingest.Stater); ok {
		if o, err := sr.Stat(ctx, name); err == nil {
			s.etag = o.ETag
		}
	}
	s.exists = true
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("read state %s: not a flowsym state file: %w", ingest.Scrub(name), err)
	}
	if s.Version != Version {
		return nil, fmt.Errorf("read state %s: version %d, this flowsym reads %d", ingest.Scrub(name), s.Version, Version)
	}
	if s.Objects == nil {
		s.Objects = map[string]Object{}
	}
	return s, nil
}

// ErrConflict says another run replaced the state after this one read it.
var ErrConflict = errors.New("the state was changed by another run")

// Save replaces the state object, only if it is still the version Load
// read (or still absent). On stores without conditional writes the check
// is skipped.
func (s *State) Save(ctx context.Context, st ingest.Store, name string) error {
	data, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return err
	}
	var w ingest.ObjectWriter
	if cc, ok := st.(ingest.ConditionalCreator); ok {
		w, err = cc.CreateIf(ctx, name, s.etag)
	} else {
		w, err = st.Create(ctx, name)
	}
	if err != nil {
		return fmt.Errorf("write state %s: %w", ingest.Scrub(name), err)
	}
	defer w.Abort()
	if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("write state %s: %w", ingest.Scrub(name), err)
	}
	if err := w.Commit(); err != nil {
		if errors.Is(err, ingest.ErrPrecondition) {
			return fmt.Errorf("write state %s: %w", ingest.Scrub(name), ErrConflict)
		}
		return fmt.Errorf("write state %s: %w", ingest.Scrub(name), err)
	}
	// The next Save in this run compares against what was just written.
	if sr, ok := st.(ingest.Stater); ok {
		o, err := sr.Stat(ctx, name)
		if err != nil {
			return fmt.Errorf("write state %s: %w", ingest.Scrub(name), err)
		}
		s.etag = o.ETag
	}
	s.exists = true
	return nil
}

// Plan says what to take from an object: nothing (skip) when it is
// unchanged since it was processed; the records after the lines already
// taken when it grew (an append blob); all of it when it is new or was
// rewritten.
func (s *State) Plan(o ingest.Object) (skip bool, skipLines int64) {
	prev, ok := s.Objects[o.Name]
	switch {
	case !ok:
		return false, 0
	case prev.Size == o.Size && prev.ETag == o.ETag:
		return true, 0
	case o.Size > prev.Size:
		return false, prev.Lines
	}
	return false, 0
}

// Done records that a run took an object through the given line.
func (s *State) Done(o ingest.Object, lines int64, now time.Time) {
	if prev, ok := s.Objects[o.Name]; ok && prev.Size < o.Size {
		lines = max(lines, prev.Lines)
	}
	s.Objects[o.Name] = Object{Size: o.Size, ETag: o.ETag, Lines: lines, Seen: now.UTC()}
}

// Pending returns the runs that were interrupted before they committed.
func (s *State) Pending() []Run {
	var out []Run
	for _, r := range s.Runs {
		if r.Pending {
			out = append(out, r)
		}
	}
	return out
}

// Begin records that run id is about to commit files.
func (s *State) Begin(id string, files []string, now time.Time) {
	s.Runs = append(s.Runs, Run{ID: id, Started: now.UTC(), Pending: true, Files: files})
	if len(s.Runs) > maxRuns {
		s.Runs = s.Runs[len(s.Runs)-maxRuns:]
	}
}

// Commit marks run id committed.
func (s *State) Commit(id string) {
	for i := range s.Runs {
		if s.Runs[i].ID == id {
			s.Runs[i].Pending = false
		}
	}
}

// Forget drops interrupted runs once their files are removed.
func (s *State) Forget(ids ...string) {
	keep := s.Runs[:0]
	for _, r := range s.Runs {
		drop := false
		for _, id := range ids {
			drop = drop || r.ID == id
		}
		if !drop {
			keep = append(keep, r)
		}
	}
	s.Runs = keep
}

// Prune forgets objects last seen before t, so the state of a job that
// runs every hour for a year does not grow without bound: objects older
// than the windows the job lists are never listed again.
func (s *State) Prune(before time.Time) int {
	n := 0
	for name, o := range s.Objects {
		if o.Seen.Before(before) {
			delete(s.Objects, name)
			n++
		}
	}
	return n
}

// Names returns the recorded object names, sorted.
func (s *State) Names() []string {
	out := make([]string, 0, len(s.Objects))
	for n := range s.Objects {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
