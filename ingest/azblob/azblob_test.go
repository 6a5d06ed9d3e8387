package azblob_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/flowsym/flowsym/ingest"
	"github.com/flowsym/flowsym/ingest/azblob"
	"github.com/flowsym/flowsym/ingest/ingesttest"
	"github.com/flowsym/flowsym/ingest/ingesttest/emulator"
	"github.com/flowsym/flowsym/ingest/ingesttest/faulttest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	emulator.StopAzurite()
	os.Exit(code)
}

var containers atomic.Int64

// newContainer creates a fresh container in the shared Azurite and opens
// it the way flowsym does for a user: AZURE_STORAGE_CONNECTION_STRING.
func newContainer(t *testing.T, opts azblob.Options) (*emulator.Azurite, string, *azblob.Bucket) {
	t.Helper()
	az := emulator.StartAzurite(t)
	name := fmt.Sprintf("flowlogs-%d", containers.Add(1))
	admin, err := sdk.NewClientFromConnectionString(emulator.ConnectionString(az.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateContainer(context.Background(), name, nil); err != nil {
		t.Fatal(err)
	}
	emulator.AzuriteConnEnv(t, az.URL)
	b, err := azblob.New(context.Background(), emulator.AzuriteAccount, name, opts)
	if err != nil {
		t.Fatal(err)
	}
	return az, name, b
}

func TestAcceptance(t *testing.T) {
	ingesttest.Acceptance(t, func(t *testing.T) (ingest.Store, string) {
		_, name, b := newContainer(t, azblob.Options{BlockSize: 1 << 20})
		return b, "azblob://" + emulator.AzuriteAccount + "/" + name + "/"
	})
}

func TestFaults(t *testing.T) {
	az, name, direct := newContainer(t, azblob.Options{})
	faulttest.Run(t, faulttest.Target{
		Backend: strings.TrimSuffix(az.URL, "/"+emulator.AzuriteAccount),
		Direct:  direct,
		Prefix:  "azblob://" + emulator.AzuriteAccount + "/" + name + "/",
		Through: func(t *testing.T, proxy *ingesttest.Proxy, policy ingest.RetryPolicy) ingest.Store {
			emulator.AzuriteConnEnv(t, proxy.URL+"/"+emulator.AzuriteAccount)
			b, err := azblob.New(context.Background(), emulator.AzuriteAccount, name, azblob.Options{Retry: policy})
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		Busy:    ingesttest.AzureServerBusy,
		Broken:  ingesttest.AzureInternalError,
		Secrets: []string{emulator.AzuriteKey},
	})
}

// TestSAS reads with a SAS token the way a user pastes a SAS URL, and
// checks that the token appears in no error.
func TestSAS(t *testing.T) {
	az, name, b := newContainer(t, azblob.Options{})
	ingesttest.Put(t, b, "azblob://"+emulator.AzuriteAccount+"/"+name+"/a.log", []byte("hello"))
	cred, err := sdk.NewSharedKeyCredential(emulator.AzuriteAccount, emulator.AzuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	q, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		ExpiryTime:    time.Now().Add(time.Hour),
		Permissions:   (&sas.ContainerPermissions{Read: true, List: true}).String(),
		ContainerName: name,
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	token := q.Encode()
	sig := q.Signature()
	t.Setenv(azblob.EnvConnectionString, "")
	sb, err := azblob.New(context.Background(), emulator.AzuriteAccount, name, azblob.Options{ServiceURL: az.URL + "/", SAS: token})
	if err != nil {
		t.Fatal(err)
	}
	if got := ingesttest.ReadAll(t, sb, "azblob://"+emulator.AzuriteAccount+"/"+name+"/a.log"); string(got) != "hello" {
		t.Errorf("read %q with a SAS", got)
	}
	if got := ingesttest.ListNames(t, sb, "azblob://"+emulator.AzuriteAccount+"/"+name+"/"); len(got) != 1 {
		t.Errorf("listed %q with a SAS", got)
	}
	_, err = sb.Open(context.Background(), "azblob://"+emulator.AzuriteAccount+"/"+name+"/missing.log")
	if !errors.Is(err, ingest.ErrNotFound) {
		t.Errorf("open of a missing blob with a SAS: %v", err)
	}
	// The SAS grants no write: a denied write names the blob, not the token.
	w, err := sb.Create(context.Background(), "azblob://"+emulator.AzuriteAccount+"/"+name+"/b.log")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("x"))
	err = w.Commit()
	if !errors.Is(err, ingest.ErrPermission) {
		t.Errorf("write with a read-only SAS: %v, want ErrPermission", err)
	}
	for _, e := range []error{err} {
		if e != nil && (strings.Contains(e.Error(), sig) || strings.Contains(e.Error(), "sig=")) {
			t.Errorf("error shows the SAS: %v", e)
		}
	}
	t.Logf("denied write: %v", err)

	// With the environment variable instead of the URL.
	t.Setenv(azblob.EnvSASToken, "?"+token)
	eb, err := azblob.New(context.Background(), emulator.AzuriteAccount, name, azblob.Options{ServiceURL: az.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ingesttest.ReadAll(t, eb, "azblob://"+emulator.AzuriteAccount+"/"+name+"/a.log"); string(got) != "hello" {
		t.Errorf("read %q with AZURE_STORAGE_SAS_TOKEN", got)
	}
}

// An account key from the environment, as the Azure CLI takes it.
func TestAccountKey(t *testing.T) {
	az, name, b := newContainer(t, azblob.Options{})
	ingesttest.Put(t, b, "azblob://"+emulator.AzuriteAccount+"/"+name+"/a.log", []byte("hello"))
	t.Setenv(azblob.EnvConnectionString, "")
	t.Setenv(azblob.EnvKey, emulator.AzuriteKey)
	kb, err := azblob.New(context.Background(), emulator.AzuriteAccount, name, azblob.Options{ServiceURL: az.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	if got := ingesttest.ReadAll(t, kb, "azblob://"+emulator.AzuriteAccount+"/"+name+"/a.log"); string(got) != "hello" {
		t.Errorf("read %q with AZURE_STORAGE_KEY", got)
	}
	// A wrong key is denied, and the key does not show.
	t.Setenv(azblob.EnvKey, "d3Jvbmcga2V5IHdyb25nIGtleSB3cm9uZyBrZXk=")
	wb, err := azblob.New(context.Background(), emulator.AzuriteAccount, name, azblob.Options{ServiceURL: az.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wb.Open(context.Background(), "azblob://"+emulator.AzuriteAccount+"/"+name+"/a.log")
	if !errors.Is(err, ingest.ErrPermission) || strings.Contains(err.Error(), "d3Jvbmcga2V5") {
		t.Errorf("open with a wrong key: %v, want ErrPermission without the key", err)
	}
}

func TestConnectionStringForAnotherAccount(t *testing.T) {
	t.Setenv(azblob.EnvConnectionString, emulator.ConnectionString("http://127.0.0.1:1/devstoreaccount1"))
	_, err := azblob.New(context.Background(), "otheraccount", "c", azblob.Options{})
	if err == nil || strings.Contains(err.Error(), emulator.AzuriteKey) {
		t.Errorf("New with another account's connection string: %v", err)
	}
}

// TestListCalls counts listing requests for one hour of a month of
// hourly VNet flow-log blobs.
func TestListCalls(t *testing.T) {
	az, name, direct := newContainer(t, azblob.Options{})
	base := "azblob://" + emulator.AzuriteAccount + "/" + name + "/"
	objects := map[string][]byte{}
	for d := 1; d <= 30; d++ {
		for h := range 24 {
			objects[fmt.Sprintf("%sflowLogResourceID=/0000_NETWORKWATCHERRG/NETWORKWATCHER_EASTUS_FL/y=2024/m=06/d=%02d/h=%02d/m=00/macAddress=000D3A1B2C3D/PT1H.json", base, d, h)] = []byte(`{"records":[]}`)
		}
	}
	ingesttest.PutAll(t, direct, objects)
	proxy := ingesttest.NewProxy(t, strings.TrimSuffix(az.URL, "/"+emulator.AzuriteAccount), nil)
	emulator.AzuriteConnEnv(t, proxy.URL+"/"+emulator.AzuriteAccount)
	b, err := azblob.New(context.Background(), emulator.AzuriteAccount, name, azblob.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(ingesttest.ListNames(t, b, base)); got != len(objects) {
		t.Fatalf("listed %d, want %d", got, len(objects))
	}
	flat := proxy.Requests(ingesttest.KindList)
	proxy.ResetCounts()
	window := ingest.Span{Start: time.Date(2024, 6, 15, 10, 0, 0, 0, time.UTC), End: time.Date(2024, 6, 15, 11, 0, 0, 0, time.UTC)}
	var got []string
	if err := ingest.ListWindow(context.Background(), b, base, window, func(o ingest.Object) error {
		got = append(got, o.Name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pruned := proxy.Requests(ingesttest.KindList)
	if len(got) != 3 || pruned != 10 {
		t.Errorf("one hour of a month: %d objects in %d list requests, want 3 in 10", len(got), pruned)
	}
	t.Logf("a month of hourly blobs (%d): flat listing %d requests; one hour: %d requests for %d blobs", len(objects), flat, pruned, len(got))
}
