package main

import (
	"fmt"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/flowsym/flowsym/correlate"
)

// correlateFlags size the correlator.
type correlateFlags struct {
	memoryLimit string
	spillDir    string
}

func (f *correlateFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.memoryLimit, "memory-limit", "2GiB",
		"memory the run aims to stay under: connection state spills to disk, hash-partitioned, as the heap nears it,\n"+
			"and is judged a partition at a time; 0 never spills (example: --memory-limit 512MiB)")
	cmd.Flags().StringVar(&f.spillDir, "spill-dir", "", "folder for spill files (default: the system's temporary folder) (example: --spill-dir /var/tmp)")
}

// options returns the correlator's options for --memory-limit and sets the
// Go runtime's soft memory limit for the run (the returned func restores
// the previous one).
//
// A process needs about 130 MiB whatever its input (decoders' buffers,
// batches in flight, the runtime), and the collector needs headroom over
// the live heap, so the limit is not all the correlator's: its estimate of
// its state may take 40%, and the runtime's soft limit is 80%, which keeps
// the peak RSS under the limit from about 192MiB up (docs/performance.md
// has the figures). Because an estimate can be wrong for an estate it was
// not measured on, the correlator also spills when the live heap, as the
// last collection measured it, passes half the limit; the runtime's limit
// makes the collector run often enough near it for that figure to be
// fresh.
func (f *correlateFlags) options(topo *correlate.Topology, udp bool) (correlate.Options, func(), error) {
	limit, err := parseBytes(f.memoryLimit)
	if err != nil {
		return correlate.Options{}, nil, usageError("--memory-limit: %v", err)
	}
	opts := correlate.Options{Topology: topo, UDP: udp, SpillDir: f.spillDir}
	if limit <= 0 {
		return opts, func() {}, nil
	}
	opts.MemoryLimit = max(limit/10*4, 1)
	opts.Pressure = heapAbove(limit / 2)
	prev := debug.SetMemoryLimit(limit / 10 * 8)
	return opts, func() { debug.SetMemoryLimit(prev) }, nil
}

// heapAbove reports whether the live heap the last garbage collection
// found is above n bytes.
func heapAbove(n int64) func() bool {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var mu sync.Mutex // shards ask concurrently; the sample is reused
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		metrics.Read(sample)
		return sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() > uint64(n)
	}
}

// parseBytes reads sizes such as 512MiB, 2GiB, 1.5G or 1000000.
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(t), strings.ToUpper(u.suffix)) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a size (such as 512MiB or 2GiB)", s)
	}
	return int64(v * mult), nil
}
