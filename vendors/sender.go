package vendors

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sender delivers one notification to many tokens of one vendor account.
// Implementations are safe for concurrent use; Send never retries on its
// own (the caller owns retry policy) except for transparent auth refresh.
type Sender interface {
	// Kind is the vendor this sender talks to.
	Kind() Kind
	// MaxBatch is the most targets one Send may carry (1000 for the batch
	// vendors; APNs and FCM send one request per token, concurrently).
	MaxBatch() int
	// Send delivers n to every target and returns one Result per target,
	// in order. The error is for failures of the whole call that produced
	// no verdicts (a cancelled context, a closed sender); vendor answers,
	// including auth and transport failures, are Results.
	Send(ctx context.Context, n *Notification, targets []Target) ([]Result, error)
}

// Priority of a notification.
type Priority int

// Priorities.
const (
	PriorityNormal Priority = iota
	PriorityHigh
)

// Notification is the vendor-neutral content of one push, already resolved
// for the vendor it goes to (its channel and category come from the push
// resource's entry for that vendor).
type Notification struct {
	MessageID   string            // idempotency id; every sender also puts it in the custom data as "message_id"
	Title       string            // may be empty for passthrough
	Body        string            // the notification text ("content" in the API)
	Data        map[string]string // custom data delivered to the app (payload, call_id, …)
	Passthrough bool              // data-only message: no visible notification
	Priority    Priority
	TTL         time.Duration // how long the vendor may hold it; 0 = vendor default
	CollapseID  string        // replaces an earlier notification with the same id
	Badge       *int          // absolute badge count to show; nil = leave as is
	Sound       string        // "" = vendor default
	VoIP        bool          // a call: APNs VoIP push, Android high priority / call category
	Channel     string        // Android notification channel (FCM channel_id, Xiaomi/OPPO channel_id)
	Category    string        // vendor category: APNs category, Huawei IM/VOIP, vivo/OPPO IM…
	NotifyLevel int           // OPPO notify_level (1, 2, 16); 0 = vendor default
	ThreadID    string        // APNs thread-id
	Mutable     bool          // APNs mutable-content
	// ReceiptRef, when set, asks the vendor for an arrival receipt: the
	// vendor echoes it in the receipt it posts when the notification
	// reaches a device (Huawei bi_tag, Xiaomi and vivo
	// extra.callback.param, OPPO call_back_parameter), and herald maps it
	// back to the message. At most MaxReceiptRef bytes of URL-safe
	// base64. Vendors without arrival receipts (APNs, FCM) ignore it; so
	// does a client configured without a receipt URL.
	ReceiptRef string
}

// Target is one device token to send to.
type Target struct {
	Token string
	// APNsEnv is the APNs environment for this token: production,
	// development or automatic. Other vendors ignore it.
	APNsEnv string
	// Badge, when set, is this token's badge count and wins over
	// Notification.Badge. Only senders that make one request per target
	// (RequestPerTarget) honour it; the batch vendors send one payload to
	// every token of a request.
	Badge *int
}

// PerTarget is implemented by senders that make one vendor request per
// target (APNs, FCM, Web): each target of a Send counts as one request
// against qps and max_in_flight, and Target.Badge is honoured.
type PerTarget interface {
	RequestPerTarget() bool
}

// Progress is implemented by per-target senders that tell, while a Send
// runs, each time one target's request is over. The caller gives that
// target's request slot (max_in_flight) back at once instead of holding it
// until the batch's slowest target answers.
type Progress interface {
	// SendProgress is Send, calling ended (from whichever goroutine ran the
	// request) once for each target whose request ends while it runs;
	// targets it was not called for are over when it returns.
	SendProgress(ctx context.Context, n *Notification, targets []Target, ended func()) ([]Result, error)
}

// EachSender is implemented by batch senders whose vendor takes a
// different notification for each target of one request (OPPO's
// unicast_batch, Xiaomi's /v2/multi_messages/regids). The senders put the rows of many single messages (peer
// messages, each its own notification) into one such request instead of a
// request each.
type EachSender interface {
	// SendEach delivers ns[i] to targets[i] for every i (as many
	// notifications as targets) and returns one Result per target, in
	// order; the error is Send's.
	SendEach(ctx context.Context, ns []*Notification, targets []Target) ([]Result, error)
}

// RequestPerTarget reports whether s makes one vendor request per target.
func RequestPerTarget(s Sender) bool {
	p, ok := s.(PerTarget)
	return ok && p.RequestPerTarget()
}

// Verdict is what a vendor's answer means for one token.
type Verdict int

// Verdicts.
const (
	Delivered         Verdict = iota // accepted by the vendor
	TokenInvalid                     // the token is dead: unbind it, never retry
	Retry                            // transient: try again later (RetryAfter if the vendor said)
	CredentialsBroken                // our credentials were refused: pause the account
	Rejected                         // the request itself is wrong: do not retry
	Misconfigured                    // the vendor's answer says our setup is wrong (a redirect): pause the account, as CredentialsBroken
)

