// Package azblob reads and writes flow-log blobs in Azure Blob Storage
// through the Azure SDK's azblob.
//
// Credentials, in this order: a connection string in
// AZURE_STORAGE_CONNECTION_STRING (which also sets the endpoint, as for
// Azurite); a SAS token from the URL the user gave or from
// AZURE_STORAGE_SAS_TOKEN; an account key in AZURE_STORAGE_KEY; otherwise
// azidentity's DefaultAzureCredential (environment service principal,
// workload identity, managed identity, Azure CLI, azd).
package azblob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/flowsym/flowsym/ingest"
)

// Options configure a Bucket. The zero value is ready to use.
type Options struct {
	// Client, when set, is used as it is, and New reads no environment.
	Client *azblob.Client
	// ServiceURL is the account's blob endpoint; empty means
	// https://<account>.blob.core.windows.net/. Set it for other clouds
	// (…blob.core.chinacloudapi.cn, …blob.core.usgovcloudapi.net).
	ServiceURL string
	// SAS is a shared access signature (the query string of a SAS URL),
	// used instead of any other credential.
	SAS string
	// PageSize is the number of blobs per listing request; 0 means 1,000
	// (Azure would give 5,000).
	PageSize int
	// Retry bounds retries, resumptions and timeouts.
	Retry ingest.RetryPolicy
	// BlockSize is the size of the blocks a writer stages; 0 means 4 MiB.
	// A writer holds up to two blocks in memory.
	BlockSize int64
}

// Bucket is one container. Object names are URLs:
// azblob://account/container/blob, whatever form the user gave.
type Bucket struct {
	client    *container.Client
	base      ingest.Base // "azblob://account/container/"
	pageSize  int32
	retry     ingest.RetryPolicy
	blockSize int64
}

var (
	_ ingest.Store              = (*Bucket)(nil)
	_ ingest.Stater             = (*Bucket)(nil)
	_ ingest.RangeOpener        = (*Bucket)(nil)
	_ ingest.ConditionalCreator = (*Bucket)(nil)
	_ ingest.DirLister          = (*Bucket)(nil)
)

// Environment variables, as the Azure CLI and SDK samples name them.
const (
	EnvConnectionString = "AZURE_STORAGE_CONNECTION_STRING"
	EnvSASToken         = "AZURE_STORAGE_SAS_TOKEN"
	EnvKey              = "AZURE_STORAGE_KEY"
	EnvAccount          = "AZURE_STORAGE_ACCOUNT"
)

// New returns the container named containerName of account. It makes no
// request: missing or wrong credentials show up at the first listing or
// read.
func New(ctx context.Context, account, containerName string, opts Options) (*Bucket, error) {
	if account == "" || containerName == "" {
		return nil, errors.New("azblob: empty account or container name")
	}
	p := opts.Retry.Defaults()
	b := &Bucket{
		base:      ingest.Base("azblob://" + account + "/" + containerName + "/"),
		pageSize:  1000,
		retry:     p,
		blockSize: 4 << 20,
	}
	if opts.PageSize > 0 {
		b.pageSize = int32(min(opts.PageSize, 5000))
	}
	if opts.BlockSize > 0 {
		b.blockSize = opts.BlockSize
	}
	svc := opts.Client
	if svc == nil {
		var err error
		svc, err = NewClient(account, opts)
		if err != nil {
			return nil, fmt.Errorf("azblob %s: %s", b.base, ingest.Scrub(err.Error()))
		}
	}
	b.client = svc.ServiceClient().NewContainerClient(containerName)
	return b, nil
}

