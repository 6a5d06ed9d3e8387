package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/flowsym/flowsym/normalize"
)

// Exit codes. They are a contract with schedulers and scripts; docs/cli.md
// lists them.
const (
	exitOK       = 0
	exitFindings = 1 // a finding matched --fail-on
	exitUsage    = 2 // bad flags, arguments or configuration
	exitInput    = 3 // more input errors than --max-errors
	exitFailure  = 4 // the run could not complete (I/O, interrupted)
)

// exitError carries the exit code an error maps to.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// env is what the commands get from the outside world. Tests fill it with
// buffers and a fixed clock.
type env struct {
	stdout, stderr io.Writer
	now            func() time.Time
	log            *slog.Logger
	// started is set when a command's own code starts; an error before
	// that is cobra rejecting the command line, a usage error.
	started bool
	// summary, when a command sets it, is written to stderr as one JSON
	// line at the end of the run, and to metricsFile if that is set.
	summary     *runSummary
	metricsFile string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{
		stdout: stdout,
		stderr: stderr,
		now:    time.Now,
		log:    slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	cmd := newRootCommand(e)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err != nil && !e.started && !errors.As(err, new(*exitError)) {
		err = &exitError{code: exitUsage, err: fmt.Errorf("%w\nrun 'flowsym --help' for usage", err)}
	}
	code := exitOK
	if err != nil {
		fmt.Fprintf(stderr, "flowsym: %v\n", err)
		code = exitCode(err)
	}
	if e.summary != nil {
		e.summary.write(stderr, code, err, e.now())
		if e.metricsFile != "" {
			if merr := writeMetrics(e.metricsFile, e.summary); merr != nil {
				fmt.Fprintf(stderr, "flowsym: %v\n", merr)
				code = max(code, exitFailure)
			}
		}
	}
	return code
}

func exitCode(err error) int {
	if ee, ok := errors.AsType[*exitError](err); ok {
		return ee.code
	}
	if errors.Is(err, normalize.ErrTooManyProblems) {
		return exitInput
	}
	return exitFailure
}

func newRootCommand(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "flowsym",
		Short: "Find where private egress breaks, from AWS, GCP and Azure flow logs",
		Long: `flowsym reads the flow logs of AWS (VPC and Transit Gateway), GCP (VPC Flow
Logs, Cloud NAT) and Azure (NSG and VNet flow logs), normalizes them into one
columnar schema, and stitches the records of each connection across hub and
spoke networks to find one-way flows, asymmetric paths, hub bypass and
unapproved NAT.

Exit codes: 0 success, 1 a finding matched --fail-on, 2 usage or
configuration error, 3 more input errors than --max-errors, 4 the run failed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var cpuProfile, memProfile string
	root.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file, for go tool pprof (example: --cpuprofile cpu.prof)")
	root.PersistentFlags().StringVar(&memProfile, "memprofile", "", "write a heap profile at the end of the run to this file, for go tool pprof (example: --memprofile mem.prof)")
	var stopCPU func()
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		var err error
		stopCPU, err = startCPUProfile(cpuProfile)
		return err
	}
	root.PersistentPostRunE = func(cmd *cobra.Command, args []string) error {
		if stopCPU != nil {
			stopCPU()
		}
		return writeHeapProfile(memProfile)
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: fmt.Errorf("%w\nrun '%s --help' for usage", err, c.CommandPath())}
	})
	root.AddCommand(newNormalizeCommand(e), newAnalyzeCommand(e), newTraceCommand(e), newGenerateCommand(e))
	return root
}
