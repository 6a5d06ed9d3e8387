package normalize

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	gojson "github.com/goccy/go-json"
	"github.com/valyala/fastjson"
)

// BenchmarkJSONDecoders is the measurement behind the choice of JSON
// decoder for the GCP and Azure parsers (docs/formats-gcp-azure.md): each
// candidate reads the same generated objects and touches the fields a
// parser needs, without building rows. The Azure document is streamed
// record by record where the decoder can stream.
//
//	go test -run='^$' -bench='^BenchmarkJSONDecoders$' -count=6 ./normalize | benchstat -col /decoder -
func BenchmarkJSONDecoders(b *testing.B) {
	nsg := genAzureNSG(benchRows)
	gcp := genGCPVPC(benchRows / 4)
	run := func(name string, data []byte, f func(b *testing.B, data []byte)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				f(b, data)
			}
		})
	}

	run("format=azure-nsg/decoder=encoding-json-any", nsg, func(b *testing.B, data []byte) {
		var v any
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&v); err != nil {
			b.Fatal(err)
		}
	})
	streamStructs := func(b *testing.B, tokens func() error, more func() bool, decode func(*nsgStruct) error) {
		for range 3 { // {, "records", [
			if err := tokens(); err != nil {
				b.Fatal(err)
			}
		}
		for more() {
			var r nsgStruct
			if err := decode(&r); err != nil {
				b.Fatal(err)
			}
			r.touch()
		}
	}
	run("format=azure-nsg/decoder=encoding-json-struct", nsg, func(b *testing.B, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		streamStructs(b, func() error { _, err := dec.Token(); return err }, dec.More, func(r *nsgStruct) error { return dec.Decode(r) })
	})
	run("format=azure-nsg/decoder=goccy-struct", nsg, func(b *testing.B, data []byte) {
		dec := gojson.NewDecoder(bytes.NewReader(data))
		streamStructs(b, func() error { _, err := dec.Token(); return err }, dec.More, func(r *nsgStruct) error { return dec.Decode(r) })
	})
	run("format=azure-nsg/decoder=json-v2-struct", nsg, func(b *testing.B, data []byte) {
		dec := jsontext.NewDecoder(onlyReader{bytes.NewReader(data)})
		streamStructs(b, func() error { _, err := dec.ReadToken(); return err }, func() bool { return dec.PeekKind() == '{' },
			func(r *nsgStruct) error {
				return jsonv2.UnmarshalDecode(dec, r, jsonv2.MatchCaseInsensitiveNames(true))
			})
	})
	run("format=azure-nsg/decoder=fastjson-whole-document", nsg, func(b *testing.B, data []byte) {
		var p fastjson.Parser
		doc, err := p.ParseBytes(data)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range doc.GetArray("records") {
			touchNSG(r)
		}
	})
	run("format=azure-nsg/decoder=scanner-stream+fastjson", nsg, func(b *testing.B, data []byte) {
		var p fastjson.Parser
		w := newJSONWalker(onlyReader{bytes.NewReader(data)}, "records", [2]string{"record", "records"}, func(e *jsonElem) error {
			r, err := p.ParseBytes(e.raw)
			if err != nil {
				return err
			}
			touchNSG(r)
			return nil
		})
		if err := w.walk(b.Context()); err != nil {
			b.Fatal(err)
		}
	})
	run("format=azure-nsg/decoder=one-pass-record", nsg, func(b *testing.B, data []byte) {
		var l azureLayout
		w := newJSONWalker(onlyReader{bytes.NewReader(data)}, "records", [2]string{"record", "records"}, func(e *jsonElem) error {
			if !l.take(e.raw) {
				b.Fatal("a generated record did not take the one-pass reader")
			}
			_ = l.resID
			for _, t := range l.tuples {
				touched += len(t)
			}
			return nil
		})
		w.measure = l.measure
		if err := w.walk(b.Context()); err != nil {
			b.Fatal(err)
		}
	})

	run("format=gcp-vpc/decoder=encoding-json-any", gcp, func(b *testing.B, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		for {
			var v any
			if err := dec.Decode(&v); err == io.EOF {
				return
			} else if err != nil {
				b.Fatal(err)
			}
		}
	})
	lines := func(b *testing.B, data []byte, f func([]byte) error) {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if err := f(sc.Bytes()); err != nil {
				b.Fatal(err)
			}
		}
	}
	run("format=gcp-vpc/decoder=encoding-json-struct", gcp, func(b *testing.B, data []byte) {
		lines(b, data, func(l []byte) error { var e gcpStruct; return json.Unmarshal(l, &e) })
	})
	run("format=gcp-vpc/decoder=goccy-struct", gcp, func(b *testing.B, data []byte) {
		lines(b, data, func(l []byte) error { var e gcpStruct; return gojson.Unmarshal(l, &e) })
	})
	run("format=gcp-vpc/decoder=json-v2-struct", gcp, func(b *testing.B, data []byte) {
		lines(b, data, func(l []byte) error { var e gcpStruct; return jsonv2.Unmarshal(l, &e) })
	})
	run("format=gcp-vpc/decoder=fastjson", gcp, func(b *testing.B, data []byte) {
		var p fastjson.Parser
		lines(b, data, func(l []byte) error {
			v, err := p.ParseBytes(l)
			if err != nil {
				return err
			}
			pl := v.Get("jsonPayload")
			for _, k := range [...]string{"reporter", "bytes_sent", "packets_sent", "start_time", "end_time"} {
				_ = pl.GetStringBytes(k)
			}
			_ = pl.GetStringBytes("connection", "src_ip")
			_ = pl.GetStringBytes("src_instance", "vm_name")
			return nil
		})
	})
}

