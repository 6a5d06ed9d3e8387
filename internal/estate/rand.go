package estate

import (
	"math"
	"math/bits"
	"net/netip"
	"sort"
)

// rng is SplitMix64. The estate must be byte-identical for a seed on every
// Go release, and math/rand's helpers (IntN, Float64) are not promised to
// stay the same, so the generator carries its own few lines of PRNG.
type rng struct{ s uint64 }

// newRNG derives an independent stream from the seed and a name, so that
// adding draws to one part of the estate does not shift another.
func newRNG(seed uint64, stream string) rng {
	h := mix64(seed)
	for _, c := range []byte(stream) {
		h = mix64(h ^ uint64(c))
	}
	return rng{h}
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return finalize(r.s)
}

// intn returns a number in [0, n) by Lemire's multiply-shift.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// chance is true with probability p.
func (r *rng) chance(p float64) bool { return p > 0 && r.float() < p }

func finalize(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// mix64 hashes one word: a connection's seed and a window give that
// window's counters without storing them.
func mix64(z uint64) uint64 { return finalize(z + 0x9e3779b97f4a7c15) }

// zipf draws ranks 0..n-1 with probability proportional to 1/(rank+1)^s:
// a few destinations take most connections, as on real egress links.
type zipf struct{ cum []float64 }

func newZipf(n int, s float64) zipf {
	cum := make([]float64, n)
	total := 0.0
	for i := range cum {
		total += 1 / math.Pow(float64(i+1), s)
		cum[i] = total
	}
	return zipf{cum}
}

func (z zipf) draw(r *rng) int {
	u := r.float() * z.cum[len(z.cum)-1]
	i := sort.SearchFloat64s(z.cum, u)
	return min(i, len(z.cum)-1)
}

// portPool hands out the ports of one address so that no 5-tuple is
// reused within the session gap: the correlator would join the two uses
// into one connection, and a fault hidden in a healthy connection would
// make the ground truth wrong. Ports are visited with a stride coprime to
// the range, which looks random but is a permutation.
//
// A client's port is unique whatever the server (take with the zero
// server); a NAT's translated port only per server, as real NAT gateways
// reuse ports across destinations (the outside leg's 5-tuple still
// differs). Only the ports in use are kept, pruned as they expire, so
// memory follows the connections of the last half hour, not the run.
type portPool struct {
	lo, n, next, stride int
	busy                map[portUse]int32 // use -> minute from which it is free
	pruned              int
}

type portUse struct {
	server netip.Addr
	port   uint16
}

// reuseMinutes is how long a port rests after its connection's last
// window: a record ends at most 59 s into that window, so 17 minutes
// leaves a silence longer than the 15-minute session gap.
const reuseMinutes = 17

func newPortPool(lo, hi int, r *rng) *portPool {
	n := hi - lo + 1
	stride := 1 + r.intn(n-1)
	for gcd(stride, n) != 1 {
		stride++
	}
	return &portPool{lo: lo, n: n, next: r.intn(n), stride: stride, busy: map[portUse]int32{}}
}

// take returns a port free at minute start and holds it until lastMinute
// plus the rest; false when every port is busy (the scale is too high for
// the number of workloads).
func (p *portPool) take(server netip.Addr, start, lastMinute int) (uint16, bool) {
	if start-p.pruned >= 10 {
		for u, free := range p.busy {
			if int(free) <= start {
				delete(p.busy, u)
			}
		}
		p.pruned = start
	}
	for range p.n {
		u := portUse{server, uint16(p.lo + p.next)}
		p.next += p.stride
		if p.next >= p.n {
			p.next -= p.n
		}
		if free, ok := p.busy[u]; !ok || int(free) <= start {
			p.busy[u] = int32(lastMinute + reuseMinutes)
			return u.port, true
		}
	}
	return 0, false
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
