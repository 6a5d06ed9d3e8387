//go:build !cgo

package bench

import (
	"os"
	"testing"
)

func TestExportWithDuckDB(t *testing.T) {
	if os.Getenv("FLOWSYM_REQUIRE_DUCKDB") == "1" {
		t.Fatal("DuckDB checks need cgo (CGO_ENABLED=1 and a C compiler), and FLOWSYM_REQUIRE_DUCKDB=1 requires them")
	}
	t.Skip("DuckDB checks need cgo: CGO_ENABLED=1 and a C compiler")
}
