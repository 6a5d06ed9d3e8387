package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sdk "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/google/go-cmp/cmp"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/ingesttest/emulator"
	"github.com/flowsym/flowsym/ingest/stores"
)

// TestObjectStoresEndToEnd runs a scheduled normalize whose input, export
// and state all live in one object store, for each of S3 (gofakes3), GCS
// (fake-gcs-server) and Azure Blob (Azurite), reached through the official
// SDKs by the standard endpoint variables, as a user would: twice, the
// second run taking nothing again. The export read back equals a run over
// the same logs on local disk.
func TestObjectStoresEndToEnd(t *testing.T) {
	logs, err := estateLogs()
	if err != nil {
		t.Fatal(err)
	}
	awsLogs := filepath.Join(logs, "aws")
	local := filepath.Join(t.TempDir(), "local")
	if code, _, stderr := flowsym(t, "normalize", awsLogs, "--out", local, "--progress", "off"); code != exitOK {
		t.Fatalf("local run: exit %d: %s", code, stderr)
	}
	want := exportRows(t, local, awsLogs+"/")
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) string // starts the emulator, returns the bucket URL
	}{
		{"s3", func(t *testing.T) string {
			s := emulator.StartS3(t)
			emulator.S3Env(t, s.URL)
			s.CreateBucket(t, "flowlogs")
			return "s3://flowlogs"
		}},
		{"gcs", func(t *testing.T) string {
			g := emulator.StartGCS(t)
			emulator.GCSEnv(t, g.Host)
			g.CreateBucket(t, "flowlogs")
			return "gs://flowlogs"
		}},
		{"azblob", func(t *testing.T) string {
			a := emulator.StartAzurite(t)
			emulator.AzuriteConnEnv(t, a.URL)
			return "azblob://" + emulator.AzuriteAccount + "/flowlogs"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			bucket := tc.start(t)
			st, root, err := stores.Open(ctx, bucket+"/", stores.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if c, ok := st.(io.Closer); ok {
				defer c.Close()
			}
			if tc.name == "azblob" {
				admin, err := sdk.NewClientFromConnectionString(os.Getenv("AZURE_STORAGE_CONNECTION_STRING"), nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := admin.CreateContainer(ctx, "flowlogs", nil); err != nil {
					t.Fatal(err)
				}
			}
			upload(t, st, root, awsLogs)
			args := []string{"normalize", bucket + "/AWSLogs/", "--out", bucket + "/export", "--state", bucket + "/state/flowsym.json", "--progress", "off"}
			code, _, stderr := flowsym(t, args...)
			if code != exitOK {
				t.Fatalf("first run: exit %d: %s", code, stderr)
			}
			code, _, stderr = flowsym(t, args...)
			if code != exitOK || !strings.Contains(stderr, "wrote 0 rows") {
				t.Fatalf("second run: exit %d: %s", code, stderr)
			}
			got := download(t, st, root+"export/")
			if diff := cmp.Diff(want, exportRows(t, got, root)); diff != "" {
				t.Errorf("the export in %s differs from the local one (-local +store):\n%.2000s", tc.name, diff)
			}
		})
	}
}

func upload(t *testing.T, st ingest.Store, root, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		w, err := st.Create(context.Background(), root+filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
		return w.Commit()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// download copies every object under prefix into a temporary folder.
func download(t *testing.T, st ingest.Store, prefix string) string {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	err := st.List(ctx, prefix, func(o ingest.Object) error {
		r, err := st.Open(ctx, o.Name)
		if err != nil {
			return err
		}
		defer r.Close()
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(o.Name, prefix)))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
