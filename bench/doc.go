// Package bench holds checks and benchmarks that need heavy dependencies
// the flowsym binary must never link, in a module of their own: DuckDB
// (through its cgo driver) reads flowsym's Parquet exports back as an
// independent SQL engine would.
//
// Run them with `cd bench && go test ./...`; they need cgo and a C++
// toolchain. Without cgo the tests skip, or fail when
// FLOWSYM_REQUIRE_DUCKDB=1 (as CI sets it).
package bench
