package correlate

import (
	"bytes"
	"net/netip"
)

// Endpoint is one side of a connection, packed: an address in its 16-byte
// form (IPv4 mapped into IPv6, as in the Arrow schema) and a port.
type Endpoint struct {
	Addr [16]byte
	Port uint16
}

// AddrPort returns the endpoint as a netip.AddrPort, IPv4 unmapped.
func (e Endpoint) AddrPort() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom16(e.Addr).Unmap(), e.Port)
}

// IP returns the endpoint's address, IPv4 unmapped.
func (e Endpoint) IP() netip.Addr { return netip.AddrFrom16(e.Addr).Unmap() }

func (e Endpoint) compare(f Endpoint) int {
	if c := bytes.Compare(e.Addr[:], f.Addr[:]); c != 0 {
		return c
	}
	switch {
	case e.Port < f.Port:
		return -1
	case e.Port > f.Port:
		return 1
	}
	return 0
}

// Key identifies a connection: the protocol and both endpoints in
// canonical order (A sorts before B), so the records of both directions
// get the same key. It is comparable and 37 bytes, like Tailscale's
// flowtrack.Tuple, so a map of millions of them stays compact.
type Key struct {
	A, B  Endpoint
	Proto uint8
}

// makeKey orders src and dst canonically; forward reports whether the
// record's own direction (src to dst) is A to B.
func makeKey(proto uint8, src, dst Endpoint) (k Key, ab bool) {
	if src.compare(dst) <= 0 {
		return Key{A: src, B: dst, Proto: proto}, true
	}
	return Key{A: dst, B: src, Proto: proto}, false
}
