package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/flowsym/flowsym/normalize"
)

// progressEvery is how often plain progress lines are written when stderr
// is not a terminal (a scheduler's log): often enough to see a long run
// move, rarely enough not to flood the log.
const progressEvery = 30 * time.Second

// startProgress shows the run's progress on stderr until the returned
// function is called: a bar with objects, bytes, records and rate on a
// terminal, a plain line every 30 seconds otherwise. mode is the value of
// --progress: auto, bar, log or off.
func startProgress(e *env, mode string, st *normalize.Stats) (stop func()) {
	if mode == "auto" {
		mode = "log"
		if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	if mode == "off" {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := e.now()
	go func() {
		defer close(finished)
		if mode == "bar" {
			progressBar(e.stderr, st, start, done)
			return
		}
		progressLog(e.stderr, st, start, done, progressEvery)
	}()
	return func() {
		close(done)
		<-finished
	}
}

func progressBar(w io.Writer, st *normalize.Stats, start time.Time, done <-chan struct{}) {
	bar := progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSpinnerType(14),
	)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			_ = bar.Finish()
			return
		case <-tick.C:
			recs := st.Records.Load()
			bar.Describe(fmt.Sprintf("%d objects, %d records (%.0f/s)", st.Objects.Load(), recs, rate(recs, start)))
			_ = bar.Set64(st.Bytes.Load())
		}
	}
}

func progressLog(w io.Writer, st *normalize.Stats, start time.Time, done <-chan struct{}, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			recs := st.Records.Load()
			fmt.Fprintf(w, "flowsym: progress: %d objects, %s, %d records, %.0f records/s\n",
				st.Objects.Load(), humanBytes(st.Bytes.Load()), recs, rate(recs, start))
		}
	}
}

func rate(n int64, start time.Time) float64 {
	s := time.Since(start).Seconds()
	if s <= 0 {
		return 0
	}
	return float64(n) / s
}
