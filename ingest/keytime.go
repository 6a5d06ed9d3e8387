package ingest

import (
	"path"
	"strconv"
	"strings"
	"time"
)

// Span is a half-open time range [Start, End). A zero bound is open.
type Span struct {
	Start, End time.Time
}

// Overlaps reports whether s and o share an instant.
func (s Span) Overlaps(o Span) bool {
	if !s.End.IsZero() && !o.Start.IsZero() && !s.End.After(o.Start) {
		return false
	}
	if !o.End.IsZero() && !s.Start.IsZero() && !o.End.After(s.Start) {
		return false
	}
	return true
}

// IsZero reports whether the span is open on both sides.
func (s Span) IsZero() bool { return s.Start.IsZero() && s.End.IsZero() }

// recordMargin widens a key's date range to cover records filed under it
// whose own times reach outside it. Every layout files an object under the
// time its records ended or were written; a record's start can be earlier
// by its aggregation interval (AWS at most 10 minutes, GCP at most 15) plus
// capture and publish lag. An hour is generous and costs one extra hour of
// objects at each end of a run, which is cheap next to opening a year.
const recordMargin = time.Hour

// KeySpan returns the range of record times that an object or directory
// under key can hold, judged from the date parts of each cloud's layout:
//
//	AWS        .../vpcflowlogs/<region>/YYYY/MM/DD[/HH]/..._YYYYMMDDTHHmmZ_...
//	AWS Hive   .../year=YYYY/month=MM/day=DD[/hour=HH]/...
//	GCP sink   .../vpc_flows/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json
//	Azure      .../y=YYYY/m=MM/d=DD/h=HH/m=00/...
//
// ok is false when the key has no date, and then nothing can be pruned.
func KeySpan(key string) (Span, bool) {
	d, ok := keyDate(key)
	if !ok {
		return Span{}, false
	}
	start := time.Date(d.year, time.Month(max(d.month, 1)), max(d.day, 1), max(d.hour, 0), max(d.minute, 0), 0, 0, time.UTC)
	var end time.Time
	switch {
	case d.minute >= 0:
		end = start.Add(5 * time.Minute) // AWS files hold one 5-minute slot
	case d.hour >= 0:
		end = start.Add(time.Hour)
	case d.day > 0:
		end = start.AddDate(0, 0, 1)
	case d.month > 0:
		end = start.AddDate(0, 1, 0)
	default:
		end = start.AddDate(1, 0, 0)
	}
	return Span{Start: start.Add(-recordMargin), End: end.Add(recordMargin)}, true
}

type keyParts struct {
	year, month, day, hour, minute int
}

// keyDate reads the date parts of a key. Parts are taken from consecutive
// path segments only, so an account id or a port in a file name is never
// mistaken for a year.
func keyDate(key string) (keyParts, bool) {
	segs := strings.Split(key, "/")
	p := keyParts{month: 0, day: 0, hour: -1, minute: -1}
	for i := 0; i < len(segs); i++ {
		if y, ok := yearSeg(segs[i]); ok {
			p.year = y
			fillParts(&p, segs[i+1:])
			fileTime(&p, path.Base(key))
			return p, true
		}
	}
	return p, false
}

// yearSeg accepts "2024", "year=2024" and "y=2024".
func yearSeg(s string) (int, bool) {
	s = trimKey(s, "year=", "y=")
	if len(s) != 4 {
		return 0, false
	}
	y, err := strconv.Atoi(s)
	if err != nil || y < 2000 || y > 2199 {
		return 0, false
	}
	return y, true
}

func fillParts(p *keyParts, rest []string) {
	fields := []struct {
		dst      *int
		prefixes []string
		lo, hi   int
	}{
		{&p.month, []string{"month=", "m="}, 1, 12},
		{&p.day, []string{"day=", "d="}, 1, 31},
		{&p.hour, []string{"hour=", "h="}, 0, 23},
	}
	for i, f := range fields {
		if i >= len(rest) {
			return
		}
		s := trimKey(rest[i], f.prefixes...)
		n, err := strconv.Atoi(s)
		if len(s) != 2 || err != nil || n < f.lo || n > f.hi {
			return
		}
		*f.dst = n
	}
}

// fileTime refines the date from the file name: the AWS 5-minute slot
// (_20241120T1005Z_) or the GCS sink's hour shard (10:00:00_10:59:59_S0).
func fileTime(p *keyParts, base string) {
	if p.day == 0 {
		return
	}
	for i := 8; i+5 < len(base); i++ {
		if base[i] != 'T' || base[i+5] != 'Z' {
			continue
		}
		t, err := time.Parse("20060102T1504", base[i-8:i+5])
		if err == nil && t.Year() == p.year && int(t.Month()) == p.month && t.Day() == p.day {
			p.hour, p.minute = t.Hour(), t.Minute()
			return
		}
	}
	if len(base) >= 18 && base[2] == ':' && base[8] == '_' && p.hour < 0 {
		if h, err := strconv.Atoi(base[:2]); err == nil && h >= 0 && h < 24 {
			p.hour = h
		}
	}
}

func trimKey(s string, prefixes ...string) string {
	for _, pre := range prefixes {
		if strings.HasPrefix(s, pre) {
			return s[len(pre):]
		}
	}
	return s
}
