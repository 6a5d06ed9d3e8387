package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowsym/flowsym/normalize"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProgressLogLines(t *testing.T) {
	var st normalize.Stats
	st.Objects.Store(3)
	st.Bytes.Store(5 << 20)
	st.Records.Store(1234)
	var out syncBuffer
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		progressLog(&out, &st, time.Now(), done, time.Millisecond)
		close(finished)
	}()
	for !strings.Contains(out.String(), "\n") {
		time.Sleep(time.Millisecond)
	}
	close(done)
	<-finished
	line := strings.SplitN(out.String(), "\n", 2)[0]
	if !strings.HasPrefix(line, "flowsym: progress: 3 objects, 5.0 MiB, 1234 records, ") || !strings.HasSuffix(line, " records/s") {
		t.Errorf("progress line %q", line)
	}
	// Off writes nothing, and a buffer is never a terminal: auto means log.
	e := &env{stderr: &out, now: time.Now}
	startProgress(e, "off", &st)()
	if code, _, stderr := flowsym(t, "normalize", "x", "--out", t.TempDir()+"/x.parquet", "--progress", "loud"); code != exitUsage || !strings.Contains(stderr, `--progress "loud"`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
