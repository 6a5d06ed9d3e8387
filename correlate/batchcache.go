package correlate

import "github.com/flowsym/flowsym/normalize/schema"

// batchCache remembers what the dictionary indices of the batch being
// added resolved to. String columns are dictionary-encoded per batch (see
// schema), so a row whose observer or object an earlier row of the same
// batch named costs integer compares, not string compares and map
// lookups. It is emptied when the batch changes and after each batch, so
// it keeps no batch alive and is empty whenever the correlator's state
// changes other than by adding rows (Merge, Drain).
type batchCache struct {
	v      *schema.View
	obs    []obsSlot // by the observer column's dictionary index
	objIdx int32     // the source_object index whose interned name is obj; -1 none
	obj    string
}

// obsSlot is the observer of the rows whose observer index is the slot's
// and whose cloud, log kind and resource indices are scope.
type obsSlot struct {
	scope [3]int32
	o     *Observer
}

// reset empties the cache for the batch of v (nil: no batch).
func (b *batchCache) reset(v *schema.View) {
	clear(b.obs)
	b.v, b.obs, b.objIdx, b.obj = v, b.obs[:0], -1, ""
}

// observerKey is what names the observer of row i within its batch: the
// indices of the columns rowObserver reads. The resource counts for every
// cloud, which only makes the cache miss more, never wrongly hit.
func observerKey(v *schema.View, i int) (int32, [3]int32) {
	return v.StrIndex(schema.Observer, i), [3]int32{
		v.StrIndex(schema.Cloud, i), v.StrIndex(schema.LogKind, i), v.StrIndex(schema.ResourceID, i),
	}
}

// observer returns the observer an earlier row of the batch with the same
// key resolved to, or nil.
func (b *batchCache) observer(idx int32, scope [3]int32) *Observer {
	if idx < 0 || int(idx) >= len(b.obs) || b.obs[idx].scope != scope {
		return nil
	}
	return b.obs[idx].o
}

// remember notes that rows with this key have observer o.
func (b *batchCache) remember(idx int32, scope [3]int32, o *Observer) {
	if idx < 0 {
		return
	}
	if int(idx) >= len(b.obs) {
		b.obs = append(b.obs, make([]obsSlot, int(idx)+1-len(b.obs))...)
	}
	b.obs[idx] = obsSlot{scope: scope, o: o}
}
