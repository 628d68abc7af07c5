package oppo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/httpclient"
	"github.com/herald-push/herald/vendors/internal/retryafter"
	"github.com/herald-push/herald/vendors/internal/tlsroots"
)

// maxAnswer bounds how much of a reply the client reads (a 1000-item batch
// answer is about 150 KB).
const maxAnswer = 4 << 20

// newHTTPClient builds the client over its own pooled transport: TLS from
// cfg (built again when SetRootCAs changes the roots), HTTP/2 when the
// server offers it through ALPN. OPPO answers directly; following a
// 307/308 would re-send the form, auth_token or sign with it, to the host
// in Location, so the client refuses it and post makes a 3xx
// redirect_refused (Misconfigured).
func newHTTPClient(cfg Config) (*http.Client, *tlsroots.Transport) {
	return httpclient.New(httpclient.Options{TLS: cfg.TLS, Timeout: cfg.Timeout, MaxIdleConnsPerHost: 32})
}

// post sends the form body, the concatenation of parts (sent without
// copying them into one), to path and returns OPPO's envelope. When there
// is no usable envelope it returns instead the Result standing for every
// target (transport failure, timeout, redirect, HTTP error, unreadable
// body). err is set only when ctx itself ended.
func (c *Client) post(ctx context.Context, path string, parts ...[]byte) (*answer, *vendors.Result, error) {
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	reqBody := func() io.Reader {
		rs := make([]io.Reader, len(parts))
		for i, p := range parts {
			rs[i] = bytes.NewReader(p)
		}
		return io.MultiReader(rs...)
	}
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.endpoint+path, reqBody())
	if err != nil {
		r := vendors.Result{Verdict: vendors.Rejected, Code: "bad_request", Reason: fmt.Sprintf("oppo: build request: %v", err), NotSent: true}
		return nil, &r, nil
	}
	for _, p := range parts {
		req.ContentLength += int64(len(p))
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(reqBody()), nil }
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return transportFailure(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return transportFailure(ctx, err)
	}
	if vendors.IsRedirect(resp.StatusCode) {
		// Not followed (RefuseRedirect), so whatever code its body holds,
		// 0 included, is not OPPO's answer.
		r := vendors.RedirectResult("OPPO", resp.StatusCode, resp.Header.Get("Location"))
		return nil, &r, nil
	}
	after := retryafter.FromHeader(resp.Header, c.now())
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		r := vendors.Result{Verdict: vendors.Retry, Code: "http_" + strconv.Itoa(resp.StatusCode),
			Reason: "OPPO answered HTTP " + resp.Status, RetryAfter: after, Throttled: resp.StatusCode == http.StatusTooManyRequests}
		return nil, &r, nil
	}
	parser := c.parsers.Get()
	a, err := decodeAnswer(parser, body)
	c.parsers.Put(parser)
	if err != nil {
		if resp.StatusCode/100 != 2 {
			r := vendors.Result{Verdict: vendors.Rejected, Code: "http_" + strconv.Itoa(resp.StatusCode),
				Reason: "OPPO answered HTTP " + resp.Status}
			return nil, &r, nil
		}
		r := malformed(err.Error())
		return nil, &r, nil
	}
	a.retryAfter = after
	return a, nil, nil
}

// transportFailure is post's answer to a failed round trip: Retry, unless
// the caller's ctx has ended, which is passed up as the error.
func transportFailure(ctx context.Context, err error) (*answer, *vendors.Result, error) {
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	code := "transport"
	if errors.Is(err, context.DeadlineExceeded) {
		code = "timeout"
	}
	r := vendors.Result{Verdict: vendors.Retry, Code: code, Reason: "oppo: " + err.Error()}
	return nil, &r, nil
}
