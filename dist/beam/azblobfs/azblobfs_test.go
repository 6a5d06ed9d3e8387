package azblobfs_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/flowsym/flowsym/dist/beam/azblobfs"
	"github.com/flowsym/flowsym/dist/beam/internal/beamtest"
	"github.com/flowsym/flowsym/ingest/ingesttest/emulator"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulator.StopAzurite()
	os.Exit(code)
}

// TestAgainstAzurite runs every operation Beam's I/O uses, through Beam's
// registry, against Azurite.
func TestAgainstAzurite(t *testing.T) {
	beamtest.Azurite(t, "beamfs")
	azblobfs.Register()
	azblobfs.Register() // twice is fine
	ctx := context.Background()
	root := "azblob://" + emulator.AzuriteAccount + "/beamfs/"
	fs, err := filesystem.New(ctx, root+"x")
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()

	big := bytes.Repeat([]byte("0123456789abcdef"), 600_000) // 9.6 MB: three staged blocks
	files := map[string][]byte{
		"logs/2026/11/20/a.log": []byte("a\n"),
		"logs/2026/11/20/b.log": []byte("bb\n"),
		"logs/2026/11/21/c.gz":  big,
		"other/d.log":           nil,
	}
	for name, data := range files {
		if err := filesystem.Write(ctx, fs, root+name, data); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		glob string
		want []string
	}{
		{"logs/2026/11/20/*", []string{"logs/2026/11/20/a.log", "logs/2026/11/20/b.log"}},
		{"logs/*", nil},
		{"logs/**", []string{"logs/2026/11/20/a.log", "logs/2026/11/20/b.log", "logs/2026/11/21/c.gz"}},
		{"**/*.log", []string{"logs/2026/11/20/a.log", "logs/2026/11/20/b.log", "other/d.log"}},
		{"logs/2026/11/2?/[ab].log", []string{"logs/2026/11/20/a.log", "logs/2026/11/20/b.log"}},
		{"other/d.log", []string{"other/d.log"}},
	} {
		t.Run(tc.glob, func(t *testing.T) {
			got, err := fs.List(ctx, root+tc.glob)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, root+w)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("List(%s) = %q, want %q", tc.glob, got, want)
			}
		})
	}

	data, err := filesystem.Read(ctx, fs, root+"logs/2026/11/21/c.gz")
	if err != nil || !bytes.Equal(data, big) {
		t.Fatalf("read back %d bytes of %d: %v", len(data), len(big), err)
	}
	if n, err := fs.Size(ctx, root+"logs/2026/11/21/c.gz"); err != nil || n != int64(len(big)) {
		t.Fatalf("Size = %d, %v", n, err)
	}
	if tm, err := fs.(filesystem.LastModifiedGetter).LastModified(ctx, root+"other/d.log"); err != nil || tm.IsZero() {
		t.Fatalf("LastModified = %v, %v", tm, err)
	}

	// A rename (Copy, then Remove) moves the bytes.
	if err := filesystem.Rename(ctx, fs, root+"logs/2026/11/21/c.gz", root+"final/c.gz"); err != nil {
		t.Fatal(err)
	}
	if got, _ := fs.List(ctx, root+"logs/2026/11/21/*"); len(got) != 0 {
		t.Fatalf("source still listed after rename: %q", got)
	}
	if data, err := filesystem.Read(ctx, fs, root+"final/c.gz"); err != nil || !bytes.Equal(data, big) {
		t.Fatalf("renamed blob: %d bytes, %v", len(data), err)
	}
	if err := fs.(filesystem.Remover).Remove(ctx, root+"final/c.gz"); err != nil {
		t.Fatal(err)
	}
	if err := fs.(filesystem.Remover).Remove(ctx, root+"final/c.gz"); err != nil {
		t.Fatalf("removing a missing blob: %v", err)
	}
	if _, err := fs.OpenRead(ctx, root+"final/c.gz"); err == nil {
		t.Fatal("opened a removed blob")
	}

	// A write is invisible until Close commits it.
	w, err := fs.OpenWrite(ctx, root+"pending/e.log")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, bytes.NewReader(big)); err != nil {
		t.Fatal(err)
	}
	if got, _ := fs.List(ctx, root+"pending/*"); len(got) != 0 {
		t.Fatalf("blob listed before Close: %q", got)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := fs.List(ctx, root+"pending/*"); len(got) != 1 {
		t.Fatalf("blob not listed after Close: %q", got)
	}
}

func TestBadPaths(t *testing.T) {
	fs := azblobfs.New(context.Background())
	for _, p := range []string{"s3://b/k", "azblob://", "azblob://acct", "azblob://acct/cont/"} {
		if _, err := fs.OpenRead(context.Background(), p); err == nil {
			t.Errorf("OpenRead(%q) succeeded", p)
		}
	}
}
