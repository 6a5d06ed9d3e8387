package export

import (
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// docPath is the page that documents the analysis export.
const docPath = "../../docs/analysis-export.md"

// leafPaths lists a schema's columns as the docs name them: struct fields
// joined with dots, list elements marked [] (observers[].name).
func leafPaths(prefix string, t arrow.DataType, out *[]string) {
	switch t := t.(type) {
	case *arrow.StructType:
		for _, f := range t.Fields() {
			leafPaths(join(prefix, f.Name), f.Type, out)
		}
	case *arrow.ListType:
		if _, ok := t.Elem().(*arrow.StructType); ok {
			leafPaths(prefix+"[]", t.Elem(), out)
			return
		}
		*out = append(*out, prefix)
	default:
		*out = append(*out, prefix)
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// hiveType is a column's type in Athena (Hive) DDL.
func hiveType(t arrow.DataType) string {
	switch t := t.(type) {
	case *arrow.StructType:
		var fs []string
		for _, f := range t.Fields() {
			fs = append(fs, "`"+f.Name+"`:"+hiveType(f.Type))
		}
		return "struct<" + strings.Join(fs, ",") + ">"
	case *arrow.ListType:
		return "array<" + hiveType(t.Elem()) + ">"
	case *arrow.MapType:
		return "map<" + hiveType(t.KeyType()) + "," + hiveType(t.ItemType()) + ">"
	}
	switch t.ID() {
	case arrow.STRING:
		return "string"
	case arrow.INT32:
		return "int"
	case arrow.INT64:
		return "bigint"
	case arrow.BOOL:
		return "boolean"
	case arrow.TIMESTAMP:
		return "timestamp"
	}
	panic("no Hive type for " + t.String())
}

// hiveColumns is the column list of a CREATE EXTERNAL TABLE.
func hiveColumns(s *arrow.Schema) string {
	var cols []string
	for _, f := range s.Fields() {
		cols = append(cols, "  `"+f.Name+"` "+hiveType(f.Type))
	}
	return strings.Join(cols, ",\n")
}

// TestDocsDescribeEveryColumn: docs/analysis-export.md names every column
// of connections/ and findings/ in both schemas and every OCSF attribute,
// and its Athena tables declare the files' exact types.
func TestDocsDescribeEveryColumn(t *testing.T) {
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for name, s := range map[string]*arrow.Schema{
		"connections": connectionSchema, "findings": findingSchema,
		"OCSF flows": ocsfFlowSchema, "OCSF connections": ocsfConnectionSchema, "OCSF findings": ocsfFindingSchema,
	} {
		var paths []string
		for _, f := range s.Fields() {
			leafPaths(f.Name, f.Type, &paths)
		}
		for _, p := range paths {
			if rest, ok := strings.CutPrefix(p, "unmapped."); ok && strings.HasPrefix(name, "OCSF") {
				// flowsym's own columns, documented by their flowsym name:
				// check the first level only.
				p = "unmapped"
				if name != "OCSF flows" {
					p += "." + strings.TrimSuffix(strings.Split(rest, ".")[0], "[]")
				}
			}
			if !strings.Contains(doc, "`"+p+"`") {
				t.Errorf("%s: column `%s` is not in %s", name, p, docPath)
			}
		}
	}
	for name, s := range map[string]*arrow.Schema{"flowsym_connections": connectionSchema, "flowsym_findings": findingSchema,
		"ocsf_findings": ocsfFindingSchema} {
		if !strings.Contains(doc, "CREATE EXTERNAL TABLE "+name+" (\n"+hiveColumns(s)+"\n)") {
			t.Errorf("the Athena table %s in %s does not match the files:\n%s", name, docPath, hiveColumns(s))
		}
	}
}
