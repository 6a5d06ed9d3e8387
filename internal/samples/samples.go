// Package samples locates the shared sample flow logs that tests read in
// place. They live outside the repository (some licences do not fit ours),
// so tests skip with a message where the folder is absent.
package samples

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Env names a folder that overrides the default location.
const Env = "FLOWSYM_SAMPLES"

// Dir returns the samples folder, or skips the test when it is absent.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(Env)
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		// internal/samples/samples.go -> <repo>/../shared/samples
		dir = filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "samples")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Skipf("shared samples not found at %s (set %s to their folder): skipping", dir, Env)
	}
	return dir
}

// Path returns the path of one sample file, relative to the samples folder.
func Path(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Dir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("sample %s is missing: %v", rel, err)
	}
	return p
}
