package actors

import (
	"math"
	"sync/atomic"
	"time"
)

// Yield makes group fan-outs give way to chat traffic when the CPU is
// short. A fan-out is bulk work: 100 000 notifications that may take a few
// seconds more. A peer message, a call or a presence change is a request
// someone waits for. On a machine the fan-out saturates, every goroutine
// hop of such a request (the connection's read, the WAL sync, the answer)
// waits in the Go scheduler's run queue behind the fan-out's hundreds of
// runnable senders, so its latency grows to tens or hundreds of
// milliseconds however short its own work is. Go has no goroutine
// priorities; what herald controls is how much bulk work it starts.
//
// So while chat traffic has arrived within YieldQuiet, the daemon feeds
// Observe the scheduler's latency (the p99 of how long runnable goroutines
// waited for a CPU, runtime/metrics /sched/latencies:seconds) every
// YieldEvery, and Yield turns it into a share of each sender's
// max_in_flight that the bulk lane may fill: halved while the p99 is over
// the target, grown back by a fifth while it is under half of it. Express
// and priority batches (peer and users messages, calls) are never held.
// With no chat traffic the share is 1: a fan-out alone runs at full speed.
// This is how CockroachDB's elastic admission control paces its bulk
// work (on the same signal, with a 1 ms target).
type Yield struct {
	target time.Duration // 0 = never yield
	share  atomic.Uint64 // math.Float64bits of the bulk share, (0, 1]
	chat   atomic.Int64  // unix nanos of the latest chat request (0 = none)
}

const (
	// YieldEvery is how often the daemon feeds Observe.
	YieldEvery = 25 * time.Millisecond
	// YieldQuiet: chat traffic older than this does not hold fan-outs back.
	YieldQuiet = time.Second
	// yieldMinShare is the least share of max_in_flight the bulk lane
	// keeps (never below one request in flight).
	yieldMinShare = 1.0 / 64
)

// NewYield returns a Yield for a scheduling-latency target; 0 = never
// yield (Share is always 1).
func NewYield(target time.Duration) *Yield {
	y := &Yield{target: target}
	y.share.Store(math.Float64bits(1))
	return y
}

// Chat records a latency-sensitive request at now.
func (y *Yield) Chat(now time.Time) {
	if y != nil {
		y.chat.Store(now.UnixNano())
	}
}

// Share is the share of max_in_flight the bulk lane may use now, in
// (0, 1]. A nil Yield never yields.
func (y *Yield) Share() float64 {
	if y == nil {
		return 1
	}
	return math.Float64frombits(y.share.Load())
}

// Observe takes the scheduler-latency p99 of the last YieldEvery and
// returns the new share.
func (y *Yield) Observe(now time.Time, p99 time.Duration) float64 {
	share := y.Share()
	last := y.chat.Load()
	switch {
	case y.target <= 0 || last == 0 || now.Sub(time.Unix(0, last)) > YieldQuiet:
		share = 1
	case p99 > y.target:
		share = max(yieldMinShare, share/2)
	case p99 < y.target/2:
		share = min(1, share*1.2)
	}
	y.share.Store(math.Float64bits(share))
	return share
}

// bulkLimit is the in-flight limit of bulk (ready-lane) starts for a
// sender whose max_in_flight is maxInFlight.
func bulkLimit(maxInFlight int, share float64) int {
	if share >= 1 {
		return maxInFlight
	}
	return max(1, int(math.Ceil(float64(maxInFlight)*share)))
}
