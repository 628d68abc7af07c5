package simkit

import (
	"sync"
	"time"
)

// Limits make a simulator enforce a vendor's rate limit and daily quota.
type Limits struct {
	QPS        float64 // requests per second; 0 = unlimited
	DailyQuota int64   // notifications per UTC day; 0 = unlimited
}

// Gate enforces Limits. Safe for concurrent use.
type Gate struct {
	now    func() time.Time
	mu     sync.Mutex
	limits Limits
	tokens float64
	last   time.Time
	day    string
	used   int64
}

// NewGate returns a Gate for l. now may be nil (wall clock).
func NewGate(l Limits, now func() time.Time) *Gate {
	if now == nil {
		now = time.Now
	}
	return &Gate{now: now, limits: l, tokens: l.QPS}
}

// SetLimits changes the limits (tests and the sim control endpoint).
func (g *Gate) SetLimits(l Limits) {
	g.mu.Lock()
	g.limits = l
	g.tokens = l.QPS
	g.mu.Unlock()
}

// AllowRequest takes one request from the QPS bucket (burst = one second's
// worth); false means the vendor would answer with its flow-control error.
func (g *Gate) AllowRequest() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.limits.QPS <= 0 {
		return true
	}
	now := g.now()
	if !g.last.IsZero() {
		g.tokens = min(g.limits.QPS, g.tokens+now.Sub(g.last).Seconds()*g.limits.QPS)
	}
	g.last = now
	if g.tokens < 1 {
		return false
	}
	g.tokens--
	return true
}

// TakeQuota takes n notifications from today's quota; false (and nothing
// taken) means the vendor would answer with its daily-quota error.
func (g *Gate) TakeQuota(n int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.limits.DailyQuota <= 0 {
		return true
	}
	day := g.now().UTC().Format(time.DateOnly)
	if day != g.day {
		g.day, g.used = day, 0
	}
	if g.used+int64(n) > g.limits.DailyQuota {
		return false
	}
	g.used += int64(n)
	return true
}
