// Command flowsym finds where private egress breaks across AWS, GCP and
// Azure by reading their flow logs. This package only parses flags, wires
// the pipeline's stages together and maps errors to exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// version is flowsym's version; make build sets it from git.
var version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
