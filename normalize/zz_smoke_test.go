package normalize

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestZZSmoke(t *testing.T) {
	files, _ := filepath.Glob("/work/shared/samples/*/*")
	for _, f := range files {
		if filepath.Ext(f) == ".md" || filepath.Base(filepath.Dir(f)) == "aws" {
			continue
		}
		data, _ := os.ReadFile(f)
		head := data
		if len(head) > 4096 { head = head[:4096] }
		got := decode(t, Options{}, filepath.Base(f), data)
		fmt.Printf("== %s: detect=%s rows=%d problems=%q err=%v\n", filepath.Base(f), DetectFormat(filepath.Base(f), head), len(got.rows), got.problems, got.err)
		for i, d := range got.dumps {
			if i < 3 || i == len(got.dumps)-1 {
				fmt.Println("  ", d)
			}
		}
	}
}
