package xiaomi

import (
	"context"
	"fmt"
	"slices"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/wire"
)

// MaxEachBody bounds the body of one /v2/multi_messages/regids request
// SendEach makes, in bytes; targets past it go in further requests.
// MiPush does not document a limit, so this is a conservative guess at
// its own: 1 MiB is nginx's default client_max_body_size, half of
// Tomcat's default maxPostSize (2 MB, past which a Java server drops the
// form's fields) and a quarter of the simulator's cap (maxSimBody). A
// thousand ordinary chat notifications, about 0.7 MB escaped, still take
// one request; a thousand carrying kilobytes of data each (every byte of
// a message is form-escaped, JSON inside JSON: non-ASCII data triples)
// take several. Guessing low costs a request; guessing high would have
// MiPush refuse the whole request, every target Rejected without retry.
const MaxEachBody = 1 << 20

// SendEach posts ns[i] to targets[i] for every i through
// /v2/multi_messages/regids, whose messages may each differ: the rows of
// many single messages (peer messages) share a request instead of taking
// one each. The targets go in as few requests as MaxEachBody allows, in
// order: one, unless their messages are large. It returns one Result per
// target, in order. Targets whose token cannot be a registration id are
// TokenInvalid without being sent, as in Send. A notification MiPush
// would refuse as encoded (a notification message without text or a
// payload past MiPush's limit, see encoder.limit) is Rejected, code
// "encode", for its own targets only; the others go. Consecutive targets with the same
// notification pointer share one encoding of it. The errors are Send's: a
// nil notification, more than MaxBatch targets, a cancelled ctx, and also
// len(ns) != len(targets). A ctx that ends after the first request was
// answered is no error: the targets not sent yet are Retry, code
// "canceled".
func (c *Client) SendEach(ctx context.Context, ns []*vendors.Notification, targets []vendors.Target) ([]vendors.Result, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if err := vendors.CheckSendEach(ctx, ns, targets, MaxBatch); err != nil {
		return nil, fmt.Errorf("xiaomi: send each: %w", err)
	}
	out := make([]vendors.Result, len(targets))
	regIDs, slots := c.eachTargets(ns, targets, out)
	bodies := newEachBodies(c.enc, ns, regIDs, slots, MaxEachBody)
	return vendors.SendParts(out, len(slots), slots, "", func(start int) (int, []vendors.Result, error) {
		body, end := bodies.next(start)
		got, err := c.post(ctx, c.each, body, regIDs[start:end])
		return end, got, err
	})
}

// eachTargets picks SendEach's targets that can go: regIDs are their
// tokens, slots their indexes in targets. The others are answered in out
// (TokenInvalid or Rejected).
func (c *Client) eachTargets(ns []*vendors.Notification, targets []vendors.Target, out []vendors.Result) (regIDs []string, slots []int) {
	regIDs = make([]string, 0, len(targets))
	slots = make([]int, 0, len(targets))
	var (
		prev    *vendors.Notification
		refused string
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
			out[i] = vendors.Result{Verdict: vendors.Rejected, Code: "encode", Reason: refused, NotSent: true}
			continue
		}
		regIDs = append(regIDs, t.Token)
		slots = append(slots, i)
	}
	return regIDs, slots
}

// eachPrefix starts every SendEach body: its only form field.
const eachPrefix = "messages="

// eachBodies writes the request bodies of one SendEach: "messages=", then
// the messages array of consecutive entries, entry j being
// {"target":regIDs[j],"message":<ns[slots[j]] as appendMessage writes
// it>}, every byte of the array form-escaped. Each run of one
// notification is encoded and escaped once, even across bodies; its
// other entries copy those bytes.
type eachBodies struct {
	enc    encoder
	ns     []*vendors.Notification
	regIDs []string
	slots  []int
	budget int

	// The constant parts, escaped once.
	arr, open, mid, closeOne, comma, closeAll []byte

	prev   *vendors.Notification // the notification msg holds
	msg    []byte                // prev's message object, escaped
	json   []byte                // scratch: a message object or a target, as JSON
	target []byte                // the entry's target, escaped
}

func newEachBodies(enc encoder, ns []*vendors.Notification, regIDs []string, slots []int, budget int) *eachBodies {
	b := &eachBodies{enc: enc, ns: ns, regIDs: regIDs, slots: slots, budget: budget}
	// Escaped into one buffer, piece by piece (the escaping maps byte by byte).
	raw := []byte(`[{"target":,"message":},]`)
	buf := make([]byte, 0, 3*len(raw))
	piece := func(from, to int) []byte {
		start := len(buf)
		buf = wire.AppendQueryEscaped(buf, raw[from:to])
		return buf[start:len(buf):len(buf)]
	}
	b.arr, b.open, b.mid = piece(0, 1), piece(1, 11), piece(11, 22)
	b.closeOne, b.comma, b.closeAll = piece(22, 23), piece(23, 24), piece(24, 25)
	return b
}

// next returns the body for the entries from start on, as many as fit in
// the budget (at least one, alone over it if it must), and the index past
// the last of them.
func (b *eachBodies) next(start int) (body []byte, end int) {
	b.entry(start)
	size := len(b.open) + len(b.target) + len(b.mid) + len(b.msg) + len(b.closeOne)
	fixed := len(eachPrefix) + len(b.arr) + len(b.closeAll)
	// Sized for the other entries as large as the first, within the
	// budget: a large first message must not reserve 999 copies of itself.
	want := fixed + (len(b.regIDs)-start)*(size+len(b.comma))
	body = make([]byte, 0, max(fixed+size, min(want, b.budget)))
	body = append(body, eachPrefix...)
	body = append(body, b.arr...)
	body = b.appendEntry(body)
	for j := start + 1; j < len(b.regIDs); j++ {
		b.entry(j)
		size = len(b.comma) + len(b.open) + len(b.target) + len(b.mid) + len(b.msg) + len(b.closeOne)
		if len(body)+size+len(b.closeAll) > b.budget {
			return append(body, b.closeAll...), j
		}
		body = append(body, b.comma...)
		body = b.appendEntry(body)
	}
	return append(body, b.closeAll...), len(b.regIDs)
}

// appendEntry appends the entry entry prepared.
func (b *eachBodies) appendEntry(body []byte) []byte {
	body = append(body, b.open...)
	body = append(body, b.target...)
	body = append(body, b.mid...)
	body = append(body, b.msg...)
	return append(body, b.closeOne...)
}

// entry prepares entry j's escaped target and message.
func (b *eachBodies) entry(j int) {
	// Escaping at most triples; grown to that at once.
	b.json = wire.AppendJSONString(b.json[:0], b.regIDs[j])
	b.target = wire.AppendQueryEscaped(slices.Grow(b.target[:0], 3*len(b.json)), b.json)
	if n := b.ns[b.slots[j]]; n != b.prev {
		b.prev = n
		b.json = b.enc.appendMessage(slices.Grow(b.json[:0], 512), n)
		b.msg = wire.AppendQueryEscaped(slices.Grow(b.msg[:0], 3*len(b.json)), b.json)
	}
}
