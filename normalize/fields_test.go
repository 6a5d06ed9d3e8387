package normalize

import (
	"slices"
	"strings"
	"testing"
)

// blankFields is the reference splitter: what splitBlanks must agree with.
func blankFields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })
}

func checkSplitBlanks(t *testing.T, line string) {
	t.Helper()
	var s fieldSpans
	s.splitBlanks([]byte(line))
	want := blankFields(line)
	if s.n != len(want) {
		t.Fatalf("%q: %d fields, want %d", line, s.n, len(want))
	}
	got := make([]string, 0, s.n)
	for _, f := range s.all() {
		got = append(got, string(f))
	}
	if kept := min(len(want), maxLineFields); !slices.Equal(got, want[:kept]) {
		t.Fatalf("%q: fields %q, want %q", line, got, want[:kept])
	}
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

func checkSplitCommas(t *testing.T, tuple string) {
	t.Helper()
	var s fieldSpans
	s.splitCommas([]byte(tuple))
	want := strings.Split(tuple, ",")
	if s.n != len(want) {
		t.Fatalf("%q: %d fields, want %d", tuple, s.n, len(want))
	}
	got := make([]string, 0, s.n)
	for _, f := range s.all() {
		got = append(got, string(f))
	}
	if kept := min(len(want), maxLineFields); !slices.Equal(got, want[:kept]) {
		t.Fatalf("%q: fields %q, want %q", tuple, got, want[:kept])
	}
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
