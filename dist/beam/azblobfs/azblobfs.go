// Package azblobfs is an Azure Blob Storage file system for the Apache
// Beam Go SDK, which has none: it lets Beam read and write
// azblob://account/container/blob paths, the names flowsym gives Azure
// objects, through the official Azure SDK (azblob).
//
// Credentials are those of flowsym's own Azure store, in this order: a
// connection string in AZURE_STORAGE_CONNECTION_STRING (which also sets the
// endpoint, as for Azurite); a SAS token in AZURE_STORAGE_SAS_TOKEN; an
// account key in AZURE_STORAGE_KEY; otherwise azidentity's
// DefaultAzureCredential (workload identity, managed identity, environment
// service principal, Azure CLI). On a distributed runner they must be
// available on every worker.
//
// Beam's file systems are found through a process-wide registry; Register
// adds this one. Call it in main before beam.Init, so that workers, which
// run the same main, have it too.
package azblobfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	flowazblob "github.com/flowsym/flowsym/ingest/azblob"
)

// Scheme is the URL scheme the file system serves.
const Scheme = "azblob"

// Environment variables, as the Azure CLI and flowsym's Azure store name
// them.
const (
	EnvConnectionString = flowazblob.EnvConnectionString
	EnvSASToken         = flowazblob.EnvSASToken
	EnvKey              = flowazblob.EnvKey
	EnvAccount          = flowazblob.EnvAccount
)

var registerOnce sync.Once

// Register adds the file system to Beam's registry under "azblob". It may
// be called more than once.
func Register() {
	registerOnce.Do(func() { filesystem.Register(Scheme, New) })
}

// FS is the file system. It holds one client per storage account, made on
// first use from the environment.
type FS struct {
	mu      sync.Mutex
	clients map[string]*azblob.Client
	// blockSize is the size of the blocks a writer stages (4 MiB).
	blockSize int64
}

var (
	_ filesystem.Interface          = (*FS)(nil)
	_ filesystem.Remover            = (*FS)(nil)
	_ filesystem.Copier             = (*FS)(nil)
	_ filesystem.LastModifiedGetter = (*FS)(nil)
)

// New returns the file system; it has the signature filesystem.Register
// wants.
func New(context.Context) filesystem.Interface {
	return &FS{clients: map[string]*azblob.Client{}, blockSize: 4 << 20}
}

// Close implements filesystem.Interface.
func (f *FS) Close() error { return nil }

// path is a parsed azblob://account/container/blob.
type path struct {
	account, container, blob string
}

func parse(name string) (path, error) {
	rest, ok := strings.CutPrefix(name, Scheme+"://")
	if !ok {
		return path{}, fmt.Errorf("%q is not an azblob://account/container/blob path", name)
	}
	account, rest, _ := strings.Cut(rest, "/")
	cont, blobName, _ := strings.Cut(rest, "/")
	if account == "" || cont == "" {
		return path{}, fmt.Errorf("%q is not an azblob://account/container/blob path", name)
	}
	return path{account: account, container: cont, blob: blobName}, nil
}

func (p path) String() string { return Scheme + "://" + p.account + "/" + p.container + "/" + p.blob }

func (f *FS) container(p path) (*container.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.clients[p.account]
	if c == nil {
		var err error
		if c, err = newClient(p.account); err != nil {
			return nil, fmt.Errorf("azblob account %s: %w", p.account, err)
		}
		f.clients[p.account] = c
	}
	return c.ServiceClient().NewContainerClient(p.container), nil
}

func (f *FS) blob(name string) (*blockblob.Client, path, error) {
	p, err := parse(name)
	if err != nil {
		return nil, p, err
	}
	if p.blob == "" || strings.HasSuffix(p.blob, "/") {
		return nil, p, fmt.Errorf("%q names no blob", name)
	}
	c, err := f.container(p)
	if err != nil {
		return nil, p, err
	}
	return c.NewBlockBlobClient(p.blob), p, nil
}

// newClient builds the account's client as flowsym's Azure store does,
// with its credential order, retries and timeouts.
func newClient(account string) (*azblob.Client, error) {
	return flowazblob.NewClient(account, flowazblob.Options{})
}

// List implements filesystem.Interface. The glob's blob part matches as
// Beam's GCS file system matches: "*" and "?" within one level ("/" is the
// delimiter), "**" across levels, "[...]" a class. Only the blobs under
// the glob's literal prefix are listed.
func (f *FS) List(ctx context.Context, glob string) ([]string, error) {
	p, err := parse(glob)
	if err != nil {
		return nil, err
	}
	re, err := globRegexp(p.blob)
	if err != nil {
		return nil, fmt.Errorf("glob %q: %w", glob, err)
	}
	c, err := f.container(p)
	if err != nil {
		return nil, err
	}
	prefix := p.blob
	if i := strings.IndexAny(prefix, "*?["); i >= 0 {
		prefix = prefix[:i]
	}
	var out []string
	pager := c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", glob, err)
		}
		for _, item := range page.Segment.BlobItems {
			if item.Name != nil && re.MatchString(*item.Name) {
				out = append(out, path{p.account, p.container, *item.Name}.String())
			}
		}
	}
	return out, nil
}

