package report

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser test opens the HTML report in Debian's headless Chromium,
// the way a person opens it from a ticket (a file:// URL), and checks
// what html/template cannot: the page loads with no console error and no
// uncaught exception, and the path picture of the known asymmetric
// connection is laid out with a size. It saves screenshots for people to
// look at.
//
// Environment:
//
//	FLOWSYM_CHROMIUM          the browser (default /usr/bin/chromium, then chromium on PATH)
//	FLOWSYM_REQUIRE_BROWSER=1 fail, not skip, when there is no browser (CI)
//	FLOWSYM_ARTIFACTS         where to save html-report.png and html-report-path.png
//	                          (default: flowsym-artifacts in the temporary directory; logged)

// chromiumFlags are the flags the machine notes give for Debian's Chromium
// on a closed network: without the background-networking ones Chromium
// tries to reach Google's hosts at every start.
func chromiumOptions(exe, profile string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}
}

func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("FLOWSYM_CHROMIUM"), "/usr/bin/chromium"}
	if p, err := exec.LookPath("chromium"); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			return c
		}
	}
	msg := "no Chromium (apt-get install chromium, or set FLOWSYM_CHROMIUM)"
	if os.Getenv("FLOWSYM_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + "; FLOWSYM_REQUIRE_BROWSER=1 requires it")
	}
	t.Skip(msg)
	return ""
}

func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FLOWSYM_ARTIFACTS")
	if dir == "" {
		// One fixed place, rewritten by each run, not a new one per run.
		dir = filepath.Join(os.TempDir(), "flowsym-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func fileURL(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// watchConsole collects the console errors, warnings and uncaught
// exceptions of the started tab in ctx until the returned func is called.
// A warning counts: Chromium reports a fetch that the page's
// Content-Security-Policy blocked as one.
func watchConsole(tab context.Context) func() []string {
	ctx, cancel := context.WithCancel(tab)
	messages := chromedp.Console(ctx) // subscribes now: nothing is lost
	var problems []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleException, chromedp.ConsoleWarning, "assert":
				problems = append(problems, m.String()+" at "+m.URL)
			}
		}
	}()
	return func() []string {
		// A round trip, then a moment: every message the page wrote
		// while it loaded has arrived.
		_, _ = chromedp.Run(tab, chromedp.Evaluate[string](`document.readyState`))
		time.Sleep(200 * time.Millisecond)
		cancel()
		<-done
		return problems
	}
}

// openTab starts a new tab of the browser in ctx.
func openTab(t *testing.T, browser context.Context) (context.Context, context.CancelFunc) {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	if err := chromedp.Do(tab); err != nil {
		cancel()
		t.Fatalf("open a tab: %v", err)
	}
	return tab, cancel
}

func TestHTMLInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	if testing.Short() && os.Getenv("FLOWSYM_REQUIRE_BROWSER") != "1" {
		t.Skip("starts a browser")
	}
	start := time.Now()
	dir := t.TempDir()
	report := filepath.Join(dir, "report.html")
	if err := os.WriteFile(report, renderHTML(t, estate(t), estateSummary()), 0o644); err != nil {
		t.Fatal(err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumOptions(exe, t.TempDir())...)
	defer cancelAlloc()
	ctx, cancel := context.WithTimeout(alloc, 90*time.Second)
	defer cancel()
	browser, cancelBrowser := chromedp.NewContext(ctx)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil { // start the browser
		t.Fatalf("start %s: %v", exe, err)
	}

	// The collector must see what a broken page writes, or its silence on
	// the report would prove nothing.
	t.Run("collector sees errors", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.html")
		// The image is blocked by the page's policy (the report's own), so
		// no request leaves the browser; the block itself must be seen.
		page := `<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'">` +
			`<title>bad</title><img src="http://127.0.0.1:9/x.png">` +
			`<script>console.error("flowsym-test-error"); null.x;</script>`
		if err := os.WriteFile(bad, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		tab, cancelTab := openTab(t, browser)
		defer cancelTab()
		stop := watchConsole(tab)
		if err := chromedp.Do(tab, chromedp.Navigate(fileURL(bad))); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(stop(), "\n")
		for _, want := range []string{"error: flowsym-test-error", "exception: Uncaught TypeError", "Content Security Policy"} {
			if !strings.Contains(got, want) {
				t.Errorf("collector missed %q; got:\n%s", want, got)
			}
		}
	})

	t.Run("report", func(t *testing.T) {
		const path = `svg.path[data-kind="asymmetric"][data-client="10.1.5.5:40002"]`
		tab, cancelTab := openTab(t, browser)
		defer cancelTab()
		stop := watchConsole(tab)
		if err := chromedp.Do(tab, chromedp.Navigate(fileURL(report)), chromedp.WaitVisible(chromedp.CSS(path))); err != nil {
			t.Fatalf("open the report: %v", err)
		}
		type box struct{ W, H, Missing, MissingW float64 }
		b, err := chromedp.Run(tab, chromedp.Evaluate[box](`(() => {
			const svg = document.querySelector('`+path+`');
			const r = svg.getBoundingClientRect();
			const leg = svg.querySelector('g.observer[data-name="fw"] g.leg.missing[data-dir="reverse"]');
			const lr = leg ? leg.getBoundingClientRect() : {width: 0};
			return {W: r.width, H: r.height, Missing: leg ? 1 : 0, MissingW: lr.width};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if b.W <= 0 || b.H <= 0 {
			t.Errorf("the asymmetric path picture has no size: %+v", b)
		}
		if b.Missing != 1 || b.MissingW <= 0 {
			t.Errorf("the missing reverse leg at fw is not drawn: %+v", b)
		}

		arts := artifactsDir(t)
		full, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		card, err := chromedp.Run(tab, chromedp.Screenshot(chromedp.CSS(`article.finding[data-kind="asymmetric"][data-client="10.1.5.5:40002"]`)))
		if err != nil {
			t.Fatal(err)
		}
		for name, png := range map[string][]byte{"html-report.png": full, "html-report-path.png": card} {
			p := filepath.Join(arts, name)
			if err := os.WriteFile(p, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("screenshot %s (%d bytes)", p, len(png))
		}

		problems := stop()
		for _, p := range problems {
			t.Errorf("console: %s", p)
		}
	})
	// Thousands of findings: the detailed sections are capped, and the
	// page still loads cleanly with every picture laid out.
	t.Run("many findings", func(t *testing.T) {
		many := filepath.Join(dir, "many.html")
		if err := os.WriteFile(many, renderHTML(t, manyFindings(5000), Summary{}), 0o644); err != nil {
			t.Fatal(err)
		}
		tab, cancelTab := openTab(t, browser)
		defer cancelTab()
		stop := watchConsole(tab)
		if err := chromedp.Do(tab, chromedp.Navigate(fileURL(many))); err != nil {
			t.Fatal(err)
		}
		drawn, err := chromedp.Run(tab, chromedp.Evaluate[int](`[...document.querySelectorAll('svg.path')].filter(s => s.getBoundingClientRect().width > 0).length`))
		if err != nil {
			t.Fatal(err)
		}
		if drawn != defaultHTMLFindings {
			t.Errorf("%d path pictures laid out, want %d", drawn, defaultHTMLFindings)
		}
		for _, p := range stop() {
			t.Errorf("console: %s", p)
		}
	})
	t.Logf("browser test took %v", time.Since(start).Round(time.Millisecond))
}
