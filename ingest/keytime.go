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

// depth counts the date parts found below the year.
func (p keyParts) depth() int {
	switch {
	case p.hour >= 0:
		return 3
	case p.day > 0:
		return 2
	case p.month > 0:
		return 1
	}
	return 0
}

// keyDate reads the date parts of a key. Parts are taken from consecutive
// path segments only, so an account id or a port in a file name is never
// mistaken for a year.
//
// A segment like "2024" is a year only where a layout puts one (see
// isYearSeg); anywhere else it may be a name (an Azure resource group, a
// bucket prefix), and taking it for a date would prune objects of other
// years. When several segments qualify, the one with the most date parts
// below it wins, and the deepest among equals: the cloud's own layout is
// nearest the file.
func keyDate(key string) (keyParts, bool) {
	segs := strings.Split(key, "/")
	var best keyParts
	found := false
	for i := range segs {
		y, ok := isYearSeg(segs, i)
		if !ok {
			continue
		}
		p := keyParts{year: y, hour: -1, minute: -1}
		fillParts(&p, segs[i+1:])
		if !found || p.depth() >= best.depth() {
			best, found = p, true
		}
	}
	if !found {
		return keyParts{hour: -1, minute: -1}, false
	}
	fileTime(&best, path.Base(key))
	return best, true
}

// isYearSeg reports whether segs[i] is the year of a date layout: a keyed
// "year=2024" (AWS Hive) or "y=2024" (Azure); or a bare "2024" under an
// AWS region (…/vpcflowlogs/<region>/2024) or a GCS sink log id
// (…/vpc_flows/2024, …/nat_flows/2024), or followed by a month segment
// (2024/11) in any other layout, such as a local copy.
func isYearSeg(segs []string, i int) (int, bool) {
	s := segs[i]
	keyed := strings.HasPrefix(s, "year=") || strings.HasPrefix(s, "y=")
	y, ok := yearNumber(trimKey(s, "year=", "y="))
	switch {
	case !ok:
		return 0, false
	case keyed:
		return y, true
	case i >= 2 && strings.EqualFold(segs[i-2], "vpcflowlogs"),
		i >= 1 && strings.HasSuffix(segs[i-1], "_flows"):
		return y, true
	case i+1 < len(segs):
		if m, err := strconv.Atoi(segs[i+1]); err == nil && len(segs[i+1]) == 2 && m >= 1 && m <= 12 {
			return y, true
		}
	}
	return 0, false
}

// yearNumber accepts four digits from 2000 to 2199.
func yearNumber(s string) (int, bool) {
	if len(s) != 4 {
		return 0, false
	}
	y, err := strconv.Atoi(s)
	if err != nil || y < 2000 || y > 2199 {
		return 0, false
	}
	return y, true
}

// fillParts reads month, day and hour from the segments after the year.
// The Azure layout's second "m=" (the minute, always 00: one blob per hour)
// comes after the hour and is not read. A day that the month does not have
// ends the date there.
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
		if f.dst == &p.day && time.Date(p.year, time.Month(p.month), n, 0, 0, 0, 0, time.UTC).Day() != n {
			return // 31 November
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
	// Object names with colons come percent-encoded from some listings.
	if strings.Contains(base, "%3") {
		base = strings.NewReplacer("%3A", ":", "%3a", ":").Replace(base)
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
