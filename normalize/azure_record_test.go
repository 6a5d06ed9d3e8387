package normalize

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowsym/flowsym/internal/samples"
)

// azureRun is what parsing one Azure document gave.
type azureRun struct {
	rows     []string
	problems []string
	err      string
	layout   int64 // records read in one pass
}

// parseAzureDoc parses data as an Azure document, with the one-pass record
// reader or, when checkedOnly, with fastjson alone.
func parseAzureDoc(t testing.TB, data []byte, checkedOnly bool) azureRun {
	t.Helper()
	var out decoded
	b, done := collectRows(t, &out)
	defer done()
	var run azureRun
	b.SetObject("fuzz.json")
	in := &Input{Name: "fuzz.json", R: bytes.NewReader(data), Report: func(p *Problem) error {
		run.problems = append(run.problems, p.Error())
		return nil
	}}
	o := &azureObject{in: in, b: b, checkedOnly: checkedOnly}
	if err := o.parse(context.Background()); err != nil {
		run.err = err.Error()
	}
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	run.rows, run.layout = out.dumps, o.layoutRecords
	return run
}

// sameAzureRuns fails unless both readers give the same rows and problems.
func sameAzureRuns(t *testing.T, data []byte) azureRun {
	t.Helper()
	fast, checked := parseAzureDoc(t, data, false), parseAzureDoc(t, data, true)
	layout := fast.layout
	fast.layout, checked.layout = 0, 0
	if diff := cmp.Diff(checked, fast, cmp.AllowUnexported(azureRun{})); diff != "" {
		t.Fatalf("the one-pass reader differs from fastjson (-fastjson +one-pass):\n%s\ninput: %.400q", diff, data)
	}
	fast.layout = layout
	return fast
}

// TestAzureRecordLayout: every Azure fixture and sample reads the same
// both ways, and the documents Azure writes take the one-pass reader.
func TestAzureRecordLayout(t *testing.T) {
	fixtures, _ := filepath.Glob(filepath.Join("..", "testdata", "azure", "*.json"))
	if len(fixtures) == 0 {
		t.Fatal("no Azure fixtures found")
	}
	same := func(t *testing.T, files []string) {
		for _, p := range files {
			t.Run(filepath.Base(p), func(t *testing.T) {
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				run := sameAzureRuns(t, data)
				t.Logf("%d rows, %d records in one pass", len(run.rows), run.layout)
			})
		}
	}
	same(t, fixtures)
	t.Run("samples", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(samples.Dir(t), "azure", "*.json"))
		same(t, files)
	})
	for name, data := range map[string][]byte{"nsg": genAzureNSG(500), "vnet": genAzureVNet(500)} {
		run := sameAzureRuns(t, data)
		if len(run.rows) != 500 || run.layout != 10 {
			t.Errorf("%s: %d rows, %d of 10 records in one pass", name, len(run.rows), run.layout)
		}
	}
}

// TestAzureRecordLayoutGivesUp: records the one-pass reader leaves to
// fastjson, which reads them the same or says what is wrong.
func TestAzureRecordLayoutGivesUp(t *testing.T) {
	nsg := func(props string) string {
		return `{"records":[{"resourceId":"/SUBSCRIPTIONS/S/NSG","properties":` + props + `}]}`
	}
	const flows = `"flows":[{"rule":"r","flows":[{"mac":"00-0d-3a-f8-78-56","flowTuples":["1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,A,B,,,,"]}]}]`
	for name, doc := range map[string]string{
		"escape":         nsg(`{"Version":2,` + strings.Replace(flows, `"r"`, `"r\u0041"`, 1) + `}`),
		"key case":       nsg(`{"version":2,` + flows + `}`),
		"key twice":      nsg(`{"Version":2,"Version":1,` + flows + `}`),
		"null":           nsg(`{"Version":null,` + flows + `}`),
		"version 3":      nsg(`{"Version":3,` + flows + `}`),
		"version string": nsg(`{"Version":"2",` + flows + `}`),
		"empty tuple":    nsg(`{"Version":2,` + strings.Replace(flows, `"1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,A,B,,,,"`, `""`, 1) + `}`),
		"number tuple":   nsg(`{"Version":2,` + strings.Replace(flows, `"1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,A,B,,,,"`, `7`, 1) + `}`),
		"trailing comma": nsg(`{"Version":2,` + flows + `,}`),
		"bad literal":    nsg(`{"Version":2,"x":tru,` + flows + `}`),
		"spaced number":  nsg(`{"Version":2,"x":1 .5,` + flows + `}`),
		"bad number":     nsg(`{"Version":2,"x":-01,` + flows + `}`),
		"no flows":       nsg(`{"Version":2}`),
		"both kinds":     `{"records":[{"flowRecords":{"flows":[]},"properties":{` + flows + `}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			run := sameAzureRuns(t, []byte(doc))
			if run.layout != 0 {
				t.Errorf("the one-pass reader took it")
			}
		})
	}
	for name, doc := range map[string]string{
		"plain": nsg(`{"Version":2,` + flows + `}`),
		// A VNet member in an NSG record is not the NSG record's version.
		"flowLogVersion in an NSG record": `{"records":[{"properties":{"Version":2,` + flows + `},"flowLogVersion":1}]}`,
	} {
		run := sameAzureRuns(t, []byte(doc))
		if run.layout != 1 || len(run.rows) != 1 {
			t.Errorf("%s: %d rows, %d records in one pass", name, len(run.rows), run.layout)
		}
	}
}

// FuzzAzureRecordLayout holds the one-pass reader to fastjson: the same
// rows and problems for any document.
//
//	go test -run='^$' -fuzz=FuzzAzureRecordLayout -fuzztime=60s ./normalize
func FuzzAzureRecordLayout(f *testing.F) {
	jsonFuzzSeeds(f, "azure", func(string) bool { return true })
	f.Add(genAzureNSG(30))
	f.Add(genAzureVNet(30))
	// Every kind of value in members the reader skips.
	f.Add([]byte(`{"records":[{"time":"t","n":[-0,0.0,1E+2,1e-0,0e5,-12.5e3],"b":[true,false,{},[]],"o":{"a":{"b":[1]}},` +
		`"resourceId":"/x","properties":{"Version":2,"flows":[{"rule":"r","flows":[{"mac":"m","flowTuples":["1542110377,10.0.0.4,13.67.143.118,44931,443,T,O,A,B,,,,"]}]}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > jsonFuzzMax {
			return
		}
		sameAzureRuns(t, data)
	})
}

// TestAzureRecordLayoutBufferEdge moves the scanner's 64 KiB buffer edge
// across records (the fuzzer's inputs are smaller than the buffer): a
// record measured in the buffer and one the scanner reads across a refill
// must stage the same rows.
func TestAzureRecordLayoutBufferEdge(t *testing.T) {
	doc := genAzureNSG(1500) // about 130 KB
	head := []byte(`{"records":[`)
	if !bytes.HasPrefix(doc, head) {
		t.Fatal("generated document has an unexpected start")
	}
	recLen := bytes.Index(doc[len(head):], []byte(",\r\n"))
	for pad := 0; pad < recLen; pad += 397 {
		shifted := append(append(append([]byte{}, head...), bytes.Repeat([]byte(" "), pad)...), doc[len(head):]...)
		run := sameAzureRuns(t, shifted)
		if len(run.rows) != 1500 || run.layout != 30 {
			t.Fatalf("padding %d: %d rows, %d of 30 records in one pass", pad, len(run.rows), run.layout)
		}
	}
}
