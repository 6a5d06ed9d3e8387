package ingest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads a --since or --until value: RFC 3339, a date or date and
// time in UTC (2026-11-20, 2026-11-20T10), or a duration back from now
// ("90m", "1h", "2d"). Empty is the zero time, an open bound. The CLI and
// the Beam pipeline both read their flags with it.
func ParseTime(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02T15", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour).UTC(), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-11-20T10:00:00Z), a date (2026-11-20) or a duration back from now (1h, 2d)", s)
}
