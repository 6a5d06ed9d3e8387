package ingest

import (
	"errors"
	"testing"
)

func TestBaseKey(t *testing.T) {
	b := Base("s3://logs/")
	for _, tc := range []struct {
		name, key string
		ok        bool
	}{
		{"s3://logs/AWSLogs/a.log.gz", "AWSLogs/a.log.gz", true},
		{"s3://logs", "", true},
		{"s3://logs/", "", true},
		{"AWSLogs/a.log.gz", "AWSLogs/a.log.gz", true},
		{"s3://other/a.log.gz", "", false},
		{"gs://logs/a.log.gz", "", false},
	} {
		key, err := b.Key(tc.name)
		if key != tc.key || (err == nil) != tc.ok {
			t.Errorf("Key(%q) = %q, %v; want %q, ok %v", tc.name, key, err, tc.key, tc.ok)
		}
	}
	if got := b.URL("a/b"); got != "s3://logs/a/b" {
		t.Errorf("URL = %q", got)
	}
}

func TestBaseObjectKey(t *testing.T) {
	b := Base("gs://logs/")
	if key, err := b.ObjectKey("open", "gs://logs/a/b.json"); key != "a/b.json" || err != nil {
		t.Errorf("ObjectKey of an object = %q, %v", key, err)
	}
	for _, name := range []string{"gs://logs", "gs://logs/a/", ""} {
		if _, err := b.ObjectKey("stat", name); !errors.Is(err, ErrNotFound) {
			t.Errorf("ObjectKey(%q) = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := b.ObjectKey("create", "s3://x/y"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("ObjectKey of another bucket's name = %v, want a plain error", err)
	}
}

func TestCheckRange(t *testing.T) {
	for _, tc := range []struct {
		start int64
		cr    string
		ok    bool
	}{
		{0, "", true},
		{100, "bytes 100-199/200", true},
		{100, "bytes 0-199/200", false},
		{100, "", false},
	} {
		if err := CheckRange("s3://b/k", tc.start, tc.cr); (err == nil) != tc.ok {
			t.Errorf("CheckRange(%d, %q) = %v, want ok %v", tc.start, tc.cr, err, tc.ok)
		}
	}
}
