package stores_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	sdk "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"

	"github.com/flowsym/flowsym/ingest/ingesttest"
	"github.com/flowsym/flowsym/ingest/ingesttest/emulator"
	"github.com/flowsym/flowsym/ingest/stores"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulator.StopAzurite()
	os.Exit(code)
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want stores.Location
		root string
	}{
		{"s3://flowlogs", stores.Location{Scheme: stores.S3, Bucket: "flowlogs"}, "s3://flowlogs/"},
		{"s3://flowlogs/", stores.Location{Scheme: stores.S3, Bucket: "flowlogs"}, "s3://flowlogs/"},
		{"s3://flowlogs/AWSLogs/", stores.Location{Scheme: stores.S3, Bucket: "flowlogs", Prefix: "AWSLogs/"}, "s3://flowlogs/AWSLogs/"},
		{"S3://flowlogs/AWSLogs", stores.Location{Scheme: stores.S3, Bucket: "flowlogs", Prefix: "AWSLogs"}, "s3://flowlogs/AWSLogs"},
		{"gs://my-logs/compute.googleapis.com/vpc_flows/2024/", stores.Location{Scheme: stores.GCS, Bucket: "my-logs", Prefix: "compute.googleapis.com/vpc_flows/2024/"}, "gs://my-logs/compute.googleapis.com/vpc_flows/2024/"},
		{"azblob://acct1/insights-logs-flowlogflowevent/flowLogResourceID=/X", stores.Location{Scheme: stores.AzBlob, Account: "acct1", Bucket: "insights-logs-flowlogflowevent", Prefix: "flowLogResourceID=/X"}, "azblob://acct1/insights-logs-flowlogflowevent/flowLogResourceID=/X"},
		{"azblob://acct1/c01", stores.Location{Scheme: stores.AzBlob, Account: "acct1", Bucket: "c01"}, "azblob://acct1/c01/"},
		{"https://acct1.blob.core.windows.net/insights-logs-networksecuritygroupflowevent/resourceId%3D/SUB",
			stores.Location{Scheme: stores.AzBlob, Account: "acct1", Bucket: "insights-logs-networksecuritygroupflowevent", Prefix: "resourceId=/SUB", ServiceURL: "https://acct1.blob.core.windows.net/"},
			"azblob://acct1/insights-logs-networksecuritygroupflowevent/resourceId=/SUB"},
		{"https://acct1.blob.core.windows.net/logs/p?sv=2022-11-02&sp=rl&sig=SECRET",
			stores.Location{Scheme: stores.AzBlob, Account: "acct1", Bucket: "logs", Prefix: "p", ServiceURL: "https://acct1.blob.core.windows.net/", SAS: "sv=2022-11-02&sp=rl&sig=SECRET"},
			"azblob://acct1/logs/p"},
		{"https://acct1.blob.core.chinacloudapi.cn/logs/", stores.Location{Scheme: stores.AzBlob, Account: "acct1", Bucket: "logs", ServiceURL: "https://acct1.blob.core.chinacloudapi.cn/"}, "azblob://acct1/logs/"},
		{"/var/log/flows", stores.Location{Scheme: stores.Local, Prefix: "/var/log/flows"}, "/var/log/flows"},
		{"flows/*.log.gz", stores.Location{Scheme: stores.Local, Prefix: "flows/*.log.gz"}, "flows/*.log.gz"},
		{"file:///var/log/flows", stores.Location{Scheme: stores.Local, Prefix: "/var/log/flows"}, "/var/log/flows"},
		{`C:\logs\flows`, stores.Location{Scheme: stores.Local, Prefix: `C:\logs\flows`}, `C:\logs\flows`},
		{"10:00:00_10:59:59_S0.json", stores.Location{Scheme: stores.Local, Prefix: "10:00:00_10:59:59_S0.json"}, "10:00:00_10:59:59_S0.json"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := stores.Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
			if got.Root() != tt.root {
				t.Errorf("root %q, want %q", got.Root(), tt.root)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"s3://", "no bucket"},
		{"s3:flowlogs/x", "write s3://"},
		{"s3://ab/x", `"ab" is not a bucket name`},
		{"s3://flow logs/x", "is not a bucket name"},
		{"s3://flowlogs/x?versionId=1", "no query string"},
		{"gs:///x", "no bucket"},
		{"azblob://acct1", "is not a container name"},
		{"azblob://Acct/c01/x", "is not a storage account name"},
		{"azblob://acct1/C/x", "is not a container name"},
		{"azblob://acct1/c01/x?sig=SECRET", "AZURE_STORAGE_SAS_TOKEN"},
		{"https://example.com/c01/x", "https://<account>.blob.core.windows.net"},
		{"https://acct1.blob.core.windows.net/", "is not a container name"},
		{"http://127.0.0.1:10000/devstoreaccount1/c01", "AZURE_STORAGE_CONNECTION_STRING"},
		{"ftp://host/x", "flowsym reads s3://"},
		{"file://relative/x", "file:///absolute/path"},
		{"https://acct1.blob.core.windows.net/C?sig=SECRET", "is not a container name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := stores.Parse(tt.in)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q shows the SAS", err)
			}
		})
	}
}

// TestOpen opens a location of each kind the way the CLI will and reads
// an object through it.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	data := []byte("2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK\n")
	check := func(t *testing.T, location, wantRoot string) {
		t.Helper()
		st, root, err := stores.Open(ctx, location, stores.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := st.(io.Closer); ok {
			defer c.Close()
		}
		if root != wantRoot {
			t.Errorf("root %q, want %q", root, wantRoot)
		}
		ingesttest.Put(t, st, root+"x/a.log", data)
		names := ingesttest.ListNames(t, st, root)
		if len(names) != 1 || names[0] != root+"x/a.log" {
			t.Errorf("listed %q", names)
		}
		if got := ingesttest.ReadAll(t, st, root+"x/a.log"); string(got) != string(data) {
			t.Errorf("read %q", got)
		}
	}
	t.Run("local", func(t *testing.T) {
		dir := t.TempDir() + "/"
		check(t, dir, dir)
		check(t, "file://"+filepath.Join(dir, "sub")+"/", filepath.Join(dir, "sub")+"/")
	})
	t.Run("s3", func(t *testing.T) {
		srv := emulator.StartS3(t)
		srv.CreateBucket(t, "flowlogs")
		emulator.S3Env(t, srv.URL)
		check(t, "s3://flowlogs/AWSLogs/", "s3://flowlogs/AWSLogs/")
	})
	t.Run("gcs", func(t *testing.T) {
		srv := emulator.StartGCS(t)
		srv.CreateBucket(t, "flowlogs")
		emulator.GCSEnv(t, srv.Host)
		check(t, "gs://flowlogs/compute.googleapis.com/", "gs://flowlogs/compute.googleapis.com/")
	})
	t.Run("azblob", func(t *testing.T) {
		az := emulator.StartAzurite(t)
		admin, err := sdk.NewClientFromConnectionString(emulator.ConnectionString(az.URL), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.CreateContainer(ctx, "insights-logs-flowlogflowevent", nil); err != nil {
			t.Fatal(err)
		}
		emulator.AzuriteConnEnv(t, az.URL)
		check(t, "azblob://devstoreaccount1/insights-logs-flowlogflowevent/flowLogResourceID=/", "azblob://devstoreaccount1/insights-logs-flowlogflowevent/flowLogResourceID=/")
	})
}
