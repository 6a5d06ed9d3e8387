// Command e2e is flowsym's end-to-end benchmark against DuckDB (`make
// bench-e2e`; docs/bench-e2e.md).
//
// For each layout of a generated estate of AWS default-format flow logs
// (many gzip objects in the S3 key layout, or one big object) it generates
// the estate once, then times in one alternating series:
//
//	A  flowsym analyze without a topology file (only one_way can be raised)
//	B  DuckDB counting the same one-way connections in SQL over the same
//	   gzip files (this program run again as a child, -duckdb-child)
//	C  flowsym analyze with a topology file (every finding kind)
//	D  a floor: inflating the same objects and counting their lines with
//	   flowsym's inflater, on every core, parsing nothing (-floor-child)
//
// Every run's one-way count must equal the generator's truth. It reports
// per run and median wall and CPU time, peak RSS and records/s, and the
// ratios against the targets; then a memory series: normalize at
// two sizes (peak RSS ratio) and analyze with --memory-limit.
//
// Usage (from bench/):
//
//	go run ./e2e [-records 5000000] [-layout many|one|both] [-runs 5] [-dir DIR] [-flowsym BIN]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/flowsym/flowsym/internal/loadgen"
)

var (
	records  = flag.Int64("records", 5_000_000, "records of the estate timed against DuckDB")
	layout   = flag.String("layout", "both", "object layout: many (one gzip object per 5-minute slot, the way S3 delivers), one (one big object) or both")
	runs     = flag.Int("runs", 5, "timed runs of each side, alternating")
	dataDir  = flag.String("dir", "", "folder to keep generated estates in between invocations (default: a temporary folder, removed at the end)")
	binPath  = flag.String("flowsym", "", "flowsym binary to time (default: built from the checkout)")
	seed     = flag.Uint64("seed", 1, "generator seed")
	full     = flag.Bool("full", true, "also time C: flowsym analyze with a topology file (every finding kind)")
	memory   = flag.Bool("memory", true, "run the memory series")
	memSizes = flag.String("memory-records", "4000000,16000000", "estate sizes of the memory series, smallest first")
	memLimit = flag.String("memory-limit", "256MiB", "--memory-limit of the memory series' analyze")
	warmup   = flag.Bool("warmup", true, "run each side once, untimed, before the timed runs")
	variant  = flag.String("sql", oneWaySQL, "which way of writing the SQL query to time (struct, case, packed, twostep)")
	child    = flag.String("duckdb-child", "", "internal: run the DuckDB query over this folder and print its result")
	floorDir = flag.String("floor-child", "", "internal: inflate the objects under this folder, count their lines and print the count")
	floor    = flag.Bool("floor", true, "also time D: inflating and splitting lines alone, the floor under any Go reader")
)

