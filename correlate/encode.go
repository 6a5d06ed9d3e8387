package correlate

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The binary form of summaries, for spilling state to disk and for
// distributed engines that ship partial summaries between workers. It is
// versioned by its first byte; readers reject versions they do not know.
const encodingVersion = 1

var errCorrupt = errors.New("corrupt summary encoding")

// AppendBinary appends the binary form of a connection's sessions.
func (k Key) appendBinary(b []byte) []byte {
	b = append(b, k.A.Addr[:]...)
	b = binary.BigEndian.AppendUint16(b, k.A.Port)
	b = append(b, k.B.Addr[:]...)
	b = binary.BigEndian.AppendUint16(b, k.B.Port)
	return append(b, k.Proto)
}

const keyBytes = 16 + 2 + 16 + 2 + 1

func readKey(b []byte) (Key, []byte, error) {
	if len(b) < keyBytes {
		return Key{}, nil, errCorrupt
	}
	var k Key
	copy(k.A.Addr[:], b[0:16])
	k.A.Port = binary.BigEndian.Uint16(b[16:18])
	copy(k.B.Addr[:], b[18:34])
	k.B.Port = binary.BigEndian.Uint16(b[34:36])
	k.Proto = b[36]
	return k, b[keyBytes:], nil
}

// AppendBinary appends the binary form of s to b.
func (s *Session) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, encodingVersion)
	b = binary.AppendVarint(b, s.First)
	b = binary.AppendVarint(b, s.Last)
	b = binary.AppendVarint(b, s.Records)
	b = append(b, s.Flags)
	b = binary.AppendUvarint(b, uint64(len(s.natAddrs)))
	for _, a := range s.natAddrs {
		b = append(b, a[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(s.obs)))
	for i := range s.obs {
		o := &s.obs[i]
		b = binary.BigEndian.AppendUint64(b, o.obs)
		var f uint8
		for bit, set := range []bool{o.sawAB, o.sawBA, o.rejected} {
			if set {
				f |= 1 << bit
			}
		}
		b = append(b, f)
		b = binary.AppendVarint(b, o.pktsAB)
		b = binary.AppendVarint(b, o.pktsBA)
		b = binary.AppendUvarint(b, uint64(o.records))
		b = binary.AppendVarint(b, o.first)
		b = binary.AppendVarint(b, o.last)
		b = binary.AppendUvarint(b, uint64(o.evidence.n))
		for _, e := range o.evidence.list() {
			b = binary.AppendVarint(b, e.Time)
			b = binary.AppendVarint(b, e.Line)
			b = binary.AppendUvarint(b, uint64(len(e.Object)))
			b = append(b, e.Object...)
		}
	}
	return b, nil
}

// decoder reads the binary form; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint(limit uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > limit {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil || len(d.b) < n {
		d.err = errCorrupt
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

// uint64 reads 8 big-endian bytes; 0 once the input is short.
func (d *decoder) uint64() uint64 {
	if b := d.bytes(8); d.err == nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// addr16 reads a 16-byte address; zero once the input is short.
func (d *decoder) addr16() (a [16]byte) {
	if b := d.bytes(16); d.err == nil {
		copy(a[:], b)
	}
	return a
}

// intern lets a decoder share one string per object name.
type intern map[string]string

func (in intern) get(b []byte) string {
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	in[s] = s
	return s
}

// readSession decodes one session and returns the rest of the input.
func readSession(b []byte, names intern) (*Session, []byte, error) {
	d := &decoder{b: b}
	if v := d.bytes(1); d.err == nil && v[0] != encodingVersion {
		return nil, nil, fmt.Errorf("summary encoding version %d: this flowsym reads %d", v[0], encodingVersion)
	}
	s := &Session{First: d.varint(), Last: d.varint(), Records: d.varint()}
	if f := d.bytes(1); d.err == nil {
		s.Flags = f[0]
	}
	for range d.uvarint(4) {
		s.natAddrs = append(s.natAddrs, d.addr16())
	}
	n := d.uvarint(1 << 16)
	for range n {
		if d.err != nil {
			break
		}
		var o obsState
		o.obs = d.uint64()
		if f := d.bytes(1); d.err == nil {
			o.sawAB, o.sawBA, o.rejected = f[0]&1 != 0, f[0]&2 != 0, f[0]&4 != 0
		}
		o.pktsAB, o.pktsBA = d.varint(), d.varint()
		o.records = uint32(d.uvarint(1<<32 - 1))
		o.first, o.last = d.varint(), d.varint()
		for range d.uvarint(maxEvidence) {
			e := Evidence{Time: d.varint(), Line: d.varint()}
			e.Object = names.get(d.bytes(int(d.uvarint(1 << 20))))
			o.evidence.add(e)
		}
		s.obs = append(s.obs, o)
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	return s, d.b, nil
}

// appendKeyState appends a key and all its sessions.
func appendKeyState(b []byte, k Key, ks *keyState) ([]byte, error) {
	b = k.appendBinary(b)
	b = binary.AppendUvarint(b, uint64(len(ks.sessions)))
	var err error
	for _, s := range ks.sessions {
		if b, err = s.AppendBinary(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func readKeyState(b []byte, names intern) (Key, *keyState, []byte, error) {
	k, rest, err := readKey(b)
	if err != nil {
		return Key{}, nil, nil, err
	}
	d := &decoder{b: rest}
	n := d.uvarint(1 << 20)
	if d.err != nil {
		return Key{}, nil, nil, d.err
	}
	rest = d.b
	ks := &keyState{}
	for range n {
		var s *Session
		if s, rest, err = readSession(rest, names); err != nil {
			return Key{}, nil, nil, err
		}
		ks.sessions = append(ks.sessions, s)
	}
	return k, ks, rest, nil
}