// globRegexp compiles a blob-name glob.
func globRegexp(glob string) (*regexp.Regexp, error) {
	var sb strings.Builder
	sb.WriteString("^")
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; c {
		case '*':
			switch {
			case strings.HasPrefix(glob[i:], "**/"):
				sb.WriteString("(?:.*/)?")
				i += 2
			case strings.HasPrefix(glob[i:], "**"):
				sb.WriteString(".*")
				i++
			default:
				sb.WriteString("[^/]*")
			}
		case '?':
			sb.WriteString("[^/]")
		case '[':
			j := strings.IndexByte(glob[i+1:], ']')
			if j < 0 {
				return nil, errors.New("unclosed [")
			}
			class := glob[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			sb.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		default:
			sb.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	sb.WriteString("$")
	return regexp.Compile(sb.String())
}

// OpenRead implements filesystem.Interface. A read that breaks is resumed
// from where it stopped, pinned to the blob's ETag, up to five times.
func (f *FS) OpenRead(ctx context.Context, name string) (io.ReadCloser, error) {
	bc, _, err := f.blob(name)
	if err != nil {
		return nil, err
	}
	resp, err := bc.DownloadStream(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, describe(err))
	}
	return resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: 5}), nil
}

// OpenWrite implements filesystem.Interface with a block blob staged as
// bytes arrive (two blocks in flight): the blob changes only when Close
// commits the block list, so a reader never sees half of it. Close returns
// the upload's error.
func (f *FS) OpenWrite(ctx context.Context, name string) (io.WriteCloser, error) {
	bc, _, err := f.blob(name)
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	w := &writer{pw: pw, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		_, err := bc.UploadStream(ctx, pr, &blockblob.UploadStreamOptions{BlockSize: f.blockSize, Concurrency: 2})
		if err != nil {
			err = fmt.Errorf("write %s: %w", name, describe(err))
		}
		w.err = err
		pr.CloseWithError(err) // unblocks a Write after a failed upload
	}()
	return w, nil
}

type writer struct {
	pw   *io.PipeWriter
	done chan struct{}
	err  error
}

func (w *writer) Write(p []byte) (int, error) { return w.pw.Write(p) }

func (w *writer) Close() error {
	w.pw.Close()
	<-w.done
	return w.err
}

// Size implements filesystem.Interface.
func (f *FS) Size(ctx context.Context, name string) (int64, error) {
	bc, _, err := f.blob(name)
	if err != nil {
		return -1, err
	}
	props, err := bc.GetProperties(ctx, nil)
	if err != nil {
		return -1, fmt.Errorf("size of %s: %w", name, describe(err))
	}
	if props.ContentLength == nil {
		return -1, fmt.Errorf("size of %s: no content length", name)
	}
	return *props.ContentLength, nil
}

// LastModified implements filesystem.LastModifiedGetter.
func (f *FS) LastModified(ctx context.Context, name string) (time.Time, error) {
	bc, _, err := f.blob(name)
	if err != nil {
		return time.Time{}, err
	}
	props, err := bc.GetProperties(ctx, nil)
	if err != nil {
		return time.Time{}, fmt.Errorf("properties of %s: %w", name, describe(err))
	}
	if props.LastModified == nil {
		return time.Time{}, nil
	}
	return *props.LastModified, nil
}

// Remove implements filesystem.Remover. A blob already gone is not an
// error: a retried rename may remove twice.
func (f *FS) Remove(ctx context.Context, name string) error {
	bc, _, err := f.blob(name)
	if err != nil {
		return err
	}
	if _, err := bc.Delete(ctx, nil); err != nil && !isNotFound(err) {
		return fmt.Errorf("remove %s: %w", name, describe(err))
	}
	return nil
}

// Copy implements filesystem.Copier with a server-side copy inside the
// account (Copy Blob), waiting until it completes. filesystem.Rename is
// Copy then Remove: Azure Blob Storage has no rename outside hierarchical
// namespaces.
func (f *FS) Copy(ctx context.Context, oldpath, newpath string) error {
	src, sp, err := f.blob(oldpath)
	if err != nil {
		return err
	}
	dst, dp, err := f.blob(newpath)
	if err != nil {
		return err
	}
	if sp.account != dp.account {
		return fmt.Errorf("copy %s to %s: across storage accounts", oldpath, newpath)
	}
	resp, err := dst.StartCopyFromURL(ctx, src.URL(), nil)
	if err != nil {
		return fmt.Errorf("copy %s to %s: %w", oldpath, newpath, describe(err))
	}
	status := blob.CopyStatusType("")
	if resp.CopyStatus != nil {
		status = *resp.CopyStatus
	}
	// Inside one account a copy is usually done when the call returns; a
	// large one runs on, and its status is polled.
	for wait := 50 * time.Millisecond; status == blob.CopyStatusTypePending; wait = min(2*wait, 2*time.Second) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		props, err := dst.GetProperties(ctx, nil)
		if err != nil {
			return fmt.Errorf("copy %s to %s: %w", oldpath, newpath, describe(err))
		}
		if props.CopyStatus != nil {
			status = *props.CopyStatus
		}
	}
	if status != blob.CopyStatusTypeSuccess && status != "" {
		return fmt.Errorf("copy %s to %s: copy status %s", oldpath, newpath, status)
	}
	return nil
}

func isNotFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusNotFound
}

// describe shortens an SDK error to its code and status; the SDK's own
// message repeats the whole request.
func describe(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("%s (HTTP %d)", re.ErrorCode, re.StatusCode)
	}
	return err
}
