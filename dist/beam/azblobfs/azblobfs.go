// Package azblobfs is an Azure Blob Storage file system for the Apache
// Beam Go SDK, which has none: it lets Beam read and write
// azblob://account/container/blob paths, the names flowsym gives Azure
// objects, through the official Azure SDK (azblob).
//
// It is an adapter: listing, resumable reads, block-staged writes, stats
// and deletes are flowsym's own Azure store (ingest/azblob), so they
// behave as in the CLI; only Copy (a server-side Copy Blob, for Beam's
// renames) calls the SDK directly.
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
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/flowsym/flowsym/ingest"
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

// FS is the file system. It holds one client per storage account and one
// store per container, made on first use from the environment.
type FS struct {
	mu      sync.Mutex
	clients map[string]*azblob.Client     // by account
	buckets map[string]*flowazblob.Bucket // by account/container
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
	return &FS{clients: map[string]*azblob.Client{}, buckets: map[string]*flowazblob.Bucket{}}
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

// client returns the account's client, made as flowsym's Azure store makes
// it (credential order, retries, timeouts).
func (f *FS) client(account string) (*azblob.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.clients[account]
	if c == nil {
		var err error
		if c, err = flowazblob.NewClient(account, flowazblob.Options{}); err != nil {
			return nil, fmt.Errorf("azblob account %s: %w", account, err)
		}
		f.clients[account] = c
	}
	return c, nil
}

// bucket returns the store of name's container.
func (f *FS) bucket(ctx context.Context, name string) (*flowazblob.Bucket, path, error) {
	p, err := parse(name)
	if err != nil {
		return nil, p, err
	}
	c, err := f.client(p.account)
	if err != nil {
		return nil, p, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := p.account + "/" + p.container
	b := f.buckets[id]
	if b == nil {
		if b, err = flowazblob.New(ctx, p.account, p.container, flowazblob.Options{Client: c}); err != nil {
			return nil, p, err
		}
		f.buckets[id] = b
	}
	return b, p, nil
}

// List implements filesystem.Interface. The glob's blob part matches as
// Beam's GCS file system matches: "*" and "?" within one level ("/" is the
// delimiter), "**" across levels, "[...]" a class. Only the blobs under
// the glob's literal prefix are listed.
func (f *FS) List(ctx context.Context, glob string) ([]string, error) {
	b, p, err := f.bucket(ctx, glob)
	if err != nil {
		return nil, err
	}
	re, err := globRegexp(p.blob)
	if err != nil {
		return nil, fmt.Errorf("glob %q: %w", glob, err)
	}
	prefix := p.blob
	if i := strings.IndexAny(prefix, "*?["); i >= 0 {
		prefix = prefix[:i]
	}
	base := path{p.account, p.container, ""}.String()
	var out []string
	err = b.List(ctx, prefix, func(o ingest.Object) error {
		if re.MatchString(strings.TrimPrefix(o.Name, base)) {
			out = append(out, o.Name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", glob, err)
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

// OpenRead implements filesystem.Interface with the store's resumable
// read: a read that breaks is resumed from where it stopped, pinned to the
// blob's ETag.
func (f *FS) OpenRead(ctx context.Context, name string) (io.ReadCloser, error) {
	b, _, err := f.bucket(ctx, name)
	if err != nil {
		return nil, err
	}
	return b.Open(ctx, name)
}

// OpenWrite implements filesystem.Interface with the store's block blob
// writer: the blob changes only when Close commits the block list, so a
// reader never sees half of it. Close returns the upload's error.
func (f *FS) OpenWrite(ctx context.Context, name string) (io.WriteCloser, error) {
	b, _, err := f.bucket(ctx, name)
	if err != nil {
		return nil, err
	}
	w, err := b.Create(ctx, name)
	if err != nil {
		return nil, err
	}
	return committer{w}, nil
}

// committer is an ObjectWriter that commits on Close.
type committer struct{ ingest.ObjectWriter }

func (c committer) Close() error { return c.Commit() }

// stat returns the blob's properties from the store.
func (f *FS) stat(ctx context.Context, name string) (ingest.Object, error) {
	b, _, err := f.bucket(ctx, name)
	if err != nil {
		return ingest.Object{}, err
	}
	return b.Stat(ctx, name)
}

// Size implements filesystem.Interface.
func (f *FS) Size(ctx context.Context, name string) (int64, error) {
	o, err := f.stat(ctx, name)
	if err != nil {
		return -1, err
	}
	return o.Size, nil
}

// LastModified implements filesystem.LastModifiedGetter.
func (f *FS) LastModified(ctx context.Context, name string) (time.Time, error) {
	o, err := f.stat(ctx, name)
	return o.Modified, err
}

// Remove implements filesystem.Remover. A blob already gone is not an
// error: a retried rename may remove twice.
func (f *FS) Remove(ctx context.Context, name string) error {
	b, _, err := f.bucket(ctx, name)
	if err != nil {
		return err
	}
	return b.Delete(ctx, name)
}

// blob returns the SDK client of one blob, for Copy.
func (f *FS) blob(name string) (*blockblob.Client, path, error) {
	p, err := parse(name)
	if err != nil {
		return nil, p, err
	}
	if p.blob == "" || strings.HasSuffix(p.blob, "/") {
		return nil, p, fmt.Errorf("%q names no blob", name)
	}
	c, err := f.client(p.account)
	if err != nil {
		return nil, p, err
	}
	return c.ServiceClient().NewContainerClient(p.container).NewBlockBlobClient(p.blob), p, nil
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

// describe shortens an SDK error to its code and status; the SDK's own
// message repeats the whole request.
func describe(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("%s (HTTP %d)", re.ErrorCode, re.StatusCode)
	}
	return err
}
