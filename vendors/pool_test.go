package vendors

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestPoolRunsEveryJobWithAtMostMaxWorkers(t *testing.T) {
	p := NewPool(3)
	defer p.Close()
	var (
		running, peak, ran atomic.Int64
		wg                 sync.WaitGroup
		release            = make(chan struct{})
	)
	job := func() {
		defer wg.Done()
		n := running.Add(1)
		for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
		}
		<-release
		running.Add(-1)
		ran.Add(1)
	}
	wg.Add(50)
	for range 3 {
		p.Go(job) // each starts a worker: none is idle yet
	}
	submitted := make(chan struct{})
	go func() {
		for range 47 {
			p.Go(job) // wait for a free worker
		}
		close(submitted)
	}()
	close(release)
	<-submitted
	wg.Wait()
	if ran.Load() != 50 {
		t.Fatalf("ran %d jobs, want 50", ran.Load())
	}
	if peak.Load() > 3 {
		t.Fatalf("%d jobs ran at once, max 3", peak.Load())
	}
	p.mu.Lock()
	workers := p.workers
	p.mu.Unlock()
	if workers != 3 {
		t.Fatalf("%d workers started, want 3 (reused, never more than max)", workers)
	}
}

func TestPoolAfterCloseStillRunsJobs(t *testing.T) {
	p := NewPool(1)
	p.Close()
	done := make(chan struct{})
	p.Go(func() { close(done) })
	<-done
	p.Close() // twice is fine
}