func main() {
	flag.Parse()
	if *floorDir != "" {
		if err := floorChild(*floorDir); err != nil {
			fmt.Fprintln(os.Stderr, "floor child:", err)
			os.Exit(1)
		}
		return
	}
	if *child != "" {
		if err := duckdbChild(*child, *variant); err != nil {
			fmt.Fprintln(os.Stderr, "duckdb child:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-e2e:", err)
		os.Exit(1)
	}
}

type harness struct {
	bin     string   // flowsym
	oneWay  []string // analyze flags that restrict it to the one-way check
	self    string   // this program, for the DuckDB child
	data    string   // estates
	scratch string   // normalize output, the built binary
	out     io.Writer
}

func run() error {
	if !haveDuckDB {
		return errors.New("the DuckDB baseline needs cgo: CGO_ENABLED=1 and a C compiler")
	}
	if _, ok := queries[*variant]; !ok {
		return fmt.Errorf("-sql %q: want one of struct, case, packed, twostep", *variant)
	}
	var layouts []bool // one object?
	switch *layout {
	case "many":
		layouts = []bool{false}
	case "one":
		layouts = []bool{true}
	case "both":
		layouts = []bool{false, true}
	default:
		return fmt.Errorf("-layout %q: want many, one or both", *layout)
	}
	if *runs < 1 || *records < 1 {
		return errors.New("-runs and -records must be positive")
	}
	sizes, err := parseSizes(*memSizes)
	if err != nil {
		return err
	}
	h := &harness{out: os.Stdout}
	if h.scratch, err = os.MkdirTemp("", "flowsym-bench-e2e-"); err != nil {
		return err
	}
	defer os.RemoveAll(h.scratch)
	h.data = *dataDir
	if h.data == "" {
		h.data = filepath.Join(h.scratch, "data")
	}
	if h.data, err = filepath.Abs(h.data); err != nil {
		return err
	}
	if h.self, err = os.Executable(); err != nil {
		return err
	}
	root, rootErr := repoRoot()
	commit := "unknown commit"
	if rootErr == nil {
		commit = gitDescribe(root)
	}
	if h.bin = *binPath; h.bin == "" {
		if rootErr != nil {
			return rootErr
		}
		h.bin = filepath.Join(h.scratch, "flowsym")
		t := time.Now()
		build := exec.Command("go", "build", "-o", h.bin, "./cmd/flowsym")
		build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building flowsym: %w", err)
		}
		fmt.Fprintf(h.out, "built flowsym (%s) in %.1fs\n", commit, time.Since(t).Seconds())
	}
	// Without a topology file only one_way can be raised; where flowsym
	// has --checks, A asks for that check alone too.
	h.oneWay = []string{"analyze", "--format", "json", "--progress", "off"}
	if help, err := exec.Command(h.bin, "analyze", "--help").CombinedOutput(); err == nil && strings.Contains(string(help), "--checks") {
		h.oneWay = append(h.oneWay, "--checks", "one_way")
	}
	h.header(commit)
	fmt.Fprintf(h.out, "A runs: flowsym %s LOGS\n", strings.Join(h.oneWay, " "))
	fmt.Fprintf(h.out, "DuckDB's query (-sql %s), LOGS the estate's folder:\n%s\n", *variant, querySQL("LOGS", *variant))

	for _, one := range layouts {
		if err := h.compare(one); err != nil {
			return err
		}
	}
	if *memory {
		if err := h.memorySeries(sizes); err != nil {
			return err
		}
	}
	fmt.Fprintf(h.out, "\nload average at the end: %s\n", loadavg())
	return nil
}

func (h *harness) header(commit string) {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.Lines(string(b)) {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(l[strings.Index(l, ":")+1:])
				break
			}
		}
	}
	fmt.Fprintf(h.out, "flowsym end-to-end benchmark against DuckDB (%s)\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(h.out, "machine: %d CPUs (%s), %s/%s, %s; load average %s\n", runtime.NumCPU(), cpu, runtime.GOOS, runtime.GOARCH, runtime.Version(), loadavg())
	fmt.Fprintf(h.out, "flowsym: %s; data: %s\n", commit, h.data)
}

// measure is one timed child process.
type measure struct {
	Wall, CPU time.Duration
	RSS       int64 // peak resident set, bytes
	OneWay    int64
	Records   int64          // flowsym's summary
	Findings  map[string]int // flowsym's summary
	Load      float64        // 1-minute load average when it started
	Extra     string
}

// exec runs a child process and measures it: wall time around the whole
// process, CPU time (user + system) and peak RSS from its rusage.
func (h *harness) exec(stdout io.Writer, name string, args ...string) (measure, []byte, error) {
	m := measure{Load: load1()}
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	m.Wall = time.Since(start)
	if ps := cmd.ProcessState; ps != nil {
		m.CPU = ps.UserTime() + ps.SystemTime()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			m.RSS = ru.Maxrss * 1024 // KiB on Linux
		}
	}
	if err != nil {
		return m, stderr.Bytes(), fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, tail(stderr.Bytes(), 2000))
	}
	return m, stderr.Bytes(), nil
}