func (v Verdict) String() string {
	switch v {
	case Delivered:
		return "delivered"
	case TokenInvalid:
		return "token_invalid"
	case Retry:
		return "retry"
	case CredentialsBroken:
		return "credentials_broken"
	case Rejected:
		return "rejected"
	case Misconfigured:
		return "misconfigured"
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// Result is the outcome for one target.
type Result struct {
	Verdict    Verdict
	Code       string        // the vendor's own code or reason, e.g. "BadDeviceToken", "80300007", "UNREGISTERED"
	Reason     string        // human-readable detail
	RetryAfter time.Duration // for Retry, when the vendor said how long
	// Throttled marks a Retry the vendor answered to slow us down (HTTP
	// 429, a quota): it is up, so the circuit breaker does not count it.
	Throttled bool
	// NotSent marks a verdict the client reached itself, before anything
	// went to the vendor (a payload over the limit, a malformed token):
	// no attempt is counted for it.
	NotSent bool
	// ResolvedEnv is set by APNs when an automatic token turned out to
	// belong to one environment ("production" or "development").
	ResolvedEnv string
}

// OK reports whether the vendor accepted the notification.
func (r Result) OK() bool { return r.Verdict == Delivered }

// Err returns nil for Delivered, else an *Error describing the result.
func (r Result) Err() error {
	if r.Verdict == Delivered {
		return nil
	}
	return &Error{Verdict: r.Verdict, Code: r.Code, Reason: r.Reason, RetryAfter: r.RetryAfter, Throttled: r.Throttled}
}

// Error is the one typed vendor error; inspect it with errors.As.
type Error struct {
	Verdict    Verdict
	Code       string
	Reason     string
	RetryAfter time.Duration
	Throttled  bool
}

// ResultOf is the Result an *Error in err's chain stands for (a vendor
// client's token fetch hands its verdict through its cache that way); ok
// is false when err holds none.
func ResultOf(err error) (r Result, ok bool) {
	var e *Error
	if !errors.As(err, &e) {
		return Result{}, false
	}
	return Result{Verdict: e.Verdict, Code: e.Code, Reason: e.Reason, RetryAfter: e.RetryAfter, Throttled: e.Throttled}, true
}

func (e *Error) Error() string {
	s := "vendors: " + e.Verdict.String()
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Retryable reports whether trying again later may succeed.
func (e *Error) Retryable() bool { return e.Verdict == Retry }

// TokenInvalid reports whether the token should be unbound.
func (e *Error) TokenInvalid() bool { return e.Verdict == TokenInvalid }

// SendParts sends n targets in consecutive parts (requests) and files
// their results in out: part(start) sends targets start..end-1 (end >
// start) and returns end and their results, in order. at[j] is where the
// j-th target's result goes in out (nil: j). The first part's error is
// the call's: nothing was sent. Once a part was answered, an error makes
// every target not yet sent Retry (code "canceled", reason prefix + the
// error) and the call ends without one, so the answered ones are kept.
func SendParts(out []Result, n int, at []int, prefix string, part func(start int) (int, []Result, error)) ([]Result, error) {
	slot := func(j int) int {
		if at == nil {
			return j
		}
		return at[j]
	}
	for start := 0; start < n; {
		end, res, err := part(start)
		if err != nil {
			if start == 0 {
				return nil, err
			}
			r := Result{Verdict: Retry, Code: "canceled", Reason: prefix + err.Error()}
			for j := start; j < n; j++ {
				out[slot(j)] = r
			}
			return out, nil
		}
		for k, r := range res {
			out[slot(start+k)] = r
		}
		start = end
	}
	return out, nil
}

// Fill returns results of len(targets) all set to r; for whole-request
// answers (auth failures, 5xx) that apply to every token of a batch.
func Fill(n int, r Result) []Result {
	out := make([]Result, n)
	for i := range out {
		out[i] = r
	}
	return out
}

// CheckSend is the contract every Sender checks before sending: a
// notification, at most max targets (max <= 0: no limit), and a context
// that is not done. The error is for Send to return, wrapped with the
// vendor's name.
func CheckSend(ctx context.Context, n *Notification, targets []Target, max int) error {
	switch {
	case n == nil:
		return errors.New("nil notification")
	case max > 0 && len(targets) > max:
		return fmt.Errorf("%d targets, at most %d per Send", len(targets), max)
	}
	return ctx.Err()
}

// CheckSendEach is CheckSend for SendEach: as many notifications as
// targets, none nil, at most max targets, a context not done.
func CheckSendEach(ctx context.Context, ns []*Notification, targets []Target, max int) error {
	switch {
	case len(ns) != len(targets):
		return fmt.Errorf("%d notifications for %d targets", len(ns), len(targets))
	case max > 0 && len(targets) > max:
		return fmt.Errorf("%d targets, at most %d per Send", len(targets), max)
	}
	for _, n := range ns {
		if n == nil {
			return errors.New("nil notification")
		}
	}
	return ctx.Err()
}
