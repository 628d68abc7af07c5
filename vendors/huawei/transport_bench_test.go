//lint:file-ignore SA1019 the benchmark compares against the x/net/http2 transport on purpose.

package huawei

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
	"golang.org/x/net/http2"
)

// BenchmarkTransport compares net/http (HTTP/2, what the client uses) with
// fasthttp's client (HTTP/1.1) for the request the Huawei client makes most:
// one send of a 1000-token batch to the simulator over TLS, answer read and
// parsed. Run: go test -run '^$' -bench Transport -benchmem ./vendors/huawei
func BenchmarkTransport(b *testing.B) {
	e := newEnv(b, SimOptions{})
	tlsConf := e.ca.ClientTLS()
	tokens := make([]string, 1000)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("tok-%04d-%s", i, strings.Repeat("x", 120))
	}
	body, err := encodeSend(note("m1"), tokens, "")
	if err != nil {
		b.Fatal(err)
	}
	cfg := e.sim.ClientConfig(e.base, tlsConf)
	// One access token for both clients.
	std := &http.Client{Transport: &http2.Transport{TLSClientConfig: tlsConf}}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {cfg.AppID}, "client_secret": {cfg.AppSecret}}
	resp, err := std.PostForm(cfg.AuthURL, form)
	if err != nil {
		b.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	sendURL := cfg.PushURL + "/v1/" + cfg.AppID + "/messages:send"
	check := func(status int, answer []byte) {
		if status != 200 || !bytes.Contains(answer, []byte(`"80000000"`)) {
			b.Fatalf("answer %d %s", status, answer)
		}
	}
	b.Run("client=net_http_h2", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodPost, sendURL, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json;charset=UTF-8")
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			r, err := std.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			answer, _ := io.ReadAll(r.Body)
			r.Body.Close()
			check(r.StatusCode, answer)
		}
	})
	b.Run("client=fasthttp_h1", func(b *testing.B) {
		fc := &fasthttp.Client{TLSConfig: tlsConf}
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(res)
		for b.Loop() {
			req.Reset()
			req.SetRequestURI(sendURL)
			req.Header.SetMethod(fasthttp.MethodPost)
			req.Header.SetContentType("application/json;charset=UTF-8")
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			req.SetBodyRaw(body)
			if err := fc.Do(req, res); err != nil {
				b.Fatal(err)
			}
			check(res.StatusCode(), res.Body())
		}
	})
}
