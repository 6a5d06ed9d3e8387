// Package stores opens the ingest.Store that a location names: an object
// store URL or a local path. It is the one place that knows every store
// package, so the CLI picks a store from the URL scheme without a registry.
package stores

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/azblob"
	"github.com/flowsym/flowsym/ingest/gcs"
	"github.com/flowsym/flowsym/ingest/local"
	"github.com/flowsym/flowsym/ingest/s3"
)

// Scheme is the kind of store a location names.
type Scheme string

const (
	Local  Scheme = "file"
	S3     Scheme = "s3"
	GCS    Scheme = "gs"
	AzBlob Scheme = "azblob"
)

// Location is a parsed location.
type Location struct {
	Scheme Scheme
	// Account is the Azure storage account; empty for other schemes.
	Account string
	// Bucket is the bucket or the Azure container; empty for local paths.
	Bucket string
	// Prefix is the key prefix inside the bucket, or the local path.
	Prefix string
	// ServiceURL is the Azure blob endpoint of an https:// location.
	ServiceURL string
	// SAS is the shared access signature of an https:// location, which
	// never becomes part of an object name.
	SAS string
}

// Root returns the name prefix of the location's objects, which List
// takes: "s3://bucket/prefix", "azblob://account/container/prefix", or
// the local path.
func (l Location) Root() string {
	switch l.Scheme {
	case Local:
		return l.Prefix
	case AzBlob:
		return "azblob://" + l.Account + "/" + l.Bucket + "/" + l.Prefix
	}
	return string(l.Scheme) + "://" + l.Bucket + "/" + l.Prefix
}

var (
	// S3 bucket names: 3–63 lowercase letters, digits, dots and hyphens
	// (older buckets may hold capitals and underscores; S3 still serves
	// them, so they are accepted).
	bucketName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$`)
	// Azure: 3–24 lowercase letters and digits.
	accountName = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	// Azure: 3–63 lowercase letters, digits and single hyphens.
	containerName = regexp.MustCompile(`^(\$root|\$logs|[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62})$`)
	schemeLike    = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*):`)
)

// Parse parses a location:
//
//	s3://bucket[/prefix]
//	gs://bucket[/prefix]
//	azblob://account/container[/prefix]
//	https://account.blob.core.windows.net/container[/prefix][?sas]
//	file:///path, or any other path
//
// An object-store prefix is taken as given (a key prefix, not a
// directory); only the https form is URL-decoded. Errors quote the
// location, without its query string.
func Parse(location string) (Location, error) {
	shown := ingest.Scrub(location)
	bad := func(format string, args ...any) (Location, error) {
		return Location{}, fmt.Errorf("bad location %q: %s", shown, fmt.Sprintf(format, args...))
	}
	m := schemeLike.FindStringSubmatch(location)
	if m == nil || len(m[1]) == 1 { // no scheme, or a Windows drive letter
		return Location{Scheme: Local, Prefix: location}, nil
	}
	scheme := strings.ToLower(m[1])
	rest, hasSlashes := strings.CutPrefix(location[len(m[0]):], "//")
	switch scheme {
	case "s3", "gs", "azblob", "https", "http", "file":
		if !hasSlashes {
			return bad("write %s://…", scheme)
		}
	default:
		if !hasSlashes {
			return Location{Scheme: Local, Prefix: location}, nil // a file named "x:y"
		}
		return bad("flowsym reads s3://, gs://, azblob:// and https://<account>.blob.core.windows.net/ URLs, and local paths")
	}
	switch scheme {
	case "file":
		if rest != "" && !strings.HasPrefix(rest, "/") {
			return bad("write file:///absolute/path, or just the path")
		}
		return Location{Scheme: Local, Prefix: rest}, nil
	case "s3", "gs":
		if strings.ContainsAny(rest, "?#") {
			return bad("an %s:// URL takes no query string or fragment", scheme)
		}
		bucket, prefix, _ := strings.Cut(rest, "/")
		if bucket == "" {
			return bad("no bucket")
		}
		if !bucketName.MatchString(bucket) || len(bucket) < 3 {
			return bad("%q is not a bucket name", bucket)
		}
		return Location{Scheme: Scheme(scheme), Bucket: bucket, Prefix: prefix}, nil
	case "azblob":
		if strings.ContainsAny(rest, "?#") {
			return bad("an azblob:// URL takes no query string; put a SAS token in AZURE_STORAGE_SAS_TOKEN or use the https:// form")
		}
		account, rest, _ := strings.Cut(rest, "/")
		container, prefix, _ := strings.Cut(rest, "/")
		if !accountName.MatchString(account) {
			return bad("%q is not a storage account name (3–24 lowercase letters and digits)", account)
		}
		if !containerName.MatchString(container) {
			return bad("%q is not a container name (write azblob://account/container/prefix)", container)
		}
		return Location{Scheme: AzBlob, Account: account, Bucket: container, Prefix: prefix}, nil
	case "http":
		return bad("plain http is not supported; to use an emulator, set AZURE_STORAGE_CONNECTION_STRING and write azblob://account/container/prefix")
	}
	// https://account.blob.core.windows.net/container/prefix?sas
	u, err := url.Parse(location)
	if err != nil {
		return bad("%v", ingest.Scrub(err.Error()))
	}
	host := strings.ToLower(u.Hostname())
	account, suffix, ok := strings.Cut(host, ".")
	if !ok || !strings.HasPrefix(suffix, "blob.") || u.Port() != "" && u.Port() != "443" {
		return bad("the https form is https://<account>.blob.core.windows.net/<container>/<prefix>")
	}
	if !accountName.MatchString(account) {
		return bad("%q is not a storage account name", account)
	}
	container, prefix, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if !containerName.MatchString(container) {
		return bad("%q is not a container name", container)
	}
	return Location{Scheme: AzBlob, Account: account, Bucket: container, Prefix: prefix,
		ServiceURL: "https://" + u.Host + "/", SAS: u.RawQuery}, nil
}

// Options configure the store Open makes. The zero value is ready to use.
type Options struct {
	// Retry bounds retries, resumptions and timeouts (object stores).
	Retry ingest.RetryPolicy
	// PageSize is the number of objects per listing request; 0 means
	// 1,000 (the most S3 and GCS return).
	PageSize int
}

// Open parses location and returns its store and the name prefix to list
// (Location.Root). Each store takes credentials and endpoints from its
// SDK's default chain and standard environment variables; Open makes no
// request, except that S3 asks for a bucket's region when none is
// configured. A GCS store holds a client; close it with io.Closer.
func Open(ctx context.Context, location string, opts Options) (ingest.Store, string, error) {
	loc, err := Parse(location)
	if err != nil {
		return nil, "", err
	}
	var st ingest.Store
	switch loc.Scheme {
	case Local:
		st = &local.Source{}
	case S3:
		st, err = s3.New(ctx, loc.Bucket, s3.Options{Retry: opts.Retry, PageSize: opts.PageSize})
	case GCS:
		st, err = gcs.New(ctx, loc.Bucket, gcs.Options{Retry: opts.Retry, PageSize: opts.PageSize})
	case AzBlob:
		st, err = azblob.New(ctx, loc.Account, loc.Bucket, azblob.Options{
			Retry: opts.Retry, PageSize: opts.PageSize, ServiceURL: loc.ServiceURL, SAS: loc.SAS,
		})
	}
	if err != nil {
		return nil, "", err
	}
	return st, loc.Root(), nil
}
