// Package beamtest holds what the Beam module's tests share: the path of
// the flowsym checkout the module is built from, and Azurite started from
// that checkout's tools/azurite.
package beamtest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/flowsym/flowsym/ingest/ingesttest/emulator"
)

// Root returns the flowsym checkout: the folder two levels above this
// module (the module's go.mod replaces flowsym with ../..).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", "..", ".."))
}

// Azurite starts (once per test process) the Azurite of the checkout's
// tools/azurite, points the Azure SDK at it through
// AZURE_STORAGE_CONNECTION_STRING, and creates container. It skips the
// test when Azurite is not installed, or fails it under
// FLOWSYM_REQUIRE_EMULATORS=1. flowsym's emulator package looks for
// Azurite next to the nearest go.mod, which from here is this module's:
// FLOWSYM_AZURITE names the checkout's instead.
func Azurite(tb testing.TB, container string) *emulator.Azurite {
	tb.Helper()
	if os.Getenv(emulator.AzuriteEnv) == "" {
		tb.Setenv(emulator.AzuriteEnv, filepath.Join(Root(), "tools", "azurite", "node_modules", ".bin", "azurite-blob"))
	}
	a := emulator.StartAzurite(tb)
	emulator.AzuriteConnEnv(tb, a.URL)
	c, err := azblob.NewClientFromConnectionString(emulator.ConnectionString(a.URL), nil)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.CreateContainer(context.Background(), container, nil); err != nil {
		tb.Fatalf("create container %s: %v", container, err)
	}
	return a
}
