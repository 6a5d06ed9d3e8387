package correlate

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMarkCaches holds Observer.mark, with its cache of the covered
// minutes, to a plain map of every minute marked:
// records in and out of order, overlapping, far apart and spanning more
// than the tracked window, covered and lost.
func TestMarkCaches(t *testing.T) {
	const min = 60_000_000
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		o := newObserver(ObserverID{Cloud: "aws", ID: "eni-1"})
		want := map[minute]uint8{}
		base := int64(rng.IntN(1_000_000)) * min
		for range 300 {
			from := base + int64(rng.IntN(200*min))
			if rng.IntN(20) == 0 {
				from = base + int64(rng.IntN(100_000))*min // far away
			}
			to := from + int64(rng.IntN(3*min))
			if rng.IntN(50) == 0 {
				to = from + int64(rng.IntN(120))*min // longer than the window
			}
			state := covered
			if rng.IntN(10) == 0 {
				state = hole
			}
			o.mark(from, to, state)
			for m := minuteOf(from); m <= minuteOf(to); m++ {
				want[m] |= state
			}
		}
		if diff := cmp.Diff(want, o.minutes); diff != "" {
			t.Fatalf("round %d: minutes (-want +got):\n%s", round, diff)
		}
	}
}

func TestCoverBits(t *testing.T) {
	for _, c := range []struct {
		i, j minute
		want uint64
	}{
		{0, 0, 1}, {0, 63, ^uint64(0)}, {3, 5, 0b111000}, {63, 63, 1 << 63}, {1, 62, ^uint64(0) &^ (1 | 1<<63)},
	} {
		if got := coverBits(c.i, c.j); got != c.want {
			t.Errorf("coverBits(%d, %d) = %#x, want %#x", c.i, c.j, got, c.want)
		}
	}
}
