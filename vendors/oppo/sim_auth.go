package oppo

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// simAuthData is the data of a successful auth answer.
type simAuthData struct {
	AuthToken  string `json:"auth_token"`
	CreateTime int64  `json:"create_time"`
}

// serveAuth is POST /server/v1/auth: form app_key, timestamp (ms, within
// ±10 min), sign = hex SHA-256(app_key+timestamp+master_secret).
func (s *Simulator) serveAuth(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.authCalls++
	s.mu.Unlock()
	if r.Method != http.MethodPost {
		replyCode(w, codeHTTPActionNotAllowed, "")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSimBody)
	if err := r.ParseForm(); err != nil {
		replyCode(w, codeInvalidArguments, "unreadable form")
		return
	}
	appKey, ts, sig := r.PostForm.Get("app_key"), r.PostForm.Get("timestamp"), r.PostForm.Get("sign")
	now := s.now()
	switch {
	case appKey == "":
		replyCode(w, codeMissingAppKey, "")
		return
	case sig == "":
		replyCode(w, codeMissingSignature, "")
		return
	case ts == "":
		replyCode(w, codeMissingTimestamp, "")
		return
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.UnixMilli(ms)).Abs() > timestampWindow {
		replyCode(w, codeInvalidTimestamp, "")
		return
	}
	if subtle.ConstantTimeCompare([]byte(appKey), []byte(s.appKey)) != 1 {
		replyCode(w, codeInvalidAppKey, "")
		return
	}
	want := sign(s.appKey, ts, s.secret)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(sig)), []byte(want)) != 1 {
		replyCode(w, codeInvalidSignature, "")
		return
	}
	tok, ok := s.issueToken(now)
	if !ok {
		replyCode(w, codeUnavailable, "")
		return
	}
	reply(w, codeSuccess, "Success", simAuthData{AuthToken: tok, CreateTime: now.UnixMilli()})
}

// issueToken creates an auth token valid for the TTL, dropping expired ones.
func (s *Simulator) issueToken(now time.Time) (string, bool) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", false
	}
	tok := hex.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, exp := range s.tokens {
		if !now.Before(exp) || len(s.tokens) >= maxSimTokens {
			delete(s.tokens, t)
		}
	}
	s.tokens[tok] = now.Add(s.ttl)
	return tok, true
}

// validToken reports whether tok was issued and has not expired.
func (s *Simulator) validToken(tok string) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && now.Before(exp)
}
