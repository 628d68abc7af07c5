package actors

import (
	"time"

	"github.com/herald-push/herald/internal/clock"
)

// Clock is the actors' time: leases, idle timeouts, and every timer the
// actors arm (a sender's wake-ups, call timeouts, the idle sweep). The
// wall clock is clock.System; tests use internal/testutil.Clock.
type Clock = clock.Clock

// maxTimerWait bounds how long a timer for a deadline in unix time (a
// retry's not_before, the quota's next UTC day, a call's deadline) waits:
// timers run on the monotonic clock, so if the wall clock is stepped
// forward such a deadline comes sooner than its timer; the timer then
// fires at most this late.
const maxTimerWait = time.Minute