// onlyReader hides the concrete type of a reader, so that jsontext reads
// it as a stream (it reads a *bytes.Buffer or *bytes.Reader specially).
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

type nsgStruct struct {
	Time       string `json:"time"`
	ResourceID string `json:"resourceId"`
	Properties struct {
		Version int `json:"Version"`
		Flows   []struct {
			Rule  string `json:"rule"`
			Flows []struct {
				MAC        string   `json:"mac"`
				FlowTuples []string `json:"flowTuples"`
			} `json:"flows"`
		} `json:"flows"`
	} `json:"properties"`
}

var touched int

func (r *nsgStruct) touch() {
	for _, f := range r.Properties.Flows {
		for _, g := range f.Flows {
			for _, t := range g.FlowTuples {
				touched += len(t)
			}
		}
	}
}

func touchNSG(r *fastjson.Value) {
	_ = getFold(r, "resourceId")
	for _, f := range getFold(r, "properties").GetArray("flows") {
		for _, g := range f.GetArray("flows") {
			for _, t := range g.GetArray("flowTuples") {
				s, _ := t.StringBytes()
				touched += len(s)
			}
		}
	}
}

type gcpStruct struct {
	JSONPayload struct {
		BytesSent   string `json:"bytes_sent"`
		PacketsSent string `json:"packets_sent"`
		Reporter    string `json:"reporter"`
		StartTime   string `json:"start_time"`
		EndTime     string `json:"end_time"`
		Connection  struct {
			SrcIP    string `json:"src_ip"`
			DestIP   string `json:"dest_ip"`
			SrcPort  int    `json:"src_port"`
			DestPort int    `json:"dest_port"`
			Protocol int    `json:"protocol"`
		} `json:"connection"`
		SrcInstance  map[string]string `json:"src_instance"`
		DestInstance map[string]string `json:"dest_instance"`
		SrcVPC       map[string]string `json:"src_vpc"`
		DestVPC      map[string]string `json:"dest_vpc"`
	} `json:"jsonPayload"`
	Resource struct {
		Labels map[string]string `json:"labels"`
	} `json:"resource"`
}
