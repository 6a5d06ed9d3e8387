package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/flowsym/flowsym/correlate"
)

// outputFlags choose where and how a report is written.
type outputFlags struct {
	format      string
	out         string
	metricsFile string
}

func (f *outputFlags) register(fs *pflag.FlagSet, formats []string) {
	fs.StringVar(&f.format, "format", formats[0], "report format: "+strings.Join(formats, ", ")+
		" (json writes one finding per line, a contract for tools) (example: --format json)")
	fs.StringVarP(&f.out, "out", "o", "", "write the report to this file instead of stdout; written whole or not at all (example: --out report.md)")
	fs.StringVar(&f.metricsFile, "metrics-file", "", "also write the run's figures in Prometheus text format to this file, for the node exporter's textfile collector (example: --metrics-file /var/lib/node_exporter/flowsym.prom)")
}

func (f *outputFlags) check(formats []string) error {
	if !slices.Contains(formats, f.format) {
		return usageError("--format %q: want one of %s", f.format, strings.Join(formats, ", "))
	}
	return nil
}

// write renders a report to --out (atomically: a temporary file renamed
// into place) or to stdout.
func (f *outputFlags) write(e *env, render func(io.Writer) error) error {
	if f.out == "" || f.out == "-" {
		return render(e.stdout)
	}
	dir := filepath.Dir(f.out)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.out)+".*.tmp")
	if err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("write --out: %w", err)}
	}
	defer os.Remove(tmp.Name())
	if err := render(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("write --out: %w", err)}
	}
	if err := os.Rename(tmp.Name(), f.out); err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("write --out: %w", err)}
	}
	return nil
}

// parseKinds checks a flag of finding kinds, comma separated, or "any".
func parseKinds(flag, s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var kinds []string
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		switch {
		case k == "any":
			kinds = append(kinds, correlate.Kinds...)
		case slices.Contains(correlate.Kinds, k):
			kinds = append(kinds, k)
		default:
			return nil, usageError("--%s %q: want finding kinds (%s) or any", flag, k, strings.Join(correlate.Kinds, ", "))
		}
	}
	return kinds, nil
}
