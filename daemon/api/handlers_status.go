package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
	"github.com/valyala/fasthttp"
)

// kindNames are every vendor's name, in vendors.Kinds order: a message's
// rows are looked for under each, configured or not.
func kindNames() []string {
	var out []string
	for _, k := range vendors.Kinds() {
		out = append(out, string(k))
	}
	return out
}

func (s *Server) getMessageStatus(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := s.pathIDs(p, "message_id"); e != nil {
		return e
	}
	st, ok, err := s.Store.MessageStatus(p["message_id"], kindNames())
	if err != nil {
		return s.actorError("message_status", err)
	}
	if !ok {
		return messageNotFound(p["message_id"])
	}
	m := st.Message
	out := MessageStatusResponse{MessageID: m.MessageID, State: "done",
		CreatedAt:  time.UnixMilli(m.CreatedAt).UTC().Format(time.RFC3339Nano),
		Recipients: m.Recipients, Online: m.Online, Offline: m.Offline, Vendors: map[string]MessageVendorStatus{}}
	for v, vs := range st.Vendors {
		if vs.Queued+vs.Sent+vs.InvalidTokens+vs.Dead+vs.Expired == 0 {
			continue
		}
		if vs.Queued > 0 {
			out.State = "sending"
		}
		mv := MessageVendorStatus{Queued: vs.Queued, Sent: vs.Sent, InvalidTokens: vs.InvalidTokens,
			Dead: vs.Dead, Expired: vs.Expired, FailedByCode: vs.FailedByCode}
		if _, ok := s.Receipts[vendors.Kind(v)]; ok {
			// A receipt names a token, not a device herald sent to: one
			// naming a token it never sent to cannot raise delivered
			// past sent.
			d := min(vs.Delivered, vs.Sent)
			mv.Delivered = &d
		}
		out.Vendors[v] = mv
	}
	if st.FanningOut {
		out.State = "fanning_out"
	}
	writeJSON(rc, fasthttp.StatusOK, out)
	return nil
}

func (s *Server) getMessageFailures(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := s.pathIDs(p, "message_id"); e != nil {
		return e
	}
	args := rc.QueryArgs()
	limit, e := queryInt(args, "limit", 100, 1, 1000)
	if e != nil {
		return e
	}
	var after []byte
	if a := string(args.Peek("after")); a != "" {
		b, err := base64.RawURLEncoding.DecodeString(a)
		if err != nil || len(b) == 0 {
			return badFailuresCursor()
		}
		after = b // the store checks it names a vendor and a device (ErrBadCursor)
	}
	id := p["message_id"]
	if _, ok, err := s.Store.GetMessage(id); err != nil {
		return s.actorError("message_failures", err)
	} else if !ok {
		return messageNotFound(id)
	}
	rows, next, err := s.Store.MessageFailures(id, kindNames(), after, limit)
	if errors.Is(err, store.ErrBadCursor) {
		return badFailuresCursor()
	}
	if err != nil {
		return s.actorError("message_failures", err)
	}
	out := make([]MessageFailure, 0, len(rows))
	for _, r := range rows {
		f := MessageFailure{Vendor: r.Key.Vendor, UserID: r.Key.UserID, DeviceID: r.Key.DeviceID, Failure: "invalid_token",
			Code: r.Code, Attempts: r.Attempts}
		if r.Dead {
			f.Failure, f.PushID = "dead", r.Key.Vendor+":"+r.Token
		}
		out = append(out, f)
	}
	cursor := ""
	if next != nil {
		cursor = base64.RawURLEncoding.EncodeToString(next)
	}
	writeJSON(rc, fasthttp.StatusOK, MessageFailuresPage{Failures: out, Next: cursor})
	return nil
}

func badFailuresCursor() *apiError {
	return invalid("after", "after must be the next cursor of a previous page of this listing")
}

func messageNotFound(id string) *apiError {
	return &apiError{Status: fasthttp.StatusNotFound, Code: codeNotFound, Field: "message_id",
		Message: fmt.Sprintf("message %q is not kept: never accepted, or past the retention window", id)}
}