// flowsym runs the CLI; one_way findings are counted on its JSON output
// and checked against its summary line.
func (h *harness) flowsym(args ...string) (measure, error) {
	cnt := &counter{pat: []byte(`"kind":"one_way"`)}
	m, stderr, err := h.exec(cnt, h.bin, args...)
	if err != nil {
		return m, err
	}
	m.OneWay = cnt.n
	for l := range strings.Lines(string(stderr)) {
		if !strings.Contains(l, `"event":"flowsym.run"`) {
			continue
		}
		var sum struct {
			Records  int64          `json:"records"`
			Findings map[string]int `json:"findings"`
		}
		if err := json.Unmarshal([]byte(l), &sum); err != nil {
			return m, fmt.Errorf("flowsym summary line: %w", err)
		}
		m.Records, m.Findings = sum.Records, sum.Findings
	}
	if m.Findings != nil && int64(m.Findings["one_way"]) != m.OneWay && args[0] == "analyze" {
		return m, fmt.Errorf("flowsym printed %d one_way findings, its summary says %d", m.OneWay, m.Findings["one_way"])
	}
	return m, nil
}

// duckdb runs the SQL baseline in a child process.
func (h *harness) duckdb(logs string) (measure, error) {
	var out bytes.Buffer
	m, _, err := h.exec(&out, h.self, "-duckdb-child", logs, "-sql", *variant)
	if err != nil {
		return m, err
	}
	var res childResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return m, fmt.Errorf("duckdb child printed %q: %w", out.String(), err)
	}
	m.OneWay = res.OneWay
	m.Extra = fmt.Sprintf("DuckDB %s, %s threads", res.Version, res.Threads)
	return m, nil
}

