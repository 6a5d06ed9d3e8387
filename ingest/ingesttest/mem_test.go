package ingesttest_test

import (
	"testing"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/ingesttest"
)

// The acceptance suite holds for the in-memory store too, which keeps the
// suite itself honest without any emulator.
func TestMemAcceptance(t *testing.T) {
	ingesttest.Acceptance(t, func(t *testing.T) (ingest.Store, string) {
		return ingesttest.NewMem(nil), "mem://bucket/"
	})
}
