package ingesttest

import (
	"os"
	"testing"
)

// RequireEnv is the environment variable that makes a missing emulator a
// test failure instead of a skip. CI sets it; a developer without Azurite
// installed still gets a green `go test ./...`.
const RequireEnv = "FLOWSYM_REQUIRE_EMULATORS"

// RequireEmulators reports whether FLOWSYM_REQUIRE_EMULATORS=1 (or true).
func RequireEmulators() bool {
	v := os.Getenv(RequireEnv)
	return v == "1" || v == "true"
}

// Unavailable ends a test that needs something missing, such as an
// emulator: it fails when emulators are required and skips otherwise,
// saying what is missing and why.
func Unavailable(tb testing.TB, what string, err error) {
	tb.Helper()
	if RequireEmulators() {
		tb.Fatalf("%s is required (%s=1) but unavailable: %v", what, RequireEnv, err)
	}
	tb.Skipf("%s unavailable, skipping (%s=1 makes this a failure): %v", what, RequireEnv, err)
}
