package bench

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// progress is the live status line: phase, elapsed time, request rate,
// sent / acked / errors, notifications counted at the simulators.
type progress struct {
	w     io.Writer
	name  string
	start time.Time
	ph    atomic.Value // string

	setupTotal, setupDone atomic.Int64
	load                  loadCounters
	counted               atomic.Int64 // unique notifications counted at the simulators (measured phase)
	expected              atomic.Int64

	quit chan struct{}
	done chan struct{}
	once sync.Once
}

// startProgress prints a status line to w every 250 ms; w nil = silent.
func startProgress(w io.Writer, name string) *progress {
	p := &progress{w: w, name: name, start: time.Now(), quit: make(chan struct{}), done: make(chan struct{})}
	p.ph.Store("start")
	if w == nil {
		close(p.done)
		return p
	}
	go p.loop()
	return p
}

func (p *progress) phase(s string) { p.ph.Store(s) }

func (p *progress) loop() {
	defer close(p.done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	var lastSent, lastCounted int64
	last := time.Now()
	for {
		select {
		case <-p.quit:
			fmt.Fprint(p.w, "\r\033[K")
			return
		case now := <-t.C:
			sent, counted := p.load.sent.Load(), p.counted.Load()
			dt := now.Sub(last).Seconds()
			line := fmt.Sprintf("[%s %s %5.1fs]", p.name, p.ph.Load(), now.Sub(p.start).Seconds())
			if p.ph.Load() == "setup" {
				line += fmt.Sprintf(" registered %d/%d devices", p.setupDone.Load(), p.setupTotal.Load())
			} else {
				line += fmt.Sprintf(" rate %.0f req/s  sent %d  acked %d  errors %d  counted %d",
					float64(sent-lastSent)/dt, sent, p.load.ok.Load(), p.load.errors.Load(), counted)
				if e := p.expected.Load(); e > 0 {
					line += fmt.Sprintf("/%d", e)
				}
				line += fmt.Sprintf(" (%.0f/s)", float64(counted-lastCounted)/dt)
			}
			fmt.Fprint(p.w, "\r\033[K"+line)
			lastSent, lastCounted, last = sent, counted, now
		}
	}
}

func (p *progress) stop() {
	p.once.Do(func() { close(p.quit) })
	<-p.done
}

// IsTerminal reports whether f is a terminal (the progress line is only
// drawn on one).
func IsTerminal(f *os.File) bool { return isTerminal(f) }
