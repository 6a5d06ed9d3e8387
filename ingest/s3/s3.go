// Package s3 reads and writes flow-log objects in Amazon S3 and in
// S3-compatible stores, through aws-sdk-go-v2.
//
// Credentials and the region come from the SDK's default chain
// (environment, shared config and SSO profiles, web identity as in IRSA,
// container and instance roles). An endpoint set the standard way, with
// AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (or endpoint_url in the shared
// config), points the client at an S3-compatible store or an emulator and
// switches to path-style addressing, which such stores expect.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/flowsym/flowsym/ingest"
)

// Options configure a Bucket. The zero value is ready to use.
type Options struct {
	// Client, when set, is used as it is, and New reads no configuration.
	Client *awss3.Client
	// PageSize is the number of keys per listing request; 0 means 1,000,
	// the most S3 returns.
	PageSize int
	// Retry bounds retries, resumptions and timeouts.
	Retry ingest.RetryPolicy
	// PartSize is the part size of multipart uploads; 0 means 8 MiB. A
	// writer holds up to four parts in memory.
	PartSize int64
}

// Bucket is one S3 bucket. Object names are URLs: s3://bucket/key.
type Bucket struct {
	client   *awss3.Client
	bucket   string
	base     ingest.Base // "s3://bucket/"
	pageSize int32
	retry    ingest.RetryPolicy
	partSize int64
}

var (
	_ ingest.Store              = (*Bucket)(nil)
	_ ingest.Stater             = (*Bucket)(nil)
	_ ingest.RangeOpener        = (*Bucket)(nil)
	_ ingest.ConditionalCreator = (*Bucket)(nil)
	_ ingest.DirLister          = (*Bucket)(nil)
)

// New returns the bucket named bucket. Unless opts.Client is set, it loads
// the default AWS configuration; when no region is configured it asks S3
// where the bucket is. No request is made otherwise: missing credentials
// show up at the first listing or read.
func New(ctx context.Context, bucket string, opts Options) (*Bucket, error) {
	if bucket == "" {
		return nil, errors.New("s3: empty bucket name")
	}
	b := &Bucket{
		client:   opts.Client,
		bucket:   bucket,
		base:     ingest.Base("s3://" + bucket + "/"),
		pageSize: 1000,
		retry:    opts.Retry.Defaults(),
		partSize: 8 << 20,
	}
	if opts.PageSize > 0 {
		b.pageSize = int32(min(opts.PageSize, 1000))
	}
	if opts.PartSize > 0 {
		b.partSize = max(opts.PartSize, manager.MinUploadPartSize)
	}
	if b.client == nil {
		c, err := newClient(ctx, bucket, b.retry)
		if err != nil {
			return nil, err
		}
		b.client = c
	}
	return b, nil
}

// endpointFromEnv returns the custom endpoint set by the environment, if any.
func endpointFromEnv() string {
	if e := os.Getenv("AWS_ENDPOINT_URL_S3"); e != "" {
		return e
	}
	return os.Getenv("AWS_ENDPOINT_URL")
}

func newClient(ctx context.Context, bucket string, p ingest.RetryPolicy) (*awss3.Client, error) {
	// A BuildableClient rather than an *http.Client: the SDK can then add
	// AWS_CA_BUNDLE to it (an *http.Client makes LoadDefaultConfig fail
	// when AWS_CA_BUNDLE is set).
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		// One idle connection per concurrent object, for --concurrency
		// up to 64 (the SDK keeps 10, and reconnects beyond that).
		tr.MaxIdleConnsPerHost = 64
		tr.ResponseHeaderTimeout = p.StallTimeout
	})
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(httpClient))
	if err != nil {
		return nil, fmt.Errorf("s3: load AWS configuration: %s", ingest.Scrub(err.Error()))
	}
	attempts := p.MaxAttempts
	if cfg.RetryMaxAttempts > 0 { // AWS_MAX_ATTEMPTS or max_attempts wins
		attempts = cfg.RetryMaxAttempts
	}
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.MaxBackoff = p.MaxDelay
			o.Backoff = backoff(p)
			// The client-side retry quota fails requests fast once many
			// have been retried; a bulk download under throttling should
			// back off instead, as the backoff above does.
			o.RateLimiter = ratelimit.None
		})
	}
	endpoint := endpointFromEnv()
	custom := endpoint != "" || cfg.BaseEndpoint != nil
	if cfg.Region == "" {
		if custom {
			cfg.Region = "us-east-1" // S3-compatible stores accept any
		} else {
			region, err := manager.GetBucketRegion(ctx, awss3.NewFromConfig(cfg, func(o *awss3.Options) { o.Region = "us-east-1" }), bucket)
			if err != nil {
				return nil, ingest.Fail(ingest.ErrTransient, "find the region of", "s3://"+bucket,
					"no region is configured (set AWS_REGION) and asking S3 failed: "+describe(err), err)
			}
			cfg.Region = region
		}
	}
	return awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		o.DisableLogOutputChecksumValidationSkipped = true
		if custom {
			o.UsePathStyle = true
		}
	}), nil
}