// NewClient returns a service client for account, with credentials found
// as New finds them (opts.SAS, then the environment: a connection string, a
// SAS token, a shared key, else the default Azure credential chain) and
// the retries and timeouts of opts.Retry. Other code that reaches Azure
// Blob Storage (the Beam pipeline's file system) uses it so that
// credentials work the same everywhere.
func NewClient(account string, opts Options) (*azblob.Client, error) {
	p := opts.Retry.Defaults()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64 // one per concurrent object
	tr.ResponseHeaderTimeout = p.StallTimeout
	tr.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	co := &azblob.ClientOptions{ClientOptions: policy.ClientOptions{
		Retry: policy.RetryOptions{
			MaxRetries:    int32(p.MaxAttempts - 1),
			RetryDelay:    p.BaseDelay,
			MaxRetryDelay: p.MaxDelay,
		},
		Transport: &http.Client{Transport: tr},
	}}
	serviceURL := opts.ServiceURL
	if serviceURL == "" {
		serviceURL = "https://" + account + ".blob.core.windows.net/"
	}
	if cs := os.Getenv(EnvConnectionString); cs != "" && opts.SAS == "" {
		if name := connField(cs, "AccountName"); name != "" && name != account {
			return nil, fmt.Errorf("%s is for account %q, not %q", EnvConnectionString, name, account)
		}
		return azblob.NewClientFromConnectionString(cs, co)
	}
	sas := strings.TrimPrefix(opts.SAS, "?")
	if sas == "" {
		sas = strings.TrimPrefix(os.Getenv(EnvSASToken), "?")
	}
	if sas != "" {
		return azblob.NewClientWithNoCredential(strings.TrimSuffix(serviceURL, "/")+"/?"+sas, co)
	}
	if key := os.Getenv(EnvKey); key != "" {
		if a := os.Getenv(EnvAccount); a != "" && a != account {
			return nil, fmt.Errorf("%s is the key of account %q (%s), not %q", EnvKey, a, EnvAccount, account)
		}
		cred, err := azblob.NewSharedKeyCredential(account, key)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKey, err)
		}
		return azblob.NewClientWithSharedKeyCredential(serviceURL, cred, co)
	}
	cred, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: co.ClientOptions})
	if err != nil {
		return nil, err
	}
	return azblob.NewClient(serviceURL, cred, co)
}

// connField returns one field of a connection string.
func connField(cs, field string) string {
	for _, part := range strings.Split(cs, ";") {
		k, v, ok := strings.Cut(part, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), field) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// isFolder tells the directory entries of an account with a hierarchical
// namespace (Data Lake Storage), which flat listings return as empty
// blobs, from blobs.
func isFolder(md map[string]*string) bool {
	for k, v := range md {
		if strings.EqualFold(k, "hdi_isfolder") && v != nil && strings.EqualFold(*v, "true") {
			return true
		}
	}
	return false
}

func (b *Bucket) object(name string, p *container.BlobProperties) ingest.Object {
	o := ingest.Object{Name: b.base.URL(name)}
	if p != nil {
		if p.ContentLength != nil {
			o.Size = *p.ContentLength
		}
		if p.ETag != nil {
			o.ETag = quote(string(*p.ETag))
		}
		if p.LastModified != nil {
			o.Modified = p.LastModified.UTC()
		}
	}
	return o
}

// List implements ingest.Source.
func (b *Bucket) List(ctx context.Context, prefix string, fn func(ingest.Object) error) error {
	key, err := b.base.Key(prefix)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	pages := b.client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix:     &key,
		MaxResults: &b.pageSize,
		Include:    container.ListBlobsInclude{Metadata: true},
	})
	for pages.More() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return classify("list", b.base.URL(key), err)
		}
		for _, it := range page.Segment.BlobItems {
			name := deref(it.Name)
			if strings.HasSuffix(name, "/") || isFolder(it.Metadata) {
				continue
			}
			if err := fn(b.object(name, it.Properties)); err != nil {
				return err
			}
		}
	}
	return nil
}

