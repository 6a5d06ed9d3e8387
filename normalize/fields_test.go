package normalize

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// checkSplit holds a fieldSpans splitter to a reference splitter: the
// same count, and the same first maxLineFields fields.
func checkSplit(t *testing.T, line string, split func(*fieldSpans, []byte), reference []string) {
	t.Helper()
	var s fieldSpans
	split(&s, []byte(line))
	if s.n != len(reference) {
		t.Fatalf("%q: %d fields, want %d", line, s.n, len(reference))
	}
	got := make([]string, 0, s.n)
	for _, f := range s.all() {
		got = append(got, string(f))
	}
	if kept := min(len(reference), maxLineFields); !slices.Equal(got, reference[:kept]) {
		t.Fatalf("%q: fields %q, want %q", line, got, reference[:kept])
	}
}

// checkSplitBlanks holds splitBlanks to strings.FieldsFunc.
func checkSplitBlanks(t *testing.T, line string) {
	t.Helper()
	checkSplit(t, line, (*fieldSpans).splitBlanks, strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' }))
}

func TestSplitBlanks(t *testing.T) {
	for _, line := range []string{
		"",
		" ",
		"\t\t",
		"a",
		"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
		"  leading and trailing  ",
		"tabs\tand  spaces \t mixed",
		"exactly8 exactly8",
		"1234567 1234567 ",
		"!x !y\t!z", // bytes just above the separators
		"\x00\x01\x08\x0a\x1f\x21\x29 \xff\x80",
		strings.Repeat("f ", maxLineFields+5), // more fields than are kept
	} {
		checkSplitBlanks(t, line)
	}
}

func FuzzSplitBlanks(f *testing.F) {
	f.Add("2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA")
	f.Add("a\t\tb  c\x09\x20d")
	f.Fuzz(checkSplitBlanks)
}

// checkSplitCommas holds splitCommas to strings.Split.
func checkSplitCommas(t *testing.T, tuple string) {
	t.Helper()
	checkSplit(t, tuple, (*fieldSpans).splitCommas, strings.Split(tuple, ","))
}

func TestSplitCommas(t *testing.T) {
	for _, tuple := range []string{
		"",
		",",
		"a",
		"1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,A,B,,,,",
		"1763632800000,10.0.1.4,52.239.1.1,50000,443,6,O,C,NX,10,2000,8,1500",
		",,,,,,,,",         // eight empty fields and a ninth
		"1234567,1234567,", // commas at word ends
		"\x2b\x2d,+-,\x2c", // bytes next to a comma
		strings.Repeat(",", maxLineFields+3),
	} {
		checkSplitCommas(t, tuple)
	}
}

func FuzzSplitCommas(f *testing.F) {
	f.Add("1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,A,B,,,,")
	f.Add(",,a,,b,")
	f.Fuzz(checkSplitCommas)
}

// checkParseAddr holds parseAddrBytes to netip.ParseAddr, zones refused.
func checkParseAddr(t *testing.T, s string) {
	t.Helper()
	got, ok := parseAddrBytes([]byte(s))
	want, err := netip.ParseAddr(s)
	wantOK := err == nil && want.Zone() == ""
	if ok != wantOK || ok && got != want.As16() {
		t.Fatalf("parseAddrBytes(%q) = %v, %v; netip says %v, %v", s, got, ok, want, err)
	}
}

func TestParseAddrBytes(t *testing.T) {
	for _, s := range []string{
		"10.0.0.1", "0.0.0.0", "255.255.255.255", "1.2.3.4",
		"256.1.1.1", "01.2.3.4", "1.2.3.04", "1..2.3", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1.2.3.4.5",
		"1.2.3.-4", "1.2.3.4 ", "", "-",
		"2001:db8::1", "::ffff:10.0.0.1", "fe80::1%eth0",
	} {
		checkParseAddr(t, s)
	}
}

func FuzzParseAddrBytes(f *testing.F) {
	f.Add("192.168.100.200")
	f.Add("fe80::1%eth0")
	f.Add("001.2.3.4")
	f.Fuzz(checkParseAddr)
}

// checkParseUint holds parseUint to strconv.
func checkParseUint(t *testing.T, s string) {
	t.Helper()
	got, ok := parseUint([]byte(s))
	want, err := strconv.ParseUint(s, 10, 64)
	// Digits only, no sign, and no more than 20 of them (strconv takes
	// any number of leading zeros; no log writes them).
	wantOK := err == nil && s != "" && s[0] != '+' && len(s) <= 20
	if ok != wantOK || ok && got != want {
		t.Fatalf("parseUint(%q) = %d, %v; strconv says %d, %v", s, got, ok, want, err)
	}
}

func TestParseUint(t *testing.T) {
	for _, s := range []string{
		"0", "7", "443", "12345678", "123456789", "1763632811", "111122223333",
		"9999999999999999999", "18446744073709551615", "18446744073709551616", "99999999999999999999",
		"", "-1", "+1", "1_000", "12345678a", "1234567:", "1234567/", "0x10", " 1", "123456789012345678901", "000000000000000000000",
	} {
		checkParseUint(t, s)
	}
}

func FuzzParseUint(f *testing.F) {
	f.Add("1763632811")
	f.Add("18446744073709551616")
	f.Add("1234567:")
	f.Fuzz(checkParseUint)
}