// backoff adapts RetryPolicy.Backoff to the SDK's retryer.
type backoff ingest.RetryPolicy

func (b backoff) BackoffDelay(attempt int, err error) (time.Duration, error) {
	return ingest.RetryPolicy(b).Backoff(attempt - 1), nil
}

// List implements ingest.Source. Keys ending in "/" (the "folders" the S3
// console creates) are skipped.
func (b *Bucket) List(ctx context.Context, prefix string, fn func(ingest.Object) error) error {
	return b.list(ctx, prefix, "", fn)
}

// ListDir implements ingest.DirLister with S3's delimiter listing.
func (b *Bucket) ListDir(ctx context.Context, prefix string, fn func(ingest.Object) error) error {
	return b.list(ctx, prefix, "/", fn)
}

func (b *Bucket) list(ctx context.Context, prefix, delimiter string, fn func(ingest.Object) error) error {
	key, err := b.base.Key(prefix)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	in := &awss3.ListObjectsV2Input{Bucket: &b.bucket, Prefix: &key, MaxKeys: &b.pageSize}
	if delimiter != "" {
		in.Delimiter = &delimiter
	}
	pages := awss3.NewListObjectsV2Paginator(b.client, in)
	seen := map[string]bool{} // gofakes3 repeats a prefix across pages
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return classify("list", b.base.URL(key), err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			if strings.HasSuffix(k, "/") {
				continue
			}
			obj := ingest.Object{Name: b.base.URL(k), Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag), Modified: aws.ToTime(o.LastModified)}
			if err := fn(obj); err != nil {
				return err
			}
		}
		for _, cp := range page.CommonPrefixes {
			p := aws.ToString(cp.Prefix)
			if seen[p] {
				continue
			}
			seen[p] = true
			if err := fn(ingest.Object{Name: b.base.URL(p)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stat implements ingest.Stater.
func (b *Bucket) Stat(ctx context.Context, name string) (ingest.Object, error) {
	key, err := b.base.ObjectKey("stat", name)
	if err != nil {
		return ingest.Object{}, err
	}
	out, err := b.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &b.bucket, Key: &key})
	if err != nil {
		return ingest.Object{}, classify("stat", b.base.URL(key), err)
	}
	return ingest.Object{Name: b.base.URL(key), Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag), Modified: aws.ToTime(out.LastModified)}, nil
}

// Open implements ingest.Source. The reader resumes a body that fails
// half-way with ranged GETs pinned to the object's ETag.
func (b *Bucket) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	return b.OpenRange(ctx, name, 0, -1)
}

// OpenRange implements ingest.RangeOpener.
func (b *Bucket) OpenRange(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	key, err := b.base.ObjectKey("open", name)
	if err != nil {
		return nil, err
	}
	return ingest.OpenRange(ctx, b.base.URL(key), offset, length, b.retry, b.fetch(key))
}

func (b *Bucket) fetch(key string) ingest.Fetch {
	name := b.base.URL(key)
	return func(ctx context.Context, start, end int64, etag string) (ingest.Fetched, error) {
		in := &awss3.GetObjectInput{Bucket: &b.bucket, Key: &key}
		var opts []func(*awss3.Options)
		if start > 0 || end >= 0 {
			r := "bytes=" + strconv.FormatInt(start, 10) + "-"
			if end >= 0 {
				r += strconv.FormatInt(end-1, 10)
			}
			in.Range = &r
			// S3 sends no checksum for part of an object; gofakes3 sends
			// the whole object's, which the SDK would check the part
			// against and fail. Either way there is nothing to validate.
			opts = append(opts, func(o *awss3.Options) {
				o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
			})
		}
		if etag != "" {
			in.IfMatch = &etag
		}
		out, err := b.client.GetObject(ctx, in, opts...)
		if err != nil {
			if status, code := statusOf(err); status == http.StatusRequestedRangeNotSatisfiable || code == "InvalidRange" {
				return ingest.EmptyFetch(start), nil
			}
			return ingest.Fetched{}, classify("open", name, err)
		}
		if err := ingest.CheckRange(name, start, aws.ToString(out.ContentRange)); err != nil {
			out.Body.Close()
			return ingest.Fetched{}, err
		}
		f := ingest.Fetched{Body: out.Body, ETag: aws.ToString(out.ETag), End: -1}
		if out.ContentLength != nil {
			f.End = start + *out.ContentLength
		}
		return f, nil
	}
}

// Create implements ingest.Store with the SDK's upload manager: one PUT
// for objects smaller than a part, a multipart upload otherwise. Both are
// atomic in S3; Abort aborts the multipart upload.
func (b *Bucket) Create(ctx context.Context, name string) (ingest.ObjectWriter, error) {
	return b.create(ctx, name, false, "")
}

// CreateIf implements ingest.ConditionalCreator with If-Match and
// If-None-Match on the PUT (or on completing the multipart upload).
func (b *Bucket) CreateIf(ctx context.Context, name, ifMatch string) (ingest.ObjectWriter, error) {
	return b.create(ctx, name, true, ifMatch)
}

