//go:build cgo

package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

const haveDuckDB = true

// source is the read_csv of every gzip object under logs: all 14 columns
// of the default format typed, "-" (NODATA and SKIPDATA rows) read as NULL,
// no sniffing.
func source(logs string) string {
	glob := filepath.ToSlash(filepath.Join(logs, "**", "*.log.gz"))
	return fmt.Sprintf(`read_csv('%s', delim = ' ', header = true, auto_detect = false, nullstr = '-', compression = 'gzip',
    columns = {'version': 'INTEGER', 'account_id': 'VARCHAR', 'interface_id': 'VARCHAR',
               'srcaddr': 'VARCHAR', 'dstaddr': 'VARCHAR', 'srcport': 'INTEGER', 'dstport': 'INTEGER',
               'protocol': 'INTEGER', 'packets': 'BIGINT', 'bytes': 'BIGINT', 'start': 'BIGINT', 'end': 'BIGINT',
               'action': 'VARCHAR', 'log_status': 'VARCHAR'})`, strings.ReplaceAll(glob, "'", "''"))
}

// queries are the ways of writing the one-way count in SQL; oneWaySQL
// names the one the benchmark times (the fastest exact one measured, see
// docs/bench-e2e.md). Each counts the TCP 5-tuples, taken without
// direction, whose records all run the same way.
var queries = map[string]string{
	// The first probe's query: the canonical ends as (address, port)
	// structs, with least/greatest.
	"struct": `SELECT count(*) FROM (
  SELECT protocol,
         least((srcaddr, srcport), (dstaddr, dstport)) AS a, greatest((srcaddr, srcport), (dstaddr, dstport)) AS b,
         bool_or((srcaddr, srcport) < (dstaddr, dstport)) AS ab, bool_or((srcaddr, srcport) > (dstaddr, dstport)) AS ba
  FROM %[1]s
  WHERE log_status = 'OK' AND protocol = 6
  GROUP BY ALL)
WHERE NOT (ab AND ba)`,
	// The direction computed once, the canonical ends as four plain
	// columns.
	"case": `SELECT count(*) FROM (
  SELECT 1
  FROM (SELECT srcaddr, dstaddr, srcport, dstport,
               srcaddr < dstaddr OR (srcaddr = dstaddr AND srcport < dstport) AS ab
        FROM %[1]s
        WHERE log_status = 'OK' AND protocol = 6)
  GROUP BY CASE WHEN ab THEN srcaddr ELSE dstaddr END, CASE WHEN ab THEN dstaddr ELSE srcaddr END,
           CASE WHEN ab THEN srcport ELSE dstport END, CASE WHEN ab THEN dstport ELSE srcport END
  HAVING bool_and(ab) OR NOT bool_or(ab))`,
	// As case, with both ports packed into one integer key column.
	"packed": `SELECT count(*) FROM (
  SELECT 1
  FROM (SELECT srcaddr, dstaddr, srcport, dstport,
               srcaddr < dstaddr OR (srcaddr = dstaddr AND srcport < dstport) AS ab
        FROM %[1]s
        WHERE log_status = 'OK' AND protocol = 6)
  GROUP BY CASE WHEN ab THEN srcaddr ELSE dstaddr END, CASE WHEN ab THEN dstaddr ELSE srcaddr END,
           CASE WHEN ab THEN srcport::BIGINT * 65536 + dstport ELSE dstport::BIGINT * 65536 + srcport END
  HAVING bool_and(ab) OR NOT bool_or(ab))`,
	// Directed 5-tuples first (a record per window and interface folds
	// into one row), then the canonical grouping of those.
	"twostep": `SELECT count(*) FROM (
  SELECT 1
  FROM (SELECT srcaddr, dstaddr, srcport, dstport,
               srcaddr < dstaddr OR (srcaddr = dstaddr AND srcport < dstport) AS ab
        FROM %[1]s
        WHERE log_status = 'OK' AND protocol = 6
        GROUP BY srcaddr, dstaddr, srcport, dstport)
  GROUP BY CASE WHEN ab THEN srcaddr ELSE dstaddr END, CASE WHEN ab THEN dstaddr ELSE srcaddr END,
           CASE WHEN ab THEN srcport::BIGINT * 65536 + dstport ELSE dstport::BIGINT * 65536 + srcport END
  HAVING count(*) = 1)`,
}

const oneWaySQL = "packed"

// duckdbChild runs the one-way query over logs in this process and prints
// its result as JSON: the harness runs it as a child process so that its
// CPU time and peak memory are measured apart from everything else.
func duckdbChild(logs, variant string) error {
	q, ok := queries[variant]
	if !ok {
		return fmt.Errorf("no query %q", variant)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	var res childResult
	if err := db.QueryRow("SELECT version(), current_setting('threads')::VARCHAR").Scan(&res.Version, &res.Threads); err != nil {
		return err
	}
	start := time.Now()
	if err := db.QueryRow(fmt.Sprintf(q, source(logs))).Scan(&res.OneWay); err != nil {
		return err
	}
	res.Seconds = time.Since(start).Seconds()
	return json.NewEncoder(os.Stdout).Encode(res)
}

// querySQL returns the query the benchmark times, for the report.
func querySQL(logs, variant string) string { return fmt.Sprintf(queries[variant], source(logs)) }
