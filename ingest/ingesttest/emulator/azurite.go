package emulator

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/flowsym/flowsym/ingest/ingesttest"
)

// The well-known development account every Azure emulator accepts; the
// key is public (it is in Microsoft's documentation).
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// AzuriteEnv names the azurite-blob executable to use instead of the one
// `npm ci --prefix tools/azurite` installs.
const AzuriteEnv = "FLOWSYM_AZURITE"

// Azurite is a running azurite-blob.
type Azurite struct {
	// URL is the account's blob endpoint: http://127.0.0.1:port/devstoreaccount1.
	URL string
	cmd *exec.Cmd
	out *bytes.Buffer
}

// ConnectionString returns an Azure Storage connection string for the
// development account at blobEndpoint (Azurite's URL, or a proxy in
// front of it).
func ConnectionString(blobEndpoint string) string {
	return "DefaultEndpointsProtocol=http;AccountName=" + AzuriteAccount + ";AccountKey=" + AzuriteKey + ";BlobEndpoint=" + blobEndpoint + ";"
}

// AzuriteConnEnv points azblob at blobEndpoint the way a user would:
// AZURE_STORAGE_CONNECTION_STRING. The other Azure credential variables
// are cleared so that nothing reaches for a real account.
func AzuriteConnEnv(tb testing.TB, blobEndpoint string) {
	tb.Helper()
	for k, v := range map[string]string{
		"AZURE_STORAGE_CONNECTION_STRING": ConnectionString(blobEndpoint),
		"AZURE_STORAGE_SAS_TOKEN":         "",
		"AZURE_STORAGE_KEY":               "",
		"AZURE_STORAGE_ACCOUNT":           "",
	} {
		tb.Setenv(k, v)
	}
}

var azurite struct {
	sync.Mutex
	a   *Azurite
	err error
}

// StartAzurite returns the Azurite of this test process, starting it on a
// loopback port the first time. It takes 1.5 to 5 s to start on a loaded
// machine, so one instance serves every test of a package; tests keep
// apart by container. StopAzurite (from TestMain) stops it, and on Linux
// it also dies with the test process. When Azurite cannot be started the
// test is skipped, or fails under FLOWSYM_REQUIRE_EMULATORS=1.
func StartAzurite(tb testing.TB) *Azurite {
	tb.Helper()
	azurite.Lock()
	defer azurite.Unlock()
	if azurite.a == nil && azurite.err == nil {
		azurite.a, azurite.err = startAzurite()
	}
	if azurite.err != nil {
		ingesttest.Unavailable(tb, "Azurite (npm ci --prefix tools/azurite)", azurite.err)
	}
	return azurite.a
}

// StopAzurite stops the Azurite that StartAzurite started, if any.
func StopAzurite() {
	azurite.Lock()
	defer azurite.Unlock()
	if azurite.a != nil {
		azurite.a.stop()
		azurite.a = nil
	}
}

// AzuriteBinary finds azurite-blob: $FLOWSYM_AZURITE, or
// tools/azurite/node_modules/.bin/azurite-blob in the module.
func AzuriteBinary() (string, error) {
	if p := os.Getenv(AzuriteEnv); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "tools", "azurite", "node_modules", ".bin", "azurite-blob")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%s is missing: run npm ci --prefix tools/azurite", p)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

var listening = regexp.MustCompile(`Azurite Blob service (?:is )?successfully listens? on (http://127\.0\.0\.1:\d+)`)

func startAzurite() (*Azurite, error) {
	bin, err := AzuriteBinary()
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("node is not installed: %w", err)
	}
	cmd := exec.Command(bin,
		"--blobHost", "127.0.0.1", "--blobPort", "0",
		"--inMemoryPersistence",
		// azblob 1.8 speaks a newer API version than Azurite 3.37 knows.
		"--skipApiVersionCheck",
		// Telemetry is on by default and goes to Azure, off loopback.
		"--disableTelemetry",
		"--silent")
	cmd.SysProcAttr = procAttr()
	a := &Azurite{cmd: cmd, out: &bytes.Buffer{}}
	cmd.Stderr = &lockedWriter{w: a.out}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			cmd.Wait()
			return nil, fmt.Errorf("azurite-blob exited before listening: %s", a.out)
		}
		a.URL = u + "/" + AzuriteAccount
		return a, nil
	case <-time.After(60 * time.Second):
		a.stop()
		return nil, fmt.Errorf("azurite-blob did not listen within 60 s: %s", a.out)
	}
}

func (a *Azurite) stop() {
	if a.cmd.Process != nil {
		a.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { a.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			a.cmd.Process.Kill()
			<-done
		}
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
