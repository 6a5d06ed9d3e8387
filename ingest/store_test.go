package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/flowsym/flowsym/ingest"
)

func TestScrub(t *testing.T) {
	tests := []struct{ in, want string }{
		{
			`GET "https://acct.blob.core.windows.net/c/b.json?sv=2022-11-02&sp=r&sig=abc%2Bdef%3D": dial tcp: i/o timeout`,
			`GET "https://acct.blob.core.windows.net/c/b.json?REDACTED": dial tcp: i/o timeout`,
		},
		{
			"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0IGtleQ==;EndpointSuffix=core.windows.net",
			"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=REDACTED;EndpointSuffix=core.windows.net",
		},
		{"BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2022&sig=xyz", "BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=REDACTED"},
		{"proxy http://user:hunter2@proxy:3128/ refused", "proxy http://REDACTED@proxy:3128/ refused"},
		{"X-Amz-Credential=AKIA/20240101 X-Amz-Signature=deadbeef", "X-Amz-Credential=REDACTED X-Amz-Signature=REDACTED"},
		{"Authorization: Bearer eyJhbGciOi", "Authorization: REDACTED"},
		{"open s3://bucket/AWSLogs/x.log.gz: NoSuchKey (HTTP 404)", "open s3://bucket/AWSLogs/x.log.gz: NoSuchKey (HTTP 404)"},
		{"gs://b/compute.googleapis.com/vpc_flows/2024/05/01/10:00:00_10:59:59_S0.json", "gs://b/compute.googleapis.com/vpc_flows/2024/05/01/10:00:00_10:59:59_S0.json"},
	}
	for _, tt := range tests {
		if got := ingest.Scrub(tt.in); got != tt.want {
			t.Errorf("Scrub(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestOpErrorScrubs(t *testing.T) {
	err := ingest.Fail(ingest.ErrTransient, "open", "azblob://acct/c/b.json", "",
		errors.New(`Get "https://acct.blob.core.windows.net/c/b.json?se=2030&sig=SECRET": connection reset by peer`))
	if strings.Contains(err.Error(), "SECRET") || !strings.HasPrefix(err.Error(), "open azblob://acct/c/b.json: ") {
		t.Errorf("error %q", err)
	}
	if !errors.Is(err, ingest.ErrTransient) {
		t.Errorf("%v is not transient", err)
	}
	var oe *ingest.OpError
	if !errors.As(err, &oe) || oe.Op != "open" {
		t.Errorf("%v is not an OpError", err)
	}
}

func TestBackoff(t *testing.T) {
	p := ingest.RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for retry, nominal := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		nominal *= time.Millisecond
		for range 50 {
			d := p.Backoff(retry)
			if d < nominal/2 || d > nominal {
				t.Fatalf("retry %d: backoff %v outside [%v, %v]", retry, d, nominal/2, nominal)
			}
		}
	}
	if d := p.Backoff(1000); d > time.Second {
		t.Errorf("retry 1000: backoff %v past MaxDelay", d)
	}
	def := ingest.RetryPolicy{}.Defaults()
	if def.MaxAttempts != 8 || def.Resumes != 5 || def.StallTimeout != 30*time.Second || def.Timeout != 10*time.Minute {
		t.Errorf("defaults %+v", def)
	}
	if (ingest.RetryPolicy{Resumes: -1}).Defaults().Resumes != 0 {
		t.Error("Resumes -1 does not turn resumption off")
	}
}

// recordingUpload stands for an SDK upload: it reads the body to its end
// and "publishes" only then, as S3's manager and Azure's UploadStream do.
type recordingUpload struct {
	published []byte
	err       error
}

func (u *recordingUpload) upload(ctx context.Context, body io.Reader) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if u.err != nil {
		return u.err
	}
	u.published = b
	return nil
}

func TestUploadWriter(t *testing.T) {
	wrap := func(err error) error { return ingest.Fail(ingest.ErrTransient, "write", "s3://b/k", "", err) }
	t.Run("commit", func(t *testing.T) {
		u := &recordingUpload{}
		w := ingest.NewUploadWriter(context.Background(), u.upload, wrap)
		w.Write([]byte("hello, "))
		w.Write([]byte("world"))
		if u.published != nil {
			t.Error("published before Commit")
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		if string(u.published) != "hello, world" {
			t.Errorf("published %q", u.published)
		}
		if _, err := w.Write([]byte("x")); err == nil {
			t.Error("Write after Commit succeeded")
		}
		if err := w.Abort(); err != nil {
			t.Errorf("Abort after Commit: %v", err)
		}
	})
	t.Run("abort", func(t *testing.T) {
		u := &recordingUpload{}
		w := ingest.NewUploadWriter(context.Background(), u.upload, wrap)
		w.Write(bytes.Repeat([]byte("x"), 1<<20))
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if u.published != nil {
			t.Error("published after Abort")
		}
		if err := w.Commit(); err == nil {
			t.Error("Commit after Abort succeeded")
		}
	})
	t.Run("upload fails", func(t *testing.T) {
		u := &recordingUpload{err: errors.New("503 SlowDown")}
		w := ingest.NewUploadWriter(context.Background(), u.upload, wrap)
		w.Write([]byte("x"))
		err := w.Commit()
		if !errors.Is(err, ingest.ErrTransient) || !strings.Contains(err.Error(), "503 SlowDown") {
			t.Errorf("Commit: %v", err)
		}
	})
	t.Run("upload gives up early", func(t *testing.T) {
		failing := func(ctx context.Context, body io.Reader) error {
			body.Read(make([]byte, 10))
			return errors.New("403 AccessDenied")
		}
		w := ingest.NewUploadWriter(context.Background(), failing, wrap)
		var err error
		for range 100 {
			if _, err = w.Write(make([]byte, 1<<10)); err != nil {
				break
			}
		}
		if err == nil || !strings.Contains(err.Error(), "403 AccessDenied") {
			t.Errorf("Write after the upload failed: %v", err)
		}
		w.Abort()
	})
}