// ListDir implements ingest.DirLister with Azure's hierarchy listing.
func (b *Bucket) ListDir(ctx context.Context, prefix string, fn func(ingest.Object) error) error {
	key, err := b.base.Key(prefix)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	pages := b.client.NewListBlobsHierarchyPager("/", &container.ListBlobsHierarchyOptions{
		Prefix:     &key,
		MaxResults: &b.pageSize,
		Include:    container.ListBlobsInclude{Metadata: true},
	})
	seen := map[string]bool{}
	for pages.More() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return classify("list", b.base.URL(key), err)
		}
		for _, it := range page.Segment.BlobItems {
			name := deref(it.Name)
			if strings.HasSuffix(name, "/") || isFolder(it.Metadata) {
				continue
			}
			if err := fn(b.object(name, it.Properties)); err != nil {
				return err
			}
		}
		for _, p := range page.Segment.BlobPrefixes {
			name := deref(p.Name)
			if seen[name] {
				continue
			}
			seen[name] = true
			if err := fn(ingest.Object{Name: b.base.URL(name)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// quote gives an ETag the form of the ETag header. Listings return it
// bare (0x8DC…), responses quoted ("0x8DC…"); callers compare them.
func quote(etag string) string {
	if etag == "" || strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, `W/"`) {
		return etag
	}
	return `"` + etag + `"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Stat implements ingest.Stater.
func (b *Bucket) Stat(ctx context.Context, name string) (ingest.Object, error) {
	key, err := b.base.ObjectKey("stat", name)
	if err != nil {
		return ingest.Object{}, err
	}
	props, err := b.client.NewBlobClient(key).GetProperties(ctx, nil)
	if err != nil {
		return ingest.Object{}, classify("stat", b.base.URL(key), err)
	}
	o := ingest.Object{Name: b.base.URL(key)}
	if props.ContentLength != nil {
		o.Size = *props.ContentLength
	}
	if props.ETag != nil {
		o.ETag = quote(string(*props.ETag))
	}
	if props.LastModified != nil {
		o.Modified = props.LastModified.UTC()
	}
	return o, nil
}

// Open implements ingest.Source. The reader resumes a body that fails
// half-way with ranged GETs pinned to the blob's ETag.
func (b *Bucket) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	return b.OpenRange(ctx, name, 0, -1)
}

// OpenRange implements ingest.RangeOpener: the way to read only what an
// hourly PT1H.json block blob gained since the last run.
func (b *Bucket) OpenRange(ctx context.Context, name string, offset, length int64) (io.ReadCloser, error) {
	key, err := b.base.ObjectKey("open", name)
	if err != nil {
		return nil, err
	}
	return ingest.OpenRange(ctx, b.base.URL(key), offset, length, b.retry, b.fetch(key))
}

func (b *Bucket) fetch(key string) ingest.Fetch {
	name := b.base.URL(key)
	bc := b.client.NewBlobClient(key)
	return func(ctx context.Context, start, end int64, etag string) (ingest.Fetched, error) {
		opts := &blob.DownloadStreamOptions{}
		if start > 0 || end >= 0 {
			count := int64(0) // to the end
			if end >= 0 {
				count = end - start
			}
			opts.Range = blob.HTTPRange{Offset: start, Count: count}
		}
		if etag != "" {
			e := azcore.ETag(etag)
			opts.AccessConditions = &blob.AccessConditions{ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: &e}}
		}
		resp, err := bc.DownloadStream(ctx, opts)
		if err != nil {
			var re *azcore.ResponseError
			if errors.As(err, &re) && (re.StatusCode == http.StatusRequestedRangeNotSatisfiable || re.ErrorCode == "InvalidRange") {
				return ingest.EmptyFetch(start), nil
			}
			return ingest.Fetched{}, classify("open", name, err)
		}
		if err := ingest.CheckRange(name, start, deref(resp.ContentRange)); err != nil {
			resp.Body.Close()
			return ingest.Fetched{}, err
		}
		f := ingest.Fetched{Body: resp.Body, End: -1}
		if resp.ETag != nil {
			f.ETag = quote(string(*resp.ETag))
		}
		if resp.ContentLength != nil {
			f.End = start + *resp.ContentLength
		}
		return f, nil
	}
}

// Create implements ingest.Store with a block blob: an object smaller than
// a block is sent in one request when Commit ends it; a larger one is
// staged block by block as bytes arrive and changes the blob only when
// Commit commits the block list. Blocks of an aborted write are never
// committed (Azure drops them after a week).
func (b *Bucket) Create(ctx context.Context, name string) (ingest.ObjectWriter, error) {
	return b.create(ctx, name, false, "")
}

// CreateIf implements ingest.ConditionalCreator with If-Match and
// If-None-Match on the commit of the block list.
func (b *Bucket) CreateIf(ctx context.Context, name, ifMatch string) (ingest.ObjectWriter, error) {
	return b.create(ctx, name, true, ifMatch)
}

func (b *Bucket) create(ctx context.Context, name string, conditional bool, ifMatch string) (ingest.ObjectWriter, error) {
	key, err := b.base.ObjectKey("create", name)
	if err != nil {
		return nil, err
	}
	var cond *blob.AccessConditions
	if conditional {
		mac := &blob.ModifiedAccessConditions{}
		if ifMatch == "" {
			star := azcore.ETagAny
			mac.IfNoneMatch = &star
		} else {
			e := azcore.ETag(ifMatch)
			mac.IfMatch = &e
		}
		cond = &blob.AccessConditions{ModifiedAccessConditions: mac}
	}
	bb := b.client.NewBlockBlobClient(key)
	upload := func(ctx context.Context, body io.Reader) error {
		// An object smaller than a block (a state file, most outputs) is
		// one Put Blob request; a larger one is staged block by block and
		// committed. Both replace the blob in one step.
		var head bytes.Buffer
		_, err := io.CopyN(&head, body, b.blockSize)
		if err == io.EOF {
			_, err = bb.Upload(ctx, streaming.NopCloser(bytes.NewReader(head.Bytes())), &blockblob.UploadOptions{AccessConditions: cond})
			return err
		}
		if err != nil {
			return err
		}
		_, err = bb.UploadStream(ctx, io.MultiReader(&head, body), &blockblob.UploadStreamOptions{
			BlockSize: b.blockSize, Concurrency: 2, AccessConditions: cond,
		})
		return err
	}
	wrap := func(err error) error { return classify("write", b.base.URL(key), err) }
	return ingest.NewUploadWriter(ctx, upload, wrap), nil
}

var xmlMessage = regexp.MustCompile(`<Message>([^<\n]*)`)

// classify wraps an SDK error as an OpError marked with its class; a
// context error is returned as it is (see s3.classify).
func classify(op, name string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var kind error
	var msg string
	var re *azcore.ResponseError
	var af *azidentity.AuthenticationFailedError
	switch {
	case errors.As(err, &re):
		msg = re.ErrorCode
		if m := xmlMessage.FindStringSubmatch(re.Error()); m != nil {
			msg += ": " + strings.TrimSpace(m[1])
		}
		msg = strings.TrimPrefix(fmt.Sprintf("%s (HTTP %d)", msg, re.StatusCode), " ")
		switch c := re.StatusCode; {
		case c == http.StatusNotFound:
			kind = ingest.ErrNotFound
		case c == http.StatusUnauthorized || c == http.StatusForbidden:
			kind = ingest.ErrPermission
		case c == http.StatusPreconditionFailed || re.ErrorCode == "ConditionNotMet" || re.ErrorCode == "BlobAlreadyExists":
			kind = ingest.ErrPrecondition
		case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
			kind = ingest.ErrTransient
		}
	case errors.As(err, &af), strings.Contains(err.Error(), "DefaultAzureCredential"), strings.Contains(err.Error(), "credential"):
		kind = ingest.ErrPermission
		msg = "no usable Azure credentials (connection string, SAS token, account key, or DefaultAzureCredential: environment, workload identity, managed identity, Azure CLI): " + err.Error()
	case ingest.IsNetworkError(err):
		kind = ingest.ErrTransient // refused, reset, timed out
	}
	return ingest.Fail(kind, op, name, msg, err)
}

var _ ingest.Deleter = (*Bucket)(nil)

// Delete implements ingest.Deleter.
func (b *Bucket) Delete(ctx context.Context, name string) error {
	key, err := b.base.Key(name)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if _, err := b.client.NewBlobClient(key).Delete(ctx, nil); err != nil {
		if err := classify("delete", b.base.URL(key), err); !errors.Is(err, ingest.ErrNotFound) {
			return err
		}
	}
	return nil
}
