package vendors

import "sync"

// Pool runs jobs on long-lived goroutines, at most max at once. A vendor
// request goes deep into net/http and HTTP/2; a goroutine started per
// request grows its stack from scratch every time, while a pooled one keeps
// the stack it grew. Workers start on demand and live until Close, so an
// idle client holds only the workers its busiest moment needed.
type Pool struct {
	jobs chan func()
	done chan struct{}

	mu      sync.Mutex
	workers int
	max     int
	closed  bool
	wg      sync.WaitGroup
}

// NewPool returns a pool of at most n workers (at least 1).
func NewPool(n int) *Pool {
	return &Pool{jobs: make(chan func()), done: make(chan struct{}), max: max(1, n)}
}

// Max is the most workers the pool runs.
func (p *Pool) Max() int { return p.max }

// Go runs fn on an idle worker, on a new one while fewer than max run, or
// waits for one to come free. After Close, fn runs on a goroutine of its own.
func (p *Pool) Go(fn func()) {
	select {
	case p.jobs <- fn:
		return
	default:
	}
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		go fn()
		return
	case p.workers < p.max:
		p.workers++
		p.wg.Add(1)
		p.mu.Unlock()
		go p.work(fn)
		return
	}
	p.mu.Unlock()
	select {
	case p.jobs <- fn:
	case <-p.done:
		go fn()
	}
}

func (p *Pool) work(fn func()) {
	defer p.wg.Done()
	for {
		fn()
		select {
		case fn = <-p.jobs:
		case <-p.done:
			return
		}
	}
}

// Close stops the workers once their current jobs end and waits for them.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	p.wg.Wait()
}
