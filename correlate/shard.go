package correlate

import (
	"hash/maphash"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/flowsym/flowsym/normalize/schema"
)

// Sharded feeds several correlators from concurrent producers without a
// global lock: each record goes to the shard of its connection key's
// partition (coverage-only records to the shard of their observer), so a
// connection lives in exactly one shard, and each shard runs on its own
// goroutine. The shards together are one run's state: judge them with
// ResultOf or VerdictsOf.
type Sharded struct {
	seed  maphash.Seed
	parts []*Correlator
	work  []chan shardWork
	wg    sync.WaitGroup
	// free holds row lists the shards are done with: routing allocated a
	// fresh list per batch and shard, about a third of an analyze run's
	// allocations, and so of its garbage collection.
	free sync.Pool
}

type shardWork struct {
	rec  arrow.RecordBatch
	rows []shardRow
}

// shardRow is a row routed to a shard with the key computed for routing,
// so the shard does not compute it again.
type shardRow struct {
	key   Key
	i     int32
	ab    bool
	keyed bool
}

// NewSharded starts n shards. A memory limit in opts is shared evenly
// between them.
func NewSharded(opts Options, n int) *Sharded {
	n = max(n, 1)
	if opts.MemoryLimit > 0 {
		opts.MemoryLimit = max(opts.MemoryLimit/int64(n), 1)
	}
	s := &Sharded{seed: maphash.MakeSeed()}
	for range n {
		c := New(opts)
		ch := make(chan shardWork, 4) // a few batches of slack per shard bound memory
		s.parts, s.work = append(s.parts, c), append(s.work, ch)
		s.wg.Go(func() {
			for w := range ch {
				v, err := schema.NewView(w.rec)
				if err == nil {
					for _, r := range w.rows {
						c.addKeyed(v, int(r.i), r.key, r.ab, r.keyed)
					}
					c.batch.reset(nil)
				}
				w.rec.Release()
				s.free.Put(&w.rows)
			}
		})
	}
	return s
}

// Add routes a batch's records to their shards. It is safe for concurrent
// use; the batch may be released by the caller when Add returns.
func (s *Sharded) Add(rec arrow.RecordBatch) error {
	v, err := schema.NewView(rec)
	if err != nil {
		return err
	}
	n := len(s.parts)
	rows := make([][]shardRow, n)
	for sh := range rows {
		rows[sh] = s.rowList(v.Rows()/n + v.Rows()/(4*n) + 16)
	}
	for i := range v.Rows() {
		k, ab, ok := rowKey(v, i)
		sh := 0
		if ok {
			sh = int(maphash.Comparable(s.seed, k) % uint64(n))
		} else {
			// Coverage rows may go to any shard: observers merge.
			sh = len(v.Str(schema.Observer, i)) % n
		}
		rows[sh] = append(rows[sh], shardRow{key: k, i: int32(i), ab: ab, keyed: ok})
	}
	for sh, r := range rows {
		if len(r) == 0 {
			s.free.Put(&r)
			continue
		}
		rec.Retain()
		s.work[sh] <- shardWork{rec: rec, rows: r}
	}
	return nil
}

// rowList returns an empty row list, reused when one is free, with room
// for about capacity rows (it grows as any slice if that is too few).
func (s *Sharded) rowList(capacity int) []shardRow {
	if p, ok := s.free.Get().(*[]shardRow); ok {
		return (*p)[:0]
	}
	return make([]shardRow, 0, capacity)
}

// Close waits for the shards to take every record and returns them.
func (s *Sharded) Close() []*Correlator {
	for _, ch := range s.work {
		close(ch)
	}
	s.wg.Wait()
	return s.parts
}
