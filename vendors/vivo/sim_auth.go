package vivo

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/herald-push/herald/vendors/internal/flexjson"
)

// maxBodyBytes bounds a request body the simulator reads.
const maxBodyBytes = 1 << 20

// authClockSkew is how far a timestamp may be from vivo's clock.
const authClockSkew = 10 * time.Minute

// simAuthRequest is a /message/auth body; appId and timestamp are each a
// number or a string, anything else reading as none.
type simAuthRequest struct {
	AppID     flexjson.LaxString `json:"appId"`
	AppKey    string             `json:"appKey"`
	Timestamp flexjson.LaxString `json:"timestamp"`
	Sign      string             `json:"sign"`
}

// readJSON checks method and content type and reads the body. It writes
// the answer and returns false when the request is unusable.
func readJSON(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return nil, false
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		fail(w, codeParamInvalid, "Content-Type 必须为 application/json")
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || len(body) > maxBodyBytes {
		fail(w, codeParamInvalid, "请求体不合法")
		return nil, false
	}
	return body, true
}

func (s *Simulator) serveAuth(w http.ResponseWriter, r *http.Request) {
	s.authCalls.Add(1)
	body, ok := readJSON(w, r)
	if !ok {
		return
	}
	var req simAuthRequest
	if err := json.Unmarshal(body, &req); err != nil {
		fail(w, codeParamInvalid, "请求体不是合法的JSON")
		return
	}
	appID, ts := string(req.AppID), string(req.Timestamp)
	switch {
	case appID == "":
		fail(w, codeAuthAppIDEmpty, "appId 不能为空")
	case req.AppKey == "":
		fail(w, codeAuthAppKeyEmpty, "appKey 不能为空")
	case ts == "":
		fail(w, codeAuthTimestampEmpty, "timestamp 不能为空")
	case req.Sign == "":
		fail(w, codeAuthSignEmpty, "sign 不能为空")
	case appID != s.appID:
		fail(w, codeAuthAppIDInvalid, "appId 不合法")
	case req.AppKey != s.appKey:
		fail(w, codeAuthAppKeyInvalid, "appKey 不合法")
	default:
		ms, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || absDuration(s.now().Sub(time.UnixMilli(ms))) > authClockSkew {
			fail(w, codeAuthTimestampBad, "timestamp 不合法")
			return
		}
		if req.Sign != sign(s.appID, s.appKey, ms, s.secret) {
			fail(w, codeAuthSignInvalid, "sign 不合法")
			return
		}
		reply(w, simAnswer{Result: codeOK, Desc: "请求成功", AuthToken: s.issueToken()})
	}
}

func (s *Simulator) issueToken() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tokens) >= 1024 { // forget expired tokens now and then
		for t, exp := range s.tokens {
			if !now.Before(exp) {
				delete(s.tokens, t)
			}
		}
	}
	s.tokens[token] = now.Add(s.ttl)
	return token
}

// checkToken answers vivo's auth failure (10000) and returns false when the
// request's authToken header is missing, unknown or expired.
func (s *Simulator) checkToken(w http.ResponseWriter, r *http.Request) bool {
	token := r.Header.Get("authToken")
	s.mu.Lock()
	exp, ok := s.tokens[token]
	s.mu.Unlock()
	switch {
	case token == "" || !ok:
		fail(w, codeAuthFailed, "权限认证失败")
		return false
	case !s.now().Before(exp):
		fail(w, codeAuthFailed, "权限认证失败: authToken 已过期")
		return false
	}
	return true
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
