package flowbeam_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// benchEstate is a larger generated estate than the demo: 15 minutes of
// background traffic at FLOWSYM_BENCH_SCALE new connections per spoke per
// minute (default 1000: 768,227 records in 63 objects, 88.6 MiB), 1% one-way.
type benchEstate struct {
	dir, logs, config string
	records           float64
}

var (
	benchOnce sync.Once
	bench     benchEstate
	benchErr  error
)

func benchData(b *testing.B, f *fixture) benchEstate {
	b.Helper()
	benchOnce.Do(func() {
		scale := os.Getenv("FLOWSYM_BENCH_SCALE")
		if scale == "" {
			scale = "1000"
		}
		bench.dir = filepath.Join(testDir, "bench-"+scale)
		bench.logs, bench.config = filepath.Join(bench.dir, "logs"), filepath.Join(bench.dir, "flowsym.yaml")
		out, err := exec.Command(f.cli, "generate", "--out", bench.dir, "--duration", "15m", "--scale", scale,
			"--workloads", "50", "--scripted=false", "--one-way", "0.01").CombinedOutput()
		if err != nil {
			benchErr = err
			b.Logf("%s", out)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return bench
}

// BenchmarkCPUPerMillionRecords measures what the Beam pipeline costs over
// the CLI: CPU seconds (user and system, from the child's rusage) per
// million records, for `flowsym analyze --format json` and for
// `flowsym-beam` on Prism (its default runner: the job server and the
// workers in one process), each a child process over the same estate and
// writing the same findings. The CLI is the baseline, run in the same
// benchmark: compare the ratio.
//
//	go test -run='^$' -bench=CPUPerMillion -benchtime=3x ./flowbeam | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /engine new.txt
func BenchmarkCPUPerMillionRecords(b *testing.B) {
	f := setup(b)
	bins := buildBinaries(b)
	est := benchData(b, f)
	out := b.TempDir()
	engines := []struct {
		name string
		args []string
		bin  string
	}{
		{"cli", []string{"analyze", "--config", est.config, "--format", "json", "--out", filepath.Join(out, "cli.jsonl"), "--progress", "off", est.logs}, f.cli},
		{"beam-prism", []string{"--config", est.config, "--input", est.logs, "--output", filepath.Join(out, "beam.jsonl")}, bins.beam},
	}
	for _, e := range engines {
		b.Run("engine="+e.name, func(b *testing.B) {
			var cpu, wall time.Duration
			var rss int64
			for b.Loop() {
				cmd := exec.Command(e.bin, e.args...)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				start := time.Now()
				if err := cmd.Run(); err != nil {
					b.Fatalf("%s: %v\n%s", e.name, err, stderr.Bytes())
				}
				wall += time.Since(start)
				cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
				rss = max(rss, maxRSS(cmd.ProcessState))
				if e.name == "cli" && est.records == 0 {
					est.records, _ = strconv.ParseFloat(formatAny(summary(b, stderr.Bytes())["records"]), 64)
				}
			}
			if est.records == 0 {
				b.Fatal("the CLI did not report its record count")
			}
			n := float64(b.N)
			b.ReportMetric(cpu.Seconds()/n/(est.records/1e6), "cpu-s/Mrecords")
			b.ReportMetric(est.records*n/wall.Seconds(), "records/s")
			b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(est.records, "records")
		})
	}
}

func formatAny(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return ""
}
