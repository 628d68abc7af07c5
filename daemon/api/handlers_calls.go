package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/push"
	"github.com/herald-push/herald/store"
	"github.com/valyala/fasthttp"
)

const maxCallTimeoutS = 600

func toCallResponse(c store.Call, online map[string]bool) CallResponse {
	out := CallResponse{CallID: c.CallID, Inviter: c.Inviter, State: string(c.State),
		Deadline: time.UnixMilli(c.DeadlineAt).UTC().Format(time.RFC3339Nano), Invitees: make([]InviteeResponse, 0, len(c.Invitees))}
	if len(c.Data) > 0 {
		out.Data = c.Data
	}
	for _, iv := range c.Invitees {
		r := InviteeResponse{UserID: iv.UserID, State: string(iv.State)}
		if online != nil {
			o := online[iv.UserID]
			r.Online = &o
		}
		out.Invitees = append(out.Invitees, r)
	}
	return out
}

func (s *Server) callError(err error) *apiError {
	switch {
	case errors.Is(err, actors.ErrCallExists):
		return &apiError{Status: fasthttp.StatusConflict, Code: codeConflict, Field: "call_id", Message: "call_id is already in use"}
	case errors.Is(err, actors.ErrCallNotFound):
		return &apiError{Status: fasthttp.StatusNotFound, Code: codeNotFound, Field: "call_id", Message: "no such call"}
	case errors.Is(err, actors.ErrCallState):
		return &apiError{Status: fasthttp.StatusConflict, Code: codeConflict, Message: err.Error()}
	case errors.Is(err, actors.ErrCallNotParty):
		return &apiError{Status: fasthttp.StatusForbidden, Code: codePermissionDenied, Field: "by", Message: err.Error()}
	}
	return s.actorError("call", err)
}

func (s *Server) postCall(rc *fasthttp.RequestCtx, _ params) *apiError {
	s.Yield.Chat(s.Clock.Now())
	var req CallRequest
	if e := readJSON(rc, &req); e != nil {
		return e
	}
	maxID := s.Config.Limits.MaxIDBytes
	if req.CallID == "" {
		// "c" and 24 hex digits: the notification's message_id puts
		// "call-" before it (push.CallMessageID), which a generated id
		// starting with "call-" doubled.
		req.CallID = "c" + randomHex(12)
	} else if e := checkID("call_id", req.CallID, maxID); e != nil {
		return e
	}
	if e := checkID("inviter", req.Inviter, maxID); e != nil {
		return e
	}
	if n := len(req.Invitees); n == 0 || n > s.Config.Calls.MaxInvitees {
		return invalid("invitees", fmt.Sprintf("invitees must hold 1 to %d user ids, got %d", s.Config.Calls.MaxInvitees, n))
	}
	call := store.Call{CallID: req.CallID, Inviter: req.Inviter, State: store.CallRinging}
	seen := map[string]bool{}
	for i, id := range req.Invitees {
		f := fmt.Sprintf("invitees[%d]", i)
		if e := checkID(f, id, maxID); e != nil {
			return e
		}
		if id == req.Inviter {
			return invalid(f, "the inviter cannot invite themselves")
		}
		if !seen[id] {
			seen[id] = true
			call.Invitees = append(call.Invitees, store.Invitee{UserID: id, State: store.CallRinging})
		}
	}
	timeout := s.Config.Calls.DefaultTimeout.Std()
	if req.TimeoutS != nil {
		if *req.TimeoutS < 1 || *req.TimeoutS > maxCallTimeoutS {
			return invalid("timeout_s", fmt.Sprintf("timeout_s must be between 1 and %d", maxCallTimeoutS))
		}
		timeout = time.Duration(*req.TimeoutS) * time.Second
	}
	if len(req.Data) > 0 && !bytes.Equal(bytes.TrimSpace(req.Data), []byte("null")) {
		if len(req.Data) > 4096 {
			return invalid("data", "data must be at most 4 KiB of JSON (it travels in the push)")
		}
		var b bytes.Buffer
		if err := json.Compact(&b, req.Data); err != nil {
			return invalid("data", "data must be valid JSON")
		}
		call.Data = b.Bytes()
	}
	if req.Push != nil {
		if len(req.Push.Title) > maxTextBytes || len(req.Push.Content) > maxTextBytes {
			return invalid("push.title", fmt.Sprintf("push.title and push.content must be at most %d bytes", maxTextBytes))
		}
		if _, e := s.resource("push.resources_id", req.Push.ResourcesID); e != nil {
			return e
		}
		call.Title, call.Content, call.Resources = req.Push.Title, req.Push.Content, req.Push.ResourcesID
	}
	if call.Title == "" {
		call.Title = req.Inviter + " is calling"
	}
	if call.Content == "" {
		call.Content = "Incoming call"
	}
	now := s.Clock.Now()
	call.CreatedAt, call.DeadlineAt = now.UnixMilli(), now.Add(timeout).UnixMilli()
	var title, content int
	if req.Push != nil {
		title, content = len(req.Push.Title), len(req.Push.Content)
	}
	if e := vendorRefusal(push.CheckCall(s.Vendors, s.resources(), &call, timeout), pushFields{
		title: "push.title", content: "push.content", data: "data", resource: "push.resources_id",
		titleLen: title, contentLen: content, dataLen: len(call.Data)}); e != nil {
		return e
	}
	ctx, cancel := s.reqContext()
	defer cancel()
	got, invitees, err := s.Calls.Create(ctx, call)
	if err != nil {
		return s.callError(err)
	}
	online := map[string]bool{}
	for _, iv := range invitees {
		online[iv.UserID] = iv.Online
	}
	writeJSON(rc, fasthttp.StatusCreated, toCallResponse(got, online))
	return nil
}