// inflateFloor runs the floor child; its line count must be the estate's
// records plus one header line per object.
func (h *harness) inflateFloor(logs string) (measure, error) {
	var out bytes.Buffer
	m, _, err := h.exec(&out, h.self, "-floor-child", logs)
	if err != nil {
		return m, err
	}
	var res struct {
		Lines int64 `json:"lines"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return m, fmt.Errorf("floor child printed %q: %w", out.String(), err)
	}
	m.Records = res.Lines
	return m, nil
}

// childResult is what the DuckDB child prints.
type childResult struct {
	OneWay  int64   `json:"one_way"`
	Seconds float64 `json:"query_seconds"`
	Threads string  `json:"threads"`
	Version string  `json:"duckdb_version"`
}

// dataset is a generated estate.
type dataset struct {
	logs, topo string
	truth      *loadgen.Truth
}

// dataset returns the estate of n records in a layout, generating it unless
// the data folder holds it from an earlier run.
func (h *harness) dataset(n int64, one bool) (*dataset, error) {
	cfg := loadgen.Config{Records: n, OneObject: one, Seed: *seed}
	dir := filepath.Join(h.data, fmt.Sprintf("%s-%d-seed%d", cfg.Layout(), n, *seed))
	ds := &dataset{logs: filepath.Join(dir, "logs"), topo: filepath.Join(dir, "flowsym.yaml")}
	truthFile := filepath.Join(dir, "truth.json")
	if t, err := loadgen.ReadTruth(truthFile); err == nil && t.Generator == loadgen.Version && t.Records == n && t.Seed == *seed && t.Layout == cfg.Layout() {
		if _, err := os.Stat(ds.topo); err == nil {
			ds.truth = t
			fmt.Fprintf(h.out, "estate %s: cached in %s\n", filepath.Base(dir), dir)
			return ds, nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	cfg.Dir = ds.logs
	start := time.Now()
	t, err := loadgen.Generate(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	took := time.Since(start)
	if err := os.WriteFile(ds.topo, []byte(t.Topology()), 0o644); err != nil {
		return nil, err
	}
	if err := loadgen.WriteTruth(truthFile, t); err != nil {
		return nil, err
	}
	ds.truth = t
	fmt.Fprintf(h.out, "estate %s: generated in %.1fs (%.1f M records/s)\n", filepath.Base(dir), took.Seconds(), float64(n)/took.Seconds()/1e6)
	return ds, nil
}

func describe(t *loadgen.Truth) string {
	return fmt.Sprintf("%s records in %d gzip object(s), %s gzip (%s raw), %d one-minute windows; %s connections (%s TCP, %s long-lived, %s IPv6, %s reusing a 5-tuple), %s NODATA records; one-way truth %s (%s no reply + %s rejected)",
		num(t.Records), t.Objects, mib(t.Bytes), mib(t.RawBytes), t.Windows, num(t.Connections), num(t.TCP), num(t.LongLived),
		num(t.IPv6), num(t.Reused), num(t.NoData), num(t.OneWay), num(t.NoReply), num(t.Rejected))
}

// compare is the alternating series A B (C) over one layout.
func (h *harness) compare(one bool) error {
	name := map[bool]string{false: "many objects", true: "one object"}[one]
	fmt.Fprintf(h.out, "\n== Layout: %s ==\n", name)
	ds, err := h.dataset(*records, one)
	if err != nil {
		return err
	}
	t := ds.truth
	fmt.Fprintf(h.out, "%s\n", describe(t))
	oneWayArgs := append(slices.Clone(h.oneWay), ds.logs)
	fullArgs := []string{"analyze", "--format", "json", "--progress", "off", "--config", ds.topo, ds.logs}
	checkOneWay := func(side string, m measure) error {
		if m.OneWay != t.OneWay {
			return fmt.Errorf("%s counted %d one-way connections, the truth is %d", side, m.OneWay, t.OneWay)
		}
		if m.Records != 0 && m.Records != t.Records {
			return fmt.Errorf("%s read %d records, the estate has %d", side, m.Records, t.Records)
		}
		return nil
	}
	checkLines := func(side string, m measure) error {
		if m.Records < t.Records {
			return fmt.Errorf("%s counted %d lines, the estate has %d records", side, m.Records, t.Records)
		}
		return nil
	}
	type side struct {
		name  string
		run   func() (measure, error)
		check func(string, measure) error
	}
	sides := []side{
		{"A flowsym one-way", func() (measure, error) { return h.flowsym(oneWayArgs...) }, checkOneWay},
		{"B DuckDB", func() (measure, error) { return h.duckdb(ds.logs) }, checkOneWay},
	}
	if *full {
		sides = append(sides, side{"C flowsym full", func() (measure, error) { return h.flowsym(fullArgs...) }, checkOneWay})
	}
	floorAt := -1
	if *floor {
		floorAt = len(sides)
		sides = append(sides, side{"D inflate floor", func() (measure, error) { return h.inflateFloor(ds.logs) }, checkLines})
	}
	if *warmup {
		for _, s := range sides {
			m, err := s.run()
			if err != nil {
				return err
			}
			if err := s.check(s.name, m); err != nil {
				return err
			}
			fmt.Fprintf(h.out, "warm-up %-18s %6.2fs (not counted)\n", s.name, m.Wall.Seconds())
		}
	}
	res := make([][]measure, len(sides))
	fmt.Fprintf(h.out, "%-5s %-18s %8s %8s %10s %10s %6s\n", "run", "side", "wall s", "cpu s", "peak RSS", "one_way", "load")
	for i := range *runs {
		for j, s := range sides {
			m, err := s.run()
			if err != nil {
				return err
			}
			if err := s.check(s.name, m); err != nil {
				return err
			}
			res[j] = append(res[j], m)
			oneWay := num(m.OneWay)
			if j == floorAt {
				oneWay = "-" // the floor counts lines, not connections
			}
			fmt.Fprintf(h.out, "%-5d %-18s %8.2f %8.2f %10s %10s %6.2f\n", i+1, s.name, m.Wall.Seconds(), m.CPU.Seconds(), mib(m.RSS), oneWay, m.Load)
		}
	}
	a, b := res[0], res[1]
	fmt.Fprintf(h.out, "\nmedians over %d runs (every run counted %s one-way connections, the truth):\n", *runs, num(t.OneWay))
	fmt.Fprintf(h.out, "%-18s %8s %8s %10s %14s\n", "side", "wall s", "cpu s", "peak RSS", "records/s")
	for j, s := range sides {
		w := median(res[j], func(m measure) float64 { return m.Wall.Seconds() })
		fmt.Fprintf(h.out, "%-18s %8.2f %8.2f %10s %14s\n", s.name, w,
			median(res[j], func(m measure) float64 { return m.CPU.Seconds() }),
			mib(int64(median(res[j], func(m measure) float64 { return float64(m.RSS) }))),
			rate(float64(t.Records)/w))
	}
	// Ratios are the median of the per-run ratios (run i of one side over
	// run i of the other, taken a few seconds apart under the same load),
	// which drifting load skews less than the ratio of the medians, shown
	// next to it.
	wall := func(m measure) float64 { return m.Wall.Seconds() }
	cpu := func(m measure) float64 { return m.CPU.Seconds() }
	rss := func(m measure) float64 { return float64(m.RSS) }
	target := map[bool]float64{false: 0.5, true: 0.8}[one]
	wallRatio := paired(a, b, wall)
	fmt.Fprintf(h.out, "flowsym/DuckDB wall %.2fx (ratio of medians %.2fx), target at most %.1fx: %s\n",
		wallRatio, ratio(a, b, wall), target, verdict(wallRatio <= target))
	fmt.Fprintf(h.out, "flowsym/DuckDB CPU  %.2fx (ratio of medians %.2fx)\n", paired(a, b, cpu), ratio(a, b, cpu))
	fmt.Fprintf(h.out, "flowsym/DuckDB peak RSS %.2fx\n", ratio(a, b, rss))
	if *full {
		c := res[2]
		r := paired(c, a, wall)
		fmt.Fprintf(h.out, "full/one-way wall %.2fx (ratio of medians %.2fx), CPU %.2fx, target at most 1.5x: %s; full analysis findings %v\n",
			r, ratio(c, a, wall), paired(c, a, cpu), verdict(r <= 1.5), c[0].Findings)
	}
	if floorAt >= 0 {
		d := res[floorAt]
		fmt.Fprintf(h.out, "inflate floor/DuckDB wall %.2fx (ratio of medians %.2fx), CPU %.2fx: inflating and splitting lines, parsing nothing, on every core\n",
			paired(d, b, wall), ratio(d, b, wall), paired(d, b, cpu))
	}
	fmt.Fprintf(h.out, "baseline: %s, query %q (-sql)\n", b[0].Extra, *variant)
	return nil
}

// memorySeries runs normalize and analyze --memory-limit over estates of
// growing size.
func (h *harness) memorySeries(sizes []int64) error {
	fmt.Fprintf(h.out, "\n== Memory series (many-object layout) ==\n")
	type row struct {
		n                int64
		norm, lim, unlim measure
	}
	var rows []row
	for _, n := range sizes {
		ds, err := h.dataset(n, false)
		if err != nil {
			return err
		}
		fmt.Fprintf(h.out, "%s\n", describe(ds.truth))
		out := filepath.Join(h.scratch, "normalized")
		_ = os.RemoveAll(out)
		r := row{n: n}
		if r.norm, err = h.flowsym("normalize", "--progress", "off", "--out", out, ds.logs); err != nil {
			return err
		}
		_ = os.RemoveAll(out)
		if r.norm.Records != n {
			return fmt.Errorf("normalize read %d records of %d", r.norm.Records, n)
		}
		for _, lim := range []struct {
			m     *measure
			limit string
		}{{&r.lim, *memLimit}, {&r.unlim, "2GiB"}} {
			m, err := h.flowsym(append(slices.Clone(h.oneWay), "--memory-limit", lim.limit, ds.logs)...)
			if err != nil {
				return err
			}
			if m.OneWay != ds.truth.OneWay {
				return fmt.Errorf("analyze --memory-limit %s counted %d one-way connections, the truth is %d", lim.limit, m.OneWay, ds.truth.OneWay)
			}
			*lim.m = m
		}
		fmt.Fprintf(h.out, "%s records: normalize %.1fs wall, %.1fs CPU, peak RSS %s; analyze --memory-limit %s %.1fs, peak RSS %s; analyze (default 2GiB) %.1fs, peak RSS %s; load %.2f\n",
			num(n), r.norm.Wall.Seconds(), r.norm.CPU.Seconds(), mib(r.norm.RSS), *memLimit, r.lim.Wall.Seconds(), mib(r.lim.RSS),
			r.unlim.Wall.Seconds(), mib(r.unlim.RSS), r.norm.Load)
		rows = append(rows, r)
	}
	fmt.Fprintf(h.out, "\n%-12s %12s %12s %22s %22s\n", "records", "normalize", "normalize", "analyze", "analyze")
	fmt.Fprintf(h.out, "%-12s %12s %12s %22s %22s\n", "", "wall s", "peak RSS", "--memory-limit "+*memLimit, "default (2GiB)")
	for _, r := range rows {
		fmt.Fprintf(h.out, "%-12s %12.1f %12s %22s %22s\n", num(r.n), r.norm.Wall.Seconds(), mib(r.norm.RSS),
			fmt.Sprintf("%s, %.1fs", mib(r.lim.RSS), r.lim.Wall.Seconds()), fmt.Sprintf("%s, %.1fs", mib(r.unlim.RSS), r.unlim.Wall.Seconds()))
	}
	if len(rows) >= 2 {
		// The target compares 16M with 4M records: a quarter of the
		// largest size when the series has it, else the smallest.
		first, last := rows[0], rows[len(rows)-1]
		for _, r := range rows {
			if r.n*4 == last.n {
				first = r
			}
		}
		rr := float64(last.norm.RSS) / float64(first.norm.RSS)
		fmt.Fprintf(h.out, "normalize peak RSS at %s / at %s records: %.2fx, target at most 1.2x: %s\n", num(last.n), num(first.n), rr, verdict(rr <= 1.2))
	}
	limit, err := parseBytes(*memLimit)
	if err != nil {
		return fmt.Errorf("-memory-limit %q: %w", *memLimit, err)
	}
	for _, r := range rows {
		fmt.Fprintf(h.out, "analyze --memory-limit %s at %s records: peak RSS %s = %.2fx the limit, target at most the limit: %s\n",
			*memLimit, num(r.n), mib(r.lim.RSS), float64(r.lim.RSS)/float64(limit), verdict(r.lim.RSS <= limit))
	}
	fmt.Fprintf(h.out, "(--memory-limit sets the Go runtime's soft limit to 80%% of it and spills connection state before the live heap passes half of it; below about 192MiB the fixed part, decoders' buffers, batches in flight and the runtime, is more than the limit leaves)\n")
	return nil
}

// counter counts a pattern in what is written to it, across writes.
type counter struct {
	pat  []byte
	tail []byte
	n    int64
}

func (c *counter) Write(p []byte) (int, error) {
	// The carried tail is shorter than the pattern: no match lies wholly
	// in it, so none is counted twice.
	buf := append(c.tail, p...)
	c.n += int64(bytes.Count(buf, c.pat))
	keep := min(len(buf), len(c.pat)-1)
	// The last len(pat)-1 bytes cannot hold a whole match; carry them.
	c.tail = append(c.tail[:0], buf[len(buf)-keep:]...)
	return len(p), nil
}

func median(ms []measure, f func(measure) float64) float64 {
	v := make([]float64, len(ms))
	for i, m := range ms {
		v[i] = f(m)
	}
	return medianOf(v)
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// ratio is the ratio of the medians.
func ratio(a, b []measure, f func(measure) float64) float64 { return median(a, f) / median(b, f) }

// paired is the median of the per-run ratios (run i of a over run i of b).
func paired(a, b []measure, f func(measure) float64) float64 {
	var v []float64
	for i := range min(len(a), len(b)) {
		v = append(v, f(a[i])/f(b[i]))
	}
	return medianOf(v)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func load1() float64 {
	f := strings.Fields(loadavg())
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }

func rate(v float64) string { return fmt.Sprintf("%.2f M/s", v/1e6) }

// num writes n with thousands separators.
func num(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + num(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

func parseSizes(s string) ([]int64, error) {
	var out []int64
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-memory-records %q: want record counts separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseBytes reads 256MiB, 2GiB or a plain number of bytes.
func parseBytes(s string) (int64, error) {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseFloat(v, 64)
			return int64(n * float64(u.mult)), err
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

// repoRoot finds the flowsym checkout above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/flowsym/flowsym\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no flowsym checkout above the working directory: run from bench/ or give -flowsym")
		}
		dir = parent
	}
}

func gitDescribe(root string) string {
	out, err := exec.Command("git", "-C", root, "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		return "unknown commit"
	}
	return strings.TrimSpace(string(out))
}
