package vivo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/herald-push/herald/vendors"
)

// maxAnswerBytes bounds how much of a response body is read.
const maxAnswerBytes = 1 << 20

// Send delivers n to targets: one token through /message/send, 2..1000
// through saveListPayload + pushToList. It returns one Result per target;
// the error is only for a cancelled ctx, too many targets or a closed
// client.
func (c *Client) Send(ctx context.Context, n *vendors.Notification, targets []vendors.Target) ([]vendors.Result, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if err := vendors.CheckSend(ctx, n, targets, maxBatch); err != nil {
		return nil, fmt.Errorf("vivo: send: %w", err)
	}
	if len(targets) == 0 {
		return nil, nil
	}
	m, reject := buildMessage(c.appID, n)
	if reject != nil {
		return vendors.Fill(len(targets), *reject), nil
	}
	if n.ReceiptRef != "" && c.callback != "" {
		// vivo has receipts for /message/send only: a push that asks for
		// one goes to each device by itself.
		m.Extra = map[string]string{extraCallback: c.callback, extraCallbackParam: n.ReceiptRef}
		return c.sendSingles(ctx, m, targets)
	}
	if len(targets) == 1 {
		return c.sendOne(ctx, m, targets[0].Token)
	}
	return c.sendList(ctx, m, targets)
}

func (c *Client) sendOne(ctx context.Context, m message, regID string) ([]vendors.Result, error) {
	a, r, err := c.authed(ctx, pathSend, encodeSend(m, regID, newRequestID()))
	if err != nil {
		return nil, err
	}
	if r != nil {
		return []vendors.Result{*r}, nil
	}
	switch {
	case a.Result == codeOK:
		return []vendors.Result{{Verdict: vendors.Delivered}}, nil
	case a.Result == codeRegIDInvalid && a.InvalidUser != nil:
		res := statusResult(a.InvalidUser.Status, a.Desc)
		res.Code = "10302/" + res.Code
		return []vendors.Result{res}, nil
	}
	return []vendors.Result{codeResult(a.Result, a.Desc, c.now())}, nil
}

// maxSingles is how many /message/send requests of one Send are in flight
// at once.
const maxSingles = 16

// RequestPerTarget reports whether each target of a Send is a request of
// its own: so with receipts on (vivo's are for /message/send only), and
// the sender then charges qps and max_in_flight per device.
func (c *Client) RequestPerTarget() bool { return c.callback != "" }

// sendSingles sends m to each target through /message/send, at most
// maxSingles at a time. A target whose request was cancelled is Retry and
// the others keep their verdicts (a device that got the push is not sent
// it again); the error is ctx's, only when no request went through.
func (c *Client) sendSingles(ctx context.Context, m message, targets []vendors.Target) ([]vendors.Result, error) {
	if len(targets) == 1 {
		return c.sendOne(ctx, m, targets[0].Token)
	}
	out := make([]vendors.Result, len(targets))
	errs := make([]error, len(targets))
	sem := make(chan struct{}, maxSingles)
	var wg sync.WaitGroup
	for i, t := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			res, err := c.sendOne(ctx, m, t.Token)
			if err != nil {
				errs[i] = err
				return
			}
			out[i] = res[0]
		})
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			out[i] = vendors.Result{Verdict: vendors.Retry, Code: "cancelled", Reason: err.Error()}
		}
	}
	if failed == len(targets) {
		return nil, errs[0]
	}
	return out, nil
}

func (c *Client) sendList(ctx context.Context, m message, targets []vendors.Target) ([]vendors.Result, error) {
	n := len(targets)
	a, r, err := c.authed(ctx, pathSaveList, encodeSaveList(m, newRequestID()))
	if err != nil {
		return nil, err
	}
	if r != nil {
		return vendors.Fill(n, *r), nil
	}
	if a.Result != codeOK {
		return vendors.Fill(n, codeResult(a.Result, a.Desc, c.now())), nil
	}
	if a.TaskID == "" {
		return vendors.Fill(n, vendors.Result{Verdict: vendors.Retry, Code: "malformed_response", Reason: "saveListPayload answered without taskId"}), nil
	}
	regIDs := make([]string, n)
	for i, t := range targets {
		regIDs[i] = t.Token
	}
	a, r, err = c.authed(ctx, pathPushToList, encodePushToList(c.appID, regIDs, a.TaskID, newRequestID()))
	if err != nil {
		return nil, err
	}
	if r != nil {
		return vendors.Fill(n, *r), nil
	}
	if a.Result != codeOK {
		return vendors.Fill(n, codeResult(a.Result, a.Desc, c.now())), nil
	}
	return listResults(regIDs, a), nil
}

// listResults gives each regId of an accepted pushToList its result: the
// ones vivo lists in invalidUsers fail with their status, the rest are
// delivered.
func listResults(regIDs []string, a answer) []vendors.Result {
	out := make([]vendors.Result, len(regIDs))
	if len(a.InvalidUsers) == 0 {
		return out // all Delivered (the zero Verdict)
	}
	bad := make(map[string]int, len(a.InvalidUsers))
	for _, u := range a.InvalidUsers {
		bad[u.UserID] = u.Status
	}
	for i, id := range regIDs {
		if st, ok := bad[id]; ok {
			out[i] = statusResult(st, "")
		}
	}
	return out
}

// authed posts body with the current authToken; on vivo's auth failure it
// refreshes the token once and resends.
func (c *Client) authed(ctx context.Context, path string, body []byte) (answer, *vendors.Result, error) {
	for attempt := 0; ; attempt++ {
		token, err := c.tokens.Get(ctx)
		if r, ok := vendors.ResultOf(err); ok {
			return answer{}, &r, nil
		}
		if err != nil {
			return answer{}, nil, fmt.Errorf("vivo: auth: %w", err)
		}
		a, r, err := c.post(ctx, path, body, token)
		if err != nil || r != nil || a.Result != codeAuthFailed || attempt > 0 {
			return a, r, err
		}
		c.tokens.Invalidate(token)
	}
}

// post sends one JSON request under the per-request timeout. A transport
// failure or a non-200 status (a redirect included: it is never followed)
// is a Result; the error is only ctx's.
func (c *Client) post(ctx context.Context, path string, body []byte, authToken string) (answer, *vendors.Result, error) {
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return answer{}, &vendors.Result{Verdict: vendors.Rejected, Code: "bad_request", Reason: err.Error(), NotSent: true}, nil
	}
	req.Header.Set("Content-Type", "application/json")
	if authToken != "" {
		req.Header.Set("authToken", authToken)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return transportFailure(ctx, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return transportFailure(ctx, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		res := httpResult(resp.StatusCode, resp.Header, raw, c.now())
		return answer{}, &res, nil
	}
	a, err := parseAnswer(raw)
	if err != nil {
		return answer{}, &vendors.Result{Verdict: vendors.Retry, Code: "malformed_response", Reason: err.Error()}, nil
	}
	return a, nil, nil
}

// transportFailure is ctx's error when the caller gave up, else a Retry
// result (the per-request timeout included).
func transportFailure(ctx context.Context, path string, err error) (answer, *vendors.Result, error) {
	if ctx.Err() != nil {
		return answer{}, nil, fmt.Errorf("vivo: %s: %w", path, ctx.Err())
	}
	code := "transport"
	if errors.Is(err, context.DeadlineExceeded) {
		code = "timeout"
	}
	return answer{}, &vendors.Result{Verdict: vendors.Retry, Code: code, Reason: err.Error()}, nil
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
