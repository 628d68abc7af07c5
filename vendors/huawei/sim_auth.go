package huawei

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// Token-endpoint error codes (Huawei account server, HTTP 400).
const (
	oauthErrParam    = 1101 // parameter problem, see sub_error
	oauthErrMissing  = 1102 // missing parameter
	oauthErrNoClient = 1203 // client_id unknown
)

// maxSimTokens bounds how many live access tokens the simulator remembers.
const maxSimTokens = 1 << 16

var clientIDPattern = regexp.MustCompile(`^[0-9]{1,64}$`)

type oauthError struct {
	SubError         int    `json:"sub_error"`
	ErrorDescription string `json:"error_description"`
	Error            int    `json:"error"`
}

type oauthToken struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// serveToken is POST /oauth2/v3/token (and v2): client credentials.
func (s *Simulator) serveToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{Error: oauthErrMissing, SubError: 20181, ErrorDescription: "grant_type is empty"})
		return
	}
	f := r.PostForm
	id, secret, grant := f.Get("client_id"), f.Get("client_secret"), f.Get("grant_type")
	var e *oauthError
	switch {
	case grant == "":
		e = &oauthError{Error: oauthErrMissing, SubError: 20181, ErrorDescription: "grant_type is empty"}
	case grant != "client_credentials":
		e = &oauthError{Error: oauthErrParam, SubError: 20182, ErrorDescription: "invalid grant_type"}
	case id == "":
		e = &oauthError{Error: oauthErrMissing, SubError: 20001, ErrorDescription: "client_id is empty"}
	case !clientIDPattern.MatchString(id):
		e = &oauthError{Error: oauthErrParam, SubError: 20003, ErrorDescription: "invalid client_id"}
	case id != s.appID:
		e = &oauthError{Error: oauthErrNoClient, SubError: 12303, ErrorDescription: "client_id does not exist"}
	case secret == "":
		e = &oauthError{Error: oauthErrParam, SubError: 20171, ErrorDescription: "client_secret is empty"}
	case subtle.ConstantTimeCompare([]byte(secret), []byte(s.appSecret)) != 1:
		e = &oauthError{Error: oauthErrParam, SubError: 12304, ErrorDescription: "invalid client_secret"}
	}
	if e != nil {
		writeJSON(w, http.StatusBadRequest, e)
		return
	}
	tok, err := s.issueToken()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, oauthError{Error: 500, ErrorDescription: "system internal error"})
		return
	}
	writeJSON(w, http.StatusOK, oauthToken{AccessToken: tok, ExpiresIn: max(int64(s.ttl/time.Second), 1), TokenType: "Bearer"})
}

// issueToken mints an access token valid for the configured TTL.
func (s *Simulator) issueToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	tok := "DgEAA" + base64.StdEncoding.EncodeToString(b)
	now := s.now()
	s.mu.Lock()
	if len(s.tokens) >= 1024 {
		for t, exp := range s.tokens {
			if !now.Before(exp) {
				delete(s.tokens, t)
			}
		}
	}
	for t := range s.tokens {
		if len(s.tokens) < maxSimTokens {
			break
		}
		delete(s.tokens, t) // bounded: the oldest live tokens' owners refresh on 80200001
	}
	s.tokens[tok] = now.Add(s.ttl)
	s.mu.Unlock()
	return tok, nil
}

// tokenState reports whether the request's bearer token is known and live.
func (s *Simulator) tokenState(r *http.Request) (known, live bool) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return false, false
	}
	s.mu.Lock()
	exp, known := s.tokens[tok]
	s.mu.Unlock()
	return known, known && s.now().Before(exp)
}
