package normalize

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// walkAll returns the elements the walker hands over, compacted.
func walkAll(data []byte, oneByte bool) ([]string, error) {
	var got []string
	var in io.Reader = bytes.NewReader(data)
	if oneByte {
		in = iotest.OneByteReader(in) // every refill path
	}
	w := newJSONWalker(in, "records", [2]string{"record", "records"}, func(e *jsonElem) error {
		var buf bytes.Buffer
		if err := json.Compact(&buf, e.raw); err != nil {
			buf.Reset()
			buf.Write(e.raw) // the element's own parser reports it
		}
		got = append(got, buf.String())
		return nil
	})
	return got, w.walk(context.Background())
}

// checkWalk holds the walker to encoding/json on a document it accepts
// whole: {"records": [...]} or a top-level array hands over exactly the
// elements encoding/json sees, and no input, valid or not, makes it
// panic or hand over something that is not a cut of the input.
func checkWalk(t *testing.T, data []byte) {
	got, err := walkAll(data, false)
	slow, slowErr := walkAll(data, true)
	if len(got) != len(slow) || (err == nil) != (slowErr == nil) {
		t.Fatalf("refilling one byte at a time changed the walk: %d elements, %v; whole: %d, %v", len(slow), slowErr, len(got), err)
	}
	if err != nil && !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("walk error %v is neither damage nor an unknown format", err)
	}
	if !json.Valid(data) {
		return
	}
	var want []json.RawMessage
	var doc struct {
		Records []json.RawMessage `json:"records"`
	}
	switch {
	case bytes.HasPrefix(bytes.TrimSpace(data), []byte("[")):
		if json.Unmarshal(data, &want) != nil {
			return
		}
	case json.Unmarshal(data, &doc) == nil && doc.Records != nil && bytes.Count(bytes.ToLower(data), []byte(`"records"`)) == 1:
		want = doc.Records
	default:
		return
	}
	if err != nil {
		t.Fatalf("valid document: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d elements, encoding/json sees %d", len(got), len(want))
	}
	for i := range want {
		var buf bytes.Buffer
		_ = json.Compact(&buf, want[i])
		if got[i] != buf.String() {
			t.Fatalf("element %d is %s, encoding/json sees %s", i, got[i], buf.String())
		}
	}
}

func TestJSONWalker(t *testing.T) {
	for _, doc := range []string{
		`{"records":[{"a":1},{"b":"x\"]}"},[1,2],"s",3,true,null]}`,
		`{"x":{"records":[1]},"records":[{"a":"\\"},{"b":"\\\""}]}`,
		`[{"a":1} , {"b":[{}]}]`,
		` {"Records" : [ ] } `,
		`{"records":[{"a":1},]}`,
		`{"records":[{"a":1}}`,
		`{"records":[{"a":"cut`,
		`{"records":[{"a":1}`,
		`{"records":[1 2]}`,
		`{"a":1}{"b":2}`,
		`"just a string"`,
		`{"records":[{"a":"\u005d"}]}`,
		`{"records":5,"a":[1]}`,
	} {
		checkWalk(t, []byte(doc))
	}
}

func FuzzJSONWalker(f *testing.F) {
	f.Add([]byte(`{"records":[{"a":1},{"b":"x\"]}"}]}`))
	f.Add([]byte(`[{"a":[1,{"b":null}]},"\\"]`))
	f.Add([]byte(`{"records":[{"properties":{"flows":[{"flowTuples":["1,2"]}]}}],"x":1}`))
	f.Fuzz(checkWalk)
}
