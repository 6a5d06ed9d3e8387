package normalize

import (
	"errors"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/flowsym/flowsym/normalize/schema"
)

// This file holds the value helpers shared by the JSON formats (GCP and
// Azure): key lookup that ignores case where Azure is inconsistent,
// integers that proto3 JSON and BigQuery exports write as strings,
// timestamps in the several shapes the exports use, and addresses.

// getFold returns the member key of object v, matching the name without
// regard to ASCII case (Azure writes both `resourceId` and `resourceid`,
// `Version` and `version`). It is nil when v is not an object or has no such
// member. The exact spelling is tried first, so the common case costs one
// scan of the keys.
func getFold(v *fastjson.Value, key string) *fastjson.Value {
	if v == nil || v.Type() != fastjson.TypeObject {
		return nil
	}
	if m := v.Get(key); m != nil {
		return m
	}
	o, _ := v.Object()
	var found *fastjson.Value
	o.Visit(func(k []byte, m *fastjson.Value) {
		if found == nil && equalFoldASCII(k, key) {
			found = m
		}
	})
	return found
}

func equalFoldASCII(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// str returns the text of a JSON string member, or nil when it is absent,
// null, empty or not a string. The bytes alias the parser's buffer.
func str(v *fastjson.Value, keys ...string) []byte {
	s := v.GetStringBytes(keys...)
	if len(s) == 0 {
		return nil
	}
	return s
}

// asString returns the text of a string value, or nil when v is not a
// non-empty string.
func asString(v *fastjson.Value) []byte {
	if v == nil || v.Type() != fastjson.TypeString {
		return nil
	}
	s, _ := v.StringBytes()
	if len(s) == 0 {
		return nil
	}
	return s
}

// bstr views bytes as a string without copying. The bytes must not change
// while the string is in use (the builder copies what it is given).
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// errAbsent marks a JSON value that is missing or null: the column stays
// NULL. It never reaches a report.
var errAbsent = errors.New("absent")

// jsonInt reads an integer written as a JSON number or as a JSON string of
// decimal digits: proto3 JSON encodes int64 as strings ("bytes_sent":
// "1776") and BigQuery exports every INT64 that way, while ports and
// protocol numbers are plain numbers. An absent, null or empty value gives
// errAbsent; anything else that is not an integer gives a message for
// badField.
func jsonInt(v *fastjson.Value) (int64, []byte, error) {
	if v == nil {
		return 0, nil, errAbsent
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return 0, nil, errAbsent
	case fastjson.TypeNumber:
		n, err := v.Int64()
		if err != nil {
			return 0, v.MarshalTo(nil), errNotInt
		}
		return n, nil, nil
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		if len(s) == 0 {
			return 0, nil, errAbsent
		}
		n, err := strconv.ParseInt(bstr(s), 10, 64)
		if err != nil {
			return 0, s, errNotInt
		}
		return n, nil, nil
	}
	return 0, v.MarshalTo(nil), errNotInt
}

var errNotInt = errors.New("not an integer")

// setJSONInt stages an integer member in column col after checking it is in
// [0, limit]. An absent member leaves the column NULL. name is the field's
// name in the log, for the error message.
func setJSONInt(b *schema.Builder, col schema.Col, v *fastjson.Value, name string, limit int64) error {
	n, raw, err := jsonInt(v)
	switch {
	case err == errAbsent:
		return nil
	case err != nil:
		return badField(name, raw, "not an integer")
	case n < 0 || n > limit:
		return badField(name, []byte(strconv.FormatInt(n, 10)), "out of range (0 to "+strconv.FormatInt(limit, 10)+")")
	}
	b.Int(col, n)
	return nil
}

// protocolNumbers maps the protocol names some exports write (the Cloud NAT
// documentation's example says "tcp") to IANA numbers.
var protocolNumbers = map[string]int64{
	"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51,
	"icmpv6": 58, "ipv6-icmp": 58, "sctp": 132,
}

// setJSONProto stages a protocol given as a number, a string of digits or a
// name such as "tcp".
func setJSONProto(b *schema.Builder, col schema.Col, v *fastjson.Value, name string) error {
	if v != nil && v.Type() == fastjson.TypeString {
		s, _ := v.StringBytes()
		if len(s) > 0 && (s[0] < '0' || s[0] > '9') {
			var low [16]byte
			if len(s) <= len(low) {
				for i, c := range s {
					low[i] = lowerASCII(c)
				}
				if n, ok := protocolNumbers[string(low[:len(s)])]; ok {
					b.Int(col, n)
					return nil
				}
			}
			return badField(name, s, "not a protocol number or name")
		}
	}
	return setJSONInt(b, col, v, name, 255)
}

// setJSONAddr stages an address member. required makes an absent member
// an error.
func setJSONAddr(b *schema.Builder, col schema.Col, v *fastjson.Value, name string, required bool) error {
	s := asString(v)
	if s == nil {
		if v != nil && v.Type() != fastjson.TypeNull && v.Type() != fastjson.TypeString {
			return badField(name, v.MarshalTo(nil), "not an IP address")
		}
		if required {
			return lineErr(ErrMalformed, "field %s is missing", name)
		}
		return nil
	}
	a, ok := parseAddrBytes(s)
	if !ok {
		return badField(name, s, "not an IP address")
	}
	b.Addr16(col, a)
	return nil
}

// maxMicros is the last microsecond of 9999-12-31; later times are
// garbage.
const maxMicros = (maxEpochSeconds+1)*1_000_000 - 1

// jsonTime reads an instant in any of the shapes the exports use: RFC 3339
// with up to nanoseconds (Cloud Logging), the BigQuery export form
// "2019-06-14 03:45:37.186193 UTC", or a number of seconds, milliseconds,
// microseconds or nanoseconds since the epoch (told apart by magnitude),
// as a JSON number or a string. It returns microseconds.
func jsonTime(v *fastjson.Value) (int64, []byte, error) {
	if v == nil {
		return 0, nil, errAbsent
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return 0, nil, errAbsent
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		if len(s) == 0 {
			return 0, nil, errAbsent
		}
		us, ok := parseTimeText(s)
		if !ok {
			return 0, s, errBadTime
		}
		return us, nil, nil
	case fastjson.TypeNumber:
		if n, err := v.Int64(); err == nil && n >= 0 {
			if us, ok := epochMicros(uint64(n)); ok {
				return us, nil, nil
			}
		} else if f, err := v.Float64(); err == nil {
			if us, ok := epochFloat(f); ok {
				return us, nil, nil
			}
		}
		return 0, v.MarshalTo(nil), errBadTime
	}
	return 0, v.MarshalTo(nil), errBadTime
}

var errBadTime = errors.New("not a timestamp")

// setJSONTime stages a time member; an absent member leaves the column NULL.
func setJSONTime(b *schema.Builder, col schema.Col, v *fastjson.Value, name string) error {
	us, raw, err := jsonTime(v)
	switch {
	case err == errAbsent:
		return nil
	case err != nil:
		return badField(name, raw, "not a timestamp")
	}
	b.Time(col, us)
	return nil
}

// parseTimeText parses "YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|UTC| UTC|±HH:MM]"
// (no zone means UTC, as BigQuery writes) or an epoch number. The fast
// path avoids time.Parse, which costs more than the rest of a GCP record.
func parseTimeText(s []byte) (int64, bool) {
	if len(s) > 0 && (s[0] >= '0' && s[0] <= '9') && len(s) >= 19 && s[4] == '-' {
		return parseDateTime(s)
	}
	return parseEpochText(s)
}

func parseDateTime(s []byte) (int64, bool) {
	num := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	if s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 ||
		hour > 23 || minute > 59 || sec > 60 {
		return 0, false
	}
	rest := s[19:]
	var frac int64 // microseconds
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := int64(100000)
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			frac += int64(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 1 {
			return 0, false
		}
		rest = rest[i:]
	}
	offset := 0 // seconds east of UTC
	switch {
	case len(rest) == 0, string(rest) == "Z", string(rest) == "z", string(rest) == "UTC", string(rest) == " UTC":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, okh := num(rest[1:3])
		m, okm := num(rest[4:6])
		if !okh || !okm || h > 23 || m > 59 {
			return 0, false
		}
		offset = h*3600 + m*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	leap := int64(0)
	if sec == 60 { // a leap second: the first instant of the next minute
		sec, leap = 59, 1
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // 31 November and the like
		return 0, false
	}
	us := (t.Unix()+leap-int64(offset))*1_000_000 + frac
	if us < 0 || us > maxMicros {
		return 0, false
	}
	return us, true
}

// parseEpochText parses a non-negative number of seconds, milliseconds,
// microseconds or nanoseconds since the epoch, told apart by magnitude: a
// count of seconds below 1e11 reaches the year 5138, a count of
// milliseconds at 1e11 is already 1973. Fractions are allowed (BigQuery's
// API writes float seconds).
func parseEpochText(s []byte) (int64, bool) {
	if len(s) == 0 || s[0] == '-' || s[0] == '+' {
		return 0, false
	}
	if n, ok := parseUint(s); ok {
		return epochMicros(n)
	}
	f, err := strconv.ParseFloat(bstr(s), 64)
	if err != nil {
		return 0, false
	}
	return epochFloat(f)
}

// epochFloat converts float seconds (BigQuery's API writes them) to
// microseconds. Only seconds come with fractions.
func epochFloat(f float64) (int64, bool) {
	if f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f >= 1e11 {
		return 0, false
	}
	return int64(math.Round(f * 1e6)), true
}

// epochMicros converts an integer epoch of unknown unit to microseconds.
func epochMicros(n uint64) (int64, bool) {
	var us uint64
	switch {
	case n < 1e11:
		us = n * 1_000_000
	case n < 1e14:
		us = n * 1_000
	case n < 1e17:
		us = n
	default:
		us = n / 1_000
	}
	if us > maxMicros {
		return 0, false
	}
	return int64(us), true
}
