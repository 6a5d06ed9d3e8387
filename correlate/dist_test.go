package correlate

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	gocmp "github.com/google/go-cmp/cmp"

	"github.com/flowsym/flowsym/internal/memtest"
	"github.com/flowsym/flowsym/normalize/schema"
)

// stager stages one record into a builder.
type stager func(*schema.Builder) error

// distribute runs records the way a distributed engine runs them, and
// returns what ResultOf would: every part is folded by its own correlator
// and drained (now and then half-way, as a worker holding too many keys
// does); the partial states travel in their binary form in shuffled order;
// each key's and each observer's partials are merged in a random tree, some
// intermediate merges going through the binary form again (accumulators
// between combine stages); popularity is counted over the merged keys and
// cut at MinPopular; one Judge judges every merged key.
func distribute(t *testing.T, r *rand.Rand, opts Options, parts [][]stager) *Result {
	t.Helper()
	type kv struct {
		key string
		val []byte
	}
	var conns, observers []kv
	var stats Stats
	mem := memtest.Poisoned()
	for _, part := range parts {
		c := New(opts)
		drain := func() {
			t.Helper()
			err := c.Drain(func(k Key, s *ConnState) error {
				kb, _ := k.AppendBinary(nil)
				vb, err := s.AppendBinary(nil)
				conns = append(conns, kv{string(kb), vb})
				return err
			}, func(o *Observer) error {
				vb, err := o.AppendBinary(nil)
				observers = append(observers, kv{o.ID.String(), vb})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if c.Connections() != 0 {
				t.Fatalf("%d connections left after Drain", c.Connections())
			}
		}
		b := schema.NewBuilder(mem, 1+r.IntN(16), func(rec arrow.RecordBatch) error { return c.Add(rec) })
		for _, stage := range part {
			if err := stage(b); err != nil {
				t.Fatal(err)
			}
			if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
			if r.IntN(20) == 0 {
				if err := b.Flush(); err != nil {
					t.Fatal(err)
				}
				drain()
			}
		}
		if err := b.Flush(); err != nil {
			t.Fatal(err)
		}
		drain()
		stats.Records += c.Stats.Records
		stats.Coverage += c.Stats.Coverage
		stats.Skipped += c.Stats.Skipped
	}
	mem.AssertSize(t, 0)
	r.Shuffle(len(conns), func(i, j int) { conns[i], conns[j] = conns[j], conns[i] })
	r.Shuffle(len(observers), func(i, j int) { observers[i], observers[j] = observers[j], observers[i] })

	gap := opts.Topology.SessionGap
	mergedConns := map[string]*ConnState{}
	for key, vals := range groupBy(conns, func(e kv) (string, []byte) { return e.key, e.val }) {
		mergedConns[key] = mergeTree(t, r, vals, func(a, b *ConnState) { a.Merge(b, gap) })
	}
	var mergedObs []*Observer
	for _, vals := range groupBy(observers, func(e kv) (string, []byte) { return e.key, e.val }) {
		mergedObs = append(mergedObs, mergeTree(t, r, vals, (*Observer).Merge))
	}

	counts := map[Endpoint]uint32{}
	keys := map[string]Key{}
	for kb := range mergedConns {
		var k Key
		if err := k.UnmarshalBinary([]byte(kb)); err != nil {
			t.Fatal(err)
		}
		keys[kb] = k
		AddPopular(counts, k)
	}
	popular := map[Endpoint]uint32{}
	for e, n := range counts {
		if n >= MinPopular {
			popular[e] = n
		}
	}
	j := NewJudge(opts, mergedObs, popular)
	res := &Result{ByKind: map[string]int{}, Stats: stats, Observers: j.Observers()}
	epochSession := false
	for kb, s := range mergedConns {
		j.Verdicts(keys[kb], s, func(v Verdict) {
			res.Connections++
			if v.Session.First == 0 {
				// ResultOf takes a First of 0 for "none yet", so with a
				// session at the epoch its First depends on map order.
				epochSession = true
			}
			if res.First == 0 || v.Session.First < res.First {
				res.First = v.Session.First
			}
			res.Last = max(res.Last, v.Session.Last)
			switch {
			case v.OutsideLeg:
				res.OutsideLegs++
			case v.Insufficient && len(v.Findings) == 0:
				res.Insufficient++
			}
			for _, f := range v.Findings {
				res.ByKind[f.Kind]++
				res.Findings = append(res.Findings, f)
			}
		})
	}
	slices.SortFunc(res.Findings, CompareFindings)
	if epochSession {
		res.First = -1 // not comparable; sameResult skips it
	}
	return res
}

func groupBy[E any](list []E, kv func(E) (string, []byte)) map[string][][]byte {
	out := map[string][][]byte{}
	for _, e := range list {
		k, v := kv(e)
		out[k] = append(out[k], v)
	}
	return out
}

// mergeTree decodes the partials and merges random pairs until one is
// left; a third of the intermediate results make a round trip through the
// binary form.
func mergeTree[T any, PT interface {
	*T
	AppendBinary([]byte) ([]byte, error)
	UnmarshalBinary([]byte) error
}](t *testing.T, r *rand.Rand, vals [][]byte, merge func(a, b PT)) PT {
	t.Helper()
	decode := func(b []byte) PT {
		p := PT(new(T))
		if err := p.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		return p
	}
	list := make([]PT, len(vals))
	for i, v := range vals {
		list[i] = decode(v)
	}
	for len(list) > 1 {
		i, j := r.IntN(len(list)), r.IntN(len(list)-1)
		if j >= i {
			j++
		}
		a, b := list[i], list[j]
		if r.IntN(2) == 0 {
			a, b = b, a
		}
		if r.IntN(3) == 0 {
			into := PT(new(T)) // the zero value is empty and takes a merge
			merge(into, a)
			a = into
		}
		merge(a, b)
		if r.IntN(3) == 0 {
			enc, err := a.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			a = decode(enc)
		}
		list[i] = a
		list = slices.Delete(list, j, j+1)
	}
	return list[0]
}

// sameResult compares two results exactly: every field of every finding,
// timelines and details included, the counts, and the observers' roles.
func sameResult(t *testing.T, what string, want, got *Result) {
	t.Helper()
	if diff := gocmp.Diff(want.Findings, got.Findings); diff != "" {
		t.Fatalf("%s: findings (-ResultOf +distributed):\n%s", what, diff)
	}
	type counts struct {
		Connections, Insufficient, OutsideLegs, First, Last int64
		ByKind                                              map[string]int
		Stats                                               Stats
	}
	wc := counts{want.Connections, want.Insufficient, want.OutsideLegs, want.First, want.Last, want.ByKind, want.Stats}
	if got.First == -1 {
		wc.First = -1
	}
	gc := counts{got.Connections, got.Insufficient, got.OutsideLegs, got.First, got.Last, got.ByKind, got.Stats}
	if diff := gocmp.Diff(wc, gc); diff != "" {
		t.Fatalf("%s: counts (-ResultOf +distributed):\n%s", what, diff)
	}
	type obs struct {
		ID             ObserverID
		Name           string
		Role           Role
		Own            string
		Records, Holes int64
		Covered        int
	}
	view := func(rs []*Resolved) []obs {
		var out []obs
		for _, r := range rs {
			out = append(out, obs{r.ID, r.Name, r.Role, fmt.Sprint(r.Own()), r.Records, int64(len(r.Holes())), r.CoveredMinutes()})
		}
		return out
	}
	if diff := gocmp.Diff(view(want.Observers), view(got.Observers)); diff != "" {
		t.Fatalf("%s: observers (-ResultOf +distributed):\n%s", what, diff)
	}
}

// TestDistributedEqualsResultOf checks, on random estates, that splitting
// the records over workers, encoding, merging in any order and judging
// with a Judge gives exactly ResultOf's findings and counts.
func TestDistributedEqualsResultOf(t *testing.T) {
	topo, err := Load("prop.yaml", []byte(propertyTopology))
	if err != nil {
		t.Fatal(err)
	}
	iterations := 200
	if testing.Short() {
		iterations = 40
	}
	cut := 0 // popularity counts the MinPopular cut dropped, over all seeds
	for seed := range iterations {
		r := rand.New(rand.NewPCG(uint64(seed), 7))
		recs := randomRecords(r, 20+r.IntN(300))
		udp := r.IntN(2) == 0
		opts := Options{Topology: topo, UDP: udp}
		if r.IntN(3) == 0 {
			// Some runs raise only some kinds (analyze --checks).
			for _, k := range Kinds {
				if r.IntN(2) == 0 {
					opts.Checks = append(opts.Checks, k)
				}
			}
		}
		whole := New(opts)
		feed(t, memory.NewGoAllocator(), whole, recs, 1+r.IntN(16))
		want, err := whole.Result()
		if err != nil {
			t.Fatal(err)
		}

		r.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		var parts [][]stager
		for _, part := range splitRandom(r, recs, 1+r.IntN(6)) {
			var p []stager
			for _, rec := range part {
				p = append(p, func(b *schema.Builder) error { stageRef(b, rec); return nil })
			}
			parts = append(parts, p)
		}
		got := distribute(t, r, opts, parts)
		sameResult(t, fmt.Sprintf("seed %d (udp=%v, checks=%v, %d records, %d workers)", seed, udp, opts.Checks, len(recs), len(parts)), want, got)

		all := map[Endpoint]uint32{}
		whole.eachKey(func(k Key, _ *keyState) { AddPopular(all, k) })
		for _, n := range all {
			if n < MinPopular {
				cut++
			}
		}
	}
	if cut == 0 {
		t.Fatal("no estate had a popularity count below MinPopular: the cut was not exercised")
	}
}

// TestDistributedScenarios runs every scenario file's cases the
// distributed way, its records spread over a random number of workers,
// and expects the findings the files hold.
func TestDistributedScenarios(t *testing.T) {
	files, _ := filepath.Glob("../testdata/correlate/*.txt")
	if len(files) == 0 {
		t.Fatal("no scenario files")
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range parseScenarios(t, string(data)) {
			t.Run(filepath.Base(file)+"/"+sc.name, func(t *testing.T) {
				topo := Empty()
				if len(bytes.TrimSpace([]byte(sc.topology))) > 0 {
					if topo, err = Load("topology", []byte(sc.topology)); err != nil {
						t.Fatal(err)
					}
				}
				for seed := range 8 {
					r := rand.New(rand.NewPCG(uint64(seed), 11))
					parts := make([][]stager, 1+r.IntN(4))
					for i, line := range sc.records {
						p := r.IntN(len(parts))
						parts[p] = append(parts[p], func(b *schema.Builder) error { return stageRecord(b, line, i+1) })
					}
					got := renderResult(distribute(t, r, Options{Topology: topo, UDP: sc.udp}, parts))
					if diff := gocmp.Diff(sc.findings, got); diff != "" {
						t.Fatalf("seed %d, %d workers: findings (-file +distributed):\n%s", seed, len(parts), diff)
					}
				}
			})
		}
	}
}

// drained returns the partial states of a correlator fed recs.
func drained(t *testing.T, recs []refRecord) (map[Key]*ConnState, []*Observer) {
	t.Helper()
	topo, err := Load("prop.yaml", []byte(propertyTopology))
	if err != nil {
		t.Fatal(err)
	}
	c := New(Options{Topology: topo})
	feed(t, memory.NewGoAllocator(), c, recs, 7)
	conns := map[Key]*ConnState{}
	var obs []*Observer
	err = c.Drain(func(k Key, s *ConnState) error { conns[k] = s; return nil },
		func(o *Observer) error { obs = append(obs, o); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return conns, obs
}

// TestBinaryForms checks that keys, endpoints, connection states and
// observers survive their binary form, that equal states encode to equal
// bytes, and that every truncation of an encoding is an error, not a panic.
func TestBinaryForms(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	conns, obs := drained(t, randomRecords(r, 400))
	if len(conns) == 0 || len(obs) == 0 {
		t.Fatal("nothing drained")
	}
	truncations := func(what string, enc []byte, decode func([]byte) error) {
		t.Helper()
		for n := range len(enc) {
			if err := decode(enc[:n]); err == nil {
				t.Fatalf("%s: decoding %d of %d bytes succeeded", what, n, len(enc))
			}
		}
		if err := decode(append(slices.Clone(enc), 0)); err == nil {
			t.Fatalf("%s: a trailing byte was accepted", what)
		}
	}
	for k, s := range conns {
		kb, _ := k.AppendBinary(nil)
		var k2 Key
		if err := k2.UnmarshalBinary(kb); err != nil || k2 != k {
			t.Fatalf("key %v: got %v, %v", k, k2, err)
		}
		for _, e := range []Endpoint{k.A, k.B} {
			eb, _ := e.AppendBinary(nil)
			var e2 Endpoint
			if err := e2.UnmarshalBinary(eb); err != nil || e2 != e {
				t.Fatalf("endpoint %v: got %v, %v", e, e2, err)
			}
		}
		enc, err := s.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		var s2 ConnState
		if err := s2.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		again, _ := s2.AppendBinary(nil)
		if !bytes.Equal(enc, again) || s2.Records() != s.Records() || len(s2.Sessions()) != len(s.Sessions()) {
			t.Fatalf("connection %v: state changed through its binary form", k)
		}
		truncations("connection state", enc, func(b []byte) error { return new(ConnState).UnmarshalBinary(b) })
	}
	for _, o := range obs {
		enc, err := o.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		var o2 Observer
		if err := o2.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		again, _ := o2.AppendBinary(nil)
		if !bytes.Equal(enc, again) {
			t.Fatalf("observer %s: state changed through its binary form", o.ID)
		}
		if o2.ID != o.ID || fmt.Sprint(o2.Own()) != fmt.Sprint(o.Own()) || !slices.Equal(o2.Holes(), o.Holes()) ||
			o2.CoveredMinutes() != o.CoveredMinutes() || o2.Records != o.Records || o2.Region != o.Region {
			t.Fatalf("observer %s: decoded state differs", o.ID)
		}
		if o.ID.Hash() != o2.ID.Hash() {
			t.Fatal("hash changed")
		}
		truncations("observer", enc, func(b []byte) error { return new(Observer).UnmarshalBinary(b) })
	}
	var bad Observer
	if err := bad.UnmarshalBinary([]byte{99}); err == nil {
		t.Fatal("an unknown observer encoding version was accepted")
	}
}
