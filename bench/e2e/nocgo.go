//go:build !cgo

package main

import "errors"

const haveDuckDB = false

var queries = map[string]string{}

const oneWaySQL = "packed"

func duckdbChild(logs, variant string) error {
	return errors.New("the DuckDB baseline needs cgo: CGO_ENABLED=1 and a C compiler")
}

func querySQL(logs, variant string) string { return "" }
