// Package emulator starts the object-store emulators that flowsym's store
// tests run against, all on loopback: gofakes3 (S3) and fake-gcs-server
// (GCS) in-process, and Azurite (Azure Blob) as a child process installed
// by `npm ci --prefix tools/azurite`. See ../shared/notes/EMULATORS.md for
// why these, and their quirks.
//
// The helpers that set environment variables use testing.TB.Setenv, so
// tests that call them cannot run in parallel with others.
package emulator

import (
	"bytes"
	"io"
	"log"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 is a gofakes3 server with an in-memory backend.
type S3 struct {
	URL     string // http://127.0.0.1:port
	Backend *s3mem.Backend
}

// StartS3 starts gofakes3 on a loopback port; it stops at the end of tb.
func StartS3(tb testing.TB) *S3 {
	tb.Helper()
	backend := s3mem.New()
	faker := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog()))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	// gofakes3 writes some error headers twice; net/http's complaint
	// about it is noise.
	srv := &http.Server{Handler: faker.Server(), ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return &S3{URL: "http://" + ln.Addr().String(), Backend: backend}
}

// CreateBucket creates a bucket.
func (s *S3) CreateBucket(tb testing.TB, name string) {
	tb.Helper()
	if err := s.Backend.CreateBucket(name); err != nil {
		tb.Fatal(err)
	}
}

// Put stores an object straight into the backend: fast (5 ms for 1,500
// objects) and without the checksum metadata that an SDK upload leaves,
// which gofakes3 would echo on ranged reads.
func (s *S3) Put(tb testing.TB, bucket, key string, data []byte) {
	tb.Helper()
	if _, err := s.Backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
		tb.Fatal(err)
	}
}

// Well-known, public test credentials (the AWS documentation's example
// keys); gofakes3 accepts any.
const (
	S3AccessKey = "AKIAIOSFODNN7EXAMPLE"
	S3SecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// S3Env points the AWS SDK's default chain at endpoint the way a user
// would (AWS_ENDPOINT_URL_S3), with static credentials and a region, and
// closes every door to the outside: no shared config or credentials
// files, no instance metadata (169.254.169.254 is not loopback).
func S3Env(tb testing.TB, endpoint string) {
	tb.Helper()
	dir := tb.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3":         endpoint,
		"AWS_ENDPOINT_URL":            "",
		"AWS_ACCESS_KEY_ID":           S3AccessKey,
		"AWS_SECRET_ACCESS_KEY":       S3SecretKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_PROFILE":                 "",
		"AWS_MAX_ATTEMPTS":            "",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
	} {
		tb.Setenv(k, v)
	}
}

// GCS is a fake-gcs-server listening on loopback.
type GCS struct {
	Server *fakestorage.Server
	Host   string // 127.0.0.1:port, for STORAGE_EMULATOR_HOST
}

// StartGCS starts fake-gcs-server on a loopback port; it stops at the end
// of tb. PublicHost must match the Host header of the client's XML reads,
// or every read is a false "object not found".
func StartGCS(tb testing.TB) *GCS {
	tb.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme:     "http",
		Host:       "127.0.0.1",
		Port:       0,
		PublicHost: "127.0.0.1",
		Writer:     discard{},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Stop)
	return &GCS{Server: srv, Host: strings.TrimPrefix(srv.URL(), "http://")}
}

// CreateBucket creates a bucket. fake-gcs-server slows down
// quadratically with the objects of one bucket (45 s for 6,000), so tests
// spread their objects over buckets.
func (g *GCS) CreateBucket(tb testing.TB, name string) {
	tb.Helper()
	g.Server.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: name})
}

// GCSEnv points cloud.google.com/go/storage at host (127.0.0.1:port) the
// way a user would: STORAGE_EMULATOR_HOST, which also turns
// authentication off, so no credentials are looked up and the metadata
// server is never asked.
func GCSEnv(tb testing.TB, host string) {
	tb.Helper()
	tb.Setenv("STORAGE_EMULATOR_HOST", host)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
