package flowbeam_test

import (
	"bufio"
	"bytes"

	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/flowsym/flowsym/dist/beam/internal/beamtest"
)

// binaries are the flowsym-beam command and Beam's standalone Prism job
// server, built once per test process.
type binaries struct {
	beam, prism string
}

var (
	binOnce sync.Once
	bins    binaries
	binErr  error
)

func buildBinaries(t testing.TB) binaries {
	t.Helper()
	binOnce.Do(func() {
		module := filepath.Join(beamtest.Root(), "dist", "beam")
		bins = binaries{beam: filepath.Join(testDir, "flowsym-beam"), prism: filepath.Join(testDir, "prism")}
		if binErr = goBuild(module, bins.beam, "./cmd/flowsym-beam"); binErr == nil {
			binErr = goBuild(module, bins.prism, "github.com/apache/beam/sdks/v2/go/cmd/prism")
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return bins
}

var serving = regexp.MustCompile(`Serving JobManagement.*endpoint=(\S+)`)

// jobServer is a running standalone Prism job server.
type jobServer struct {
	endpoint string
	mu       sync.Mutex
	log      bytes.Buffer
}

// Log returns what the job server logged so far.
func (j *jobServer) Log() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.log.String()
}

// startJobServer starts Beam's standalone Prism job server on a loopback
// port; it is stopped at the end of the test.
func startJobServer(t testing.TB, prism string) *jobServer {
	t.Helper()
	cmd := exec.Command(prism, "--job_port=0", "--serve_http=false", "--log_kind=text", "--idle_shutdown_timeout=10m")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	found := make(chan string, 1)
	j := &jobServer{}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			j.mu.Lock()
			j.log.WriteString(sc.Text() + "\n")
			j.mu.Unlock()
			if m := serving.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case j.endpoint = <-found:
		return j
	case <-time.After(60 * time.Second):
		t.Fatalf("prism did not serve within 60 s:\n%s", j.Log())
		return nil
	}
}

// TestUniversalRunner submits the pipeline from the flowsym-beam command
// with --runner=universal to a standalone Prism job server on loopback:
// the same Job API submission a Flink or Spark job server receives. The
// workers run in the submitting process (LOOPBACK), as they do in Beam's
// own tests against Flink.
func TestUniversalRunner(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	f := setup(t)
	b := buildBinaries(t)
	cliExport := filepath.Join(t.TempDir(), "export")
	want, _ := f.analyze(t, cliExport, f.logs)

	js := startJobServer(t, b.prism)
	out := t.TempDir()
	cmd := exec.Command(b.beam, "--runner=universal", "--endpoint="+js.endpoint, "--environment_type=LOOPBACK",
		"--job_name=flowsym-universal-test",
		"--config", f.config, "--input", f.logs,
		"--output", filepath.Join(out, "findings.jsonl"), "--export", filepath.Join(out, "export"))
	var stderr bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("flowsym-beam --runner=universal: %v\n%s", err, stderr.Bytes())
	}
	// The job went through the job server: the submitter staged and
	// submitted it, the server ran it to the end.
	if l := js.Log(); !regexp.MustCompile(`pipeline done!" job=job-\d+\[flowsym-universal-test\]`).MatchString(l) ||
		!regexp.MustCompile(`Submitted job: job-\d+`).Match(stderr.Bytes()) {
		t.Errorf("the job did not go through the job server:\n%s\nsubmitter:\n%s", l, stderr.Bytes())
	}
	got, err := os.ReadFile(filepath.Join(out, "findings.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	sameFindings(t, want, got)
	sameExport(t, readTree(t, cliExport), readTree(t, filepath.Join(out, "export")))
}

// TestCommandRejectsBadFlags checks the command's own flag handling.
func TestCommandRejectsBadFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	b := buildBinaries(t)
	used := t.TempDir()
	if err := os.WriteFile(filepath.Join(used, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--input", "logs", "--export", used}, // not empty, and no --append
		{"--output", "x.jsonl"},
		{"--input", "logs", "--output", "x.jsonl", "--since", "yesterday"},
		{"--input", "logs", "--output", "x.jsonl", "--config", "/nonexistent.yaml"},
	} {
		out, err := exec.Command(b.beam, args...).CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("flowsym-beam %v: %v, want exit code 2\n%s", args, err, out)
		}
		if !bytes.Contains(out, []byte("flowsym-beam: ")) {
			t.Errorf("flowsym-beam %v: no error message:\n%s", args, out)
		}
	}
	// --help lists flowsym's flags before Beam's.
	out, _ := exec.Command(b.beam, "--help").CombinedOutput()
	own, beamFlags, input, runner := bytes.Index(out, []byte("flowsym's flags:")), bytes.Index(out, []byte("Beam's flags")),
		bytes.Index(out, []byte("-input value")), bytes.Index(out, []byte("-runner string"))
	if own < 0 || beamFlags < own || input < own || input > beamFlags || runner < beamFlags {
		t.Errorf("flowsym-beam --help does not list flowsym's flags (--input), then Beam's (--runner):\n%s", out)
	}
}
