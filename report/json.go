// Package report renders the correlator's results for people (text) and
// for tools (JSON, one finding per line), and a single connection's trace.
package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/flowsym/flowsym/correlate"
)

// JSON writes one finding per line in the shape ANALYSIS.md defines, which
// tools read: the field names are a contract.
func JSON(w io.Writer, findings []correlate.Finding) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := range findings {
		f := findings[i]
		if f.Observers == nil {
			f.Observers = []correlate.FindingObserver{}
		}
		if f.Evidence == nil {
			f.Evidence = []correlate.EvidenceRef{}
		}
		if err := enc.Encode(&f); err != nil {
			return fmt.Errorf("write findings: %w", err)
		}
	}
	return nil
}
