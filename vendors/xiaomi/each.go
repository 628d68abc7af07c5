package xiaomi

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/wire"
)

// SendEach posts ns[i] to targets[i] for every i in one
// /v2/multi_messages/regids request, whose messages may each differ: the
// rows of many single messages (peer messages) share a request instead of
// taking one each. It returns one Result per target, in order. Targets
// whose token cannot be a registration id are TokenInvalid without being
// sent, as in Send. A notification MiPush would refuse as encoded (a
// notification message without text or channel, see encoder.refusal) is
// Rejected, code "encode", for its own targets only; the others go.
// Consecutive targets with the same notification pointer share one
// encoding of it. The errors are Send's: a nil notification, more than
// MaxBatch targets, a cancelled ctx, and also len(ns) != len(targets).
func (c *Client) SendEach(ctx context.Context, ns []*vendors.Notification, targets []vendors.Target) ([]vendors.Result, error) {
	switch {
	case len(ns) != len(targets):
		return nil, fmt.Errorf("xiaomi: send each: %d notifications for %d targets", len(ns), len(targets))
	case len(targets) > MaxBatch:
		return nil, fmt.Errorf("xiaomi: send each: %d targets, at most %d per Send", len(targets), MaxBatch)
	}
	for _, n := range ns {
		if n == nil {
			return nil, errors.New("xiaomi: send each: nil notification")
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("xiaomi: send each: %w", err)
	}
	out := make([]vendors.Result, len(targets))
	body, regIDs, slots := c.eachRequest(ns, targets, out)
	if len(regIDs) == 0 {
		return out, nil
	}
	got, err := c.post(ctx, c.each, body, regIDs)
	if err != nil {
		return nil, err
	}
	for j, i := range slots {
		out[i] = got[j]
	}
	return out, nil
}

// eachRequest builds SendEach's form body for the targets that can go:
// regIDs are their tokens, slots their indexes in targets. The others are
// answered in out (TokenInvalid or Rejected). Each run of one notification
// among the sent targets is encoded and form-escaped once, straight into
// the body; its other targets copy those bytes.
func (c *Client) eachRequest(ns []*vendors.Notification, targets []vendors.Target, out []vendors.Result) (body []byte, regIDs []string, slots []int) {
	regIDs = make([]string, 0, len(targets))
	slots = make([]int, 0, len(targets))
	var (
		prev    *vendors.Notification
		refused string
		size    = 64 // the body's size but its messages, about
	)
	for i, t := range targets {
		if !plausibleRegID(t.Token) {
			out[i] = invalidRegID
			continue
		}
		if n := ns[i]; n != prev {
			prev, refused = n, c.enc.refusal(n)
		}
		if refused != "" {
			out[i] = vendors.Result{Verdict: vendors.Rejected, Code: "encode", Reason: "xiaomi: " + refused}
			continue
		}
		regIDs = append(regIDs, t.Token)
		slots = append(slots, i)
		size += 3*len(t.Token) + 40
	}
	if len(regIDs) == 0 {
		return nil, nil, nil
	}
	var scratch []byte // one message's JSON before escaping
	prev = nil
	body = append(make([]byte, 0, size+len("messages=")), "messages="...)
	body = appendEach(body, regIDs, func(j int) ([]byte, bool) {
		if n := ns[slots[j]]; n != prev {
			prev = n
			scratch = c.enc.appendMessage(scratch[:0], n)
			return scratch, false
		}
		return nil, true
	}, wire.AppendQueryEscaped[[]byte])
	return body, regIDs, slots
}

// appendEach appends the messages array for regIDs to dst, every byte of
// it through esc (appendRaw for the JSON, wire.AppendQueryEscaped for the
// form value): entry j is {"target":regIDs[j],"message":m}, m being the
// message object at(j) returns, or, when at says it is the same as entry
// j-1's, a copy of that entry's message as already written.
func appendEach(dst []byte, regIDs []string, at func(j int) (msg []byte, same bool), esc func(dst, b []byte) []byte) []byte {
	// The constant parts, escaped once.
	open := esc(nil, []byte(`{"target":`))
	mid := esc(nil, []byte(`,"message":`))
	closeOne := esc(nil, []byte(`}`))
	comma := esc(nil, []byte(`,`))
	dst = esc(dst, []byte(`[`))
	var scratch []byte // one target, as a JSON string
	var last, end int  // dst[last:end] is the last message written
	for j, reg := range regIDs {
		if j > 0 {
			dst = append(dst, comma...)
		}
		start := len(dst)
		dst = append(dst, open...)
		scratch = wire.AppendJSONString(scratch[:0], reg)
		dst = esc(dst, scratch)
		dst = append(dst, mid...)
		if msg, same := at(j); same && j > 0 {
			dst = append(dst, dst[last:end]...)
		} else {
			last = len(dst)
			dst = esc(dst, msg)
			end = len(dst)
			if j == 0 {
				// The first entry's size is the estimate for the others.
				dst = slices.Grow(dst, (len(regIDs)-1)*(len(dst)-start+len(comma)+len(closeOne)))
			}
		}
		dst = append(dst, closeOne...)
	}
	return esc(dst, []byte(`]`))
}

// appendRaw appends b unchanged.
func appendRaw(dst, b []byte) []byte { return append(dst, b...) }