func (b *Bucket) create(ctx context.Context, name string, conditional bool, ifMatch string) (ingest.ObjectWriter, error) {
	key, err := b.base.ObjectKey("create", name)
	if err != nil {
		return nil, err
	}
	in := &awss3.PutObjectInput{Bucket: &b.bucket, Key: &key}
	if conditional {
		if ifMatch == "" {
			in.IfNoneMatch = aws.String("*")
		} else {
			in.IfMatch = &ifMatch
		}
	}
	// The upload manager is deprecated in favour of feature/s3/transfermanager,
	// which is still a v0 module; the manager is stable, streams a body of
	// unknown length in parts, and is what the emulator notes verified.
	//lint:ignore SA1019 see above
	up := manager.NewUploader(b.client, func(u *manager.Uploader) {
		u.PartSize = b.partSize
		u.Concurrency = 3
	})
	upload := func(ctx context.Context, body io.Reader) error {
		in.Body = body
		//lint:ignore SA1019 the manager, as above
		_, err := up.Upload(ctx, in)
		return err
	}
	wrap := func(err error) error { return classify("write", b.base.URL(key), err) }
	return ingest.NewUploadWriter(ctx, upload, wrap), nil
}

// statusOf returns the HTTP status and the S3 error code of err.
func statusOf(err error) (int, string) {
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	return status, code
}

var (
	notFoundCodes   = map[string]bool{"NoSuchKey": true, "NotFound": true, "NoSuchBucket": true}
	permissionCodes = map[string]bool{
		"AccessDenied": true, "Forbidden": true, "InvalidAccessKeyId": true, "SignatureDoesNotMatch": true,
		"ExpiredToken": true, "InvalidToken": true, "TokenRefreshRequired": true, "AllAccessDisabled": true,
		"AccountProblem": true, "UnauthorizedAccess": true,
	}
	preconditionCodes = map[string]bool{"PreconditionFailed": true, "ConditionalRequestConflict": true}
)

// classify wraps an SDK error as an OpError marked with its class. A
// context error is returned as it is: the caller's context ended, or
// OpenResumable aborted a stalled attempt, and each knows which.
func classify(op, name string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var rse *smithyhttp.RequestSendError
	status, code := statusOf(err)
	var kind error
	var se *v4.SigningError
	switch {
	case notFoundCodes[code] || status == http.StatusNotFound:
		kind = ingest.ErrNotFound
	case permissionCodes[code] || status == http.StatusForbidden || status == http.StatusUnauthorized:
		kind = ingest.ErrPermission
	case preconditionCodes[code] || status == http.StatusPreconditionFailed:
		kind = ingest.ErrPrecondition
	case errors.As(err, &se):
		kind = ingest.ErrPermission
	case status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || retryableCode(code):
		kind = ingest.ErrTransient
	case status == 0 && (errors.As(err, &rse) || ingest.IsNetworkError(err)):
		kind = ingest.ErrTransient // refused, reset, timed out
	}
	return ingest.Fail(kind, op, name, describe(err), err)
}

// describe renders an SDK error briefly: the S3 code, message and status,
// or the network failure, and how many attempts were made.
func describe(err error) string {
	var msg string
	status, code := statusOf(err)
	var ae smithy.APIError
	var se *v4.SigningError
	switch {
	case errors.As(err, &se):
		msg = "no usable AWS credentials (environment, shared config or SSO profile, web identity, container or instance role): " + se.Err.Error()
	case errors.As(err, &ae):
		msg = code
		if m := ae.ErrorMessage(); m != "" && m != code {
			msg += ": " + m
		}
		if status != 0 {
			msg += fmt.Sprintf(" (HTTP %d)", status)
		}
	default:
		msg = innermost(err).Error()
	}
	var me *retry.MaxAttemptsError
	if errors.As(err, &me) {
		msg = fmt.Sprintf("gave up after %d attempts: %s", me.Attempt, msg)
	}
	return msg
}

// innermost unwraps the SDK's operation, retry and send errors down to
// the one that says what happened ("connection reset by peer").
func innermost(err error) error {
	for {
		switch e := err.(type) {
		case *smithy.OperationError:
			err = e.Err
		case *retry.MaxAttemptsError:
			err = e.Err
		case *smithyhttp.RequestSendError:
			err = e.Err
		default:
			return err
		}
	}
}

func retryableCode(code string) bool {
	_, throttle := retry.DefaultThrottleErrorCodes[code]
	_, retryable := retry.DefaultRetryableErrorCodes[code]
	return throttle || retryable
}

var _ ingest.Deleter = (*Bucket)(nil)

// Delete implements ingest.Deleter.
func (b *Bucket) Delete(ctx context.Context, name string) error {
	key, err := b.base.Key(name)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if _, err := b.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &b.bucket, Key: &key}); err != nil {
		if err := classify("delete", b.base.URL(key), err); !errors.Is(err, ingest.ErrNotFound) {
			return err
		}
	}
	return nil
}
