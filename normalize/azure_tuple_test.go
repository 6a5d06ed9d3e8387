package normalize

import (
	"bytes"
	"fmt"
	"testing"
)

// The one-pass scanner must take the tuples Azure writes, and read every
// tuple it takes as the checked reader does. Tuples it gives up on are
// still read, by the checked reader, so giving up is never wrong; taking
// a tuple and reading it differently would be.

// scanTuples are tuples as Azure writes them, which the scanner must take.
var scanTuples = []struct {
	vnet    bool
	version int64
	tuple   string
}{
	{false, 1, "1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,A"},
	{false, 0, "1542110377,10.0.0.4,13.67.143.118,44931,443,U,I,D"},
	{false, 2, "1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,A,B,,,,"},
	{false, 2, "1542110402,10.0.0.4,13.67.143.118,44931,443,T,O,A,E,1,66,1,66"},
	{false, 2, "1542110424,10.0.0.4,13.67.143.117,44932,443,T,O,D,C,30,16978,24,14008"},
	{false, 0, "1763632800,0.0.0.0,255.255.255.255,0,65535,U,I,A,D,0,0,9223372036854775807,0"},
	{false, 2, "1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,A,C,,5,,"},
	{true, 4, "1663146003599,10.0.0.6,192.0.2.180,23956,443,6,O,B,NX,0,0,0,0"},
	{true, 4, "1663146003606,192.0.2.180,10.0.0.6,443,23956,6,I,E,NX,3,767,2,1580"},
	{true, 4, "1663146024645,10.0.0.6,192.0.2.180,23956,443,17,O,D,,0,0,0,0"},
	{true, 0, "1663146003,10.0.0.6,192.0.2.180,23956,443,T,O,C,Encrypted,7,700,5,500"},
}

func TestAzureTupleScan(t *testing.T) {
	for _, tc := range scanTuples {
		var fast azureTuple
		taken := scanNSG([]byte(tc.tuple), tc.version, &fast)
		if tc.vnet {
			taken = scanVNet([]byte(tc.tuple), &fast)
		}
		if !taken {
			t.Errorf("%s: the scanner gave it up", tc.tuple)
			continue
		}
		sameAsChecked(t, tc.vnet, tc.version, tc.tuple, &fast)
	}
}

// TestAzureTupleScanGivesUp: what the scanner leaves to the checked
// reader, which reads it or says what is wrong.
func TestAzureTupleScanGivesUp(t *testing.T) {
	for _, s := range []string{
		"1542110377,2001:db8::1,13.67.143.118,44931,443,T,O,A",                          // IPv6
		"1542110377,10.0.0.04,13.67.143.118,44931,443,T,O,A",                            // leading zero
		"1542110377,10.0.0.256,13.67.143.118,44931,443,T,O,A",                           // octet
		"1542110377,10.0.0.4,13.67.143.118,,443,T,O,A",                                  // empty port
		"1542110377,10.0.0.4,13.67.143.118,44931,65536,T,O,A",                           // port
		"1542110377,10.0.0.4,13.67.143.118,44931,443,X,O,A",                             // protocol
		"1542110377,10.0.0.4,13.67.143.118,44931,443,T,X,A",                             // direction
		"1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,AA",                            // decision
		"1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,A,",                            // 9 fields
		"1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,A,C,1,2,3",                     // 12 fields
		"1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,A,B,,,,,",                      // 14 fields
		"1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,A,C,1,2,3,9223372036854775808", // counter
		"01234567890123456789,10.0.0.4,13.67.143.118,44931,443,T,O,A",                   // 20 digits
		" 1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,A",
		"",
	} {
		var fast azureTuple
		if scanNSG([]byte(s), 0, &fast) {
			t.Errorf("%q: the scanner took it", s)
		}
	}
	// A Version 1 record with a Version 2 tuple, and the reverse.
	var fast azureTuple
	if scanNSG([]byte(scanTuples[3].tuple), 1, &fast) || scanNSG([]byte(scanTuples[0].tuple), 2, &fast) {
		t.Error("the scanner took a tuple of the other version")
	}
}

// FuzzAzureTupleScan holds the scanner to the checked reader: whatever it
// takes, the checked reader takes too and reads the same.
//
//	go test -run='^$' -fuzz=FuzzAzureTupleScan -fuzztime=30s ./normalize
func FuzzAzureTupleScan(f *testing.F) {
	for _, tc := range scanTuples {
		f.Add(tc.tuple, uint8(tc.version))
	}
	f.Fuzz(func(t *testing.T, s string, version uint8) {
		v := int64(version % 3)
		var fast azureTuple
		if scanNSG([]byte(s), v, &fast) {
			sameAsChecked(t, false, v, s, &fast)
		}
		if scanVNet([]byte(s), &fast) {
			sameAsChecked(t, true, v, s, &fast)
		}
		if n, end := number([]byte(s+","), 0); end == len(s)+1 {
			if want, ok := parseUint([]byte(s)); !ok || n != want {
				t.Fatalf("number(%q) = %d, parseUint says %d, %v", s, n, want, ok)
			}
		}
	})
}

// sameAsChecked fails unless the checked reader reads s as fast.
func sameAsChecked(t *testing.T, vnet bool, version int64, s string, fast *azureTuple) {
	t.Helper()
	var slow azureTuple
	o := &azureObject{}
	var err error
	if vnet {
		err = o.checkVNet([]byte(s), &slow)
	} else {
		err = o.checkNSG([]byte(s), version, &slow)
	}
	if err != nil {
		t.Fatalf("%q (vnet %v, version %d): the scanner took it, the checked reader says %v", s, vnet, version, err)
	}
	if a, b := fmt.Sprintf("%+v", meaning(fast)), fmt.Sprintf("%+v", meaning(&slow)); a != b || !bytes.Equal(fast.enc, slow.enc) {
		t.Fatalf("%q (vnet %v, version %d): scanned as\n%s, checked as\n%s", s, vnet, version, a, b)
	}
}

// meaning is what stage reads of a tuple: values not present are not.
func meaning(t *azureTuple) azureTuple {
	m := *t
	m.enc = nil
	for k := range m.counts {
		if m.has&(hasCount<<k) == 0 || m.connectionOnly() {
			m.counts[k] = 0
		}
	}
	for k := range m.ports {
		if m.has&(hasPort<<k) == 0 {
			m.ports[k] = 0
		}
	}
	if m.connectionOnly() {
		m.has &^= hasCount * 0xf
	}
	return m
}