// callAction returns the handler of POST /v1/calls/{call_id}/<action>.
func (s *Server) callAction(action string) handlerFunc {
	return func(rc *fasthttp.RequestCtx, p params) *apiError {
		s.Yield.Chat(s.Clock.Now())
		if e := s.pathIDs(p, "call_id"); e != nil {
			return e
		}
		var req CallByRequest
		if len(rc.PostBody()) > 0 {
			if e := readJSON(rc, &req); e != nil {
				return e
			}
		}
		if e := checkID("by", req.By, s.Config.Limits.MaxIDBytes); e != nil {
			return e
		}
		ctx, cancel := s.reqContext()
		defer cancel()
		call, err := s.Calls.Act(ctx, p["call_id"], action, req.By)
		if err != nil {
			return s.callError(err)
		}
		writeJSON(rc, fasthttp.StatusOK, toCallResponse(call, nil))
		return nil
	}
}

func (s *Server) getCall(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := s.pathIDs(p, "call_id"); e != nil {
		return e
	}
	call, ok, err := s.Store.GetCall(p["call_id"])
	if err != nil {
		return s.actorError("call", err)
	}
	if !ok {
		return s.callError(actors.ErrCallNotFound)
	}
	writeJSON(rc, fasthttp.StatusOK, toCallResponse(call, nil))
	return nil
}

func (s *Server) getUserCalls(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := s.pathIDs(p, "user_id"); e != nil {
		return e
	}
	ids, err := s.Store.RingingCalls(p["user_id"], s.Clock.Now().UnixMilli())
	if err != nil {
		return s.actorError("user_calls", err)
	}
	out := make([]CallResponse, 0, len(ids))
	for _, id := range ids {
		call, ok, err := s.Store.GetCall(id)
		if err != nil {
			return s.actorError("user_calls", err)
		}
		if ok {
			out = append(out, toCallResponse(call, nil))
		}
	}
	writeJSON(rc, fasthttp.StatusOK, CallList{Calls: out})
	return nil
}
