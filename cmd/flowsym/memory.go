package main

import (
	"fmt"
	"strconv"
	"strings"

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
		"connection state kept in memory before it spills to disk, hash-partitioned, and is judged a partition at a time; 0 never spills (example: --memory-limit 512MiB)")
	cmd.Flags().StringVar(&f.spillDir, "spill-dir", "", "folder for spill files (default: the system's temporary folder) (example: --spill-dir /var/tmp)")
}

func (f *correlateFlags) options(topo *correlate.Topology, udp bool) (correlate.Options, error) {
	limit, err := parseBytes(f.memoryLimit)
	if err != nil {
		return correlate.Options{}, usageError("--memory-limit: %v", err)
	}
	return correlate.Options{Topology: topo, UDP: udp, MemoryLimit: limit, SpillDir: f.spillDir}, nil
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
