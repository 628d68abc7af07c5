package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/store"
	"github.com/valyala/fasthttp"
)

type callRequest struct {
	CallID   string          `json:"call_id"`
	Inviter  string          `json:"inviter"`
	Invitees []string        `json:"invitees"`
	TimeoutS *int64          `json:"timeout_s"`
	Data     json.RawMessage `json:"data"`
	Push     *callPush       `json:"push"`
}

type callPush struct {
	Title       string `json:"title"`
	Content     string `json:"content"`
	ResourcesID string `json:"resources_id"`
}

type callByRequest struct {
	By string `json:"by"`
}

type inviteeResponse struct {
	UserID string `json:"user_id"`
	State  string `json:"state"`
	Online *bool  `json:"online,omitempty"`
}

type callResponse struct {
	CallID   string            `json:"call_id"`
	Inviter  string            `json:"inviter"`
	State    string            `json:"state"`
	Deadline string            `json:"deadline"`
	Invitees []inviteeResponse `json:"invitees"`
	Data     json.RawMessage   `json:"data,omitempty"`
}

const maxCallTimeoutS = 600

func toCallResponse(c store.Call, online map[string]bool) callResponse {
	out := callResponse{CallID: c.CallID, Inviter: c.Inviter, State: c.State,
		Deadline: time.UnixMilli(c.DeadlineAt).UTC().Format(time.RFC3339Nano), Invitees: make([]inviteeResponse, 0, len(c.Invitees))}
	if len(c.Data) > 0 {
		out.Data = c.Data
	}
	for _, iv := range c.Invitees {
		r := inviteeResponse{UserID: iv.UserID, State: iv.State}
		if online != nil {
			o := online[iv.UserID]
			r.Online = &o
		}
		out.Invitees = append(out.Invitees, r)
	}
	return out
}

func (d *Daemon) callError(err error) *apiError {
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
	return d.actorError("call", err)
}

func (d *Daemon) postCall(rc *fasthttp.RequestCtx, _ params) *apiError {
	d.yield.Chat(d.clock.Now())
	var req callRequest
	if e := readJSON(rc, &req); e != nil {
		return e
	}
	maxID := d.cfg.Limits.MaxIDBytes
	if req.CallID == "" {
		req.CallID = "call-" + randomHex(12)
	} else if e := checkID("call_id", req.CallID, maxID); e != nil {
		return e
	}
	if e := checkID("inviter", req.Inviter, maxID); e != nil {
		return e
	}
	if n := len(req.Invitees); n == 0 || n > d.cfg.Calls.MaxInvitees {
		return invalid("invitees", fmt.Sprintf("invitees must hold 1 to %d user ids, got %d", d.cfg.Calls.MaxInvitees, n))
	}
	call := store.Call{CallID: req.CallID, Inviter: req.Inviter, State: "ringing"}
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
			call.Invitees = append(call.Invitees, store.Invitee{UserID: id, State: "ringing"})
		}
	}
	timeout := d.cfg.Calls.DefaultTimeout.Std()
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
		if _, e := d.resource("push.resources_id", req.Push.ResourcesID); e != nil {
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
	now := d.clock.Now()
	call.CreatedAt, call.DeadlineAt = now.UnixMilli(), now.Add(timeout).UnixMilli()
	ctx, cancel := d.reqContext()
	defer cancel()
	got, invitees, err := d.calls.Create(ctx, call)
	if err != nil {
		return d.callError(err)
	}
	online := map[string]bool{}
	for _, iv := range invitees {
		online[iv.UserID] = iv.Online
	}
	writeJSON(rc, fasthttp.StatusCreated, toCallResponse(got, online))
	return nil
}

// callAction returns the handler of POST /v1/calls/{call_id}/<action>.
func (d *Daemon) callAction(action string) handlerFunc {
	return func(rc *fasthttp.RequestCtx, p params) *apiError {
		d.yield.Chat(d.clock.Now())
		if e := d.pathIDs(p, "call_id"); e != nil {
			return e
		}
		var req callByRequest
		if len(rc.PostBody()) > 0 {
			if e := readJSON(rc, &req); e != nil {
				return e
			}
		}
		if e := checkID("by", req.By, d.cfg.Limits.MaxIDBytes); e != nil {
			return e
		}
		ctx, cancel := d.reqContext()
		defer cancel()
		call, err := d.calls.Act(ctx, p["call_id"], action, req.By)
		if err != nil {
			return d.callError(err)
		}
		writeJSON(rc, fasthttp.StatusOK, toCallResponse(call, nil))
		return nil
	}
}

func (d *Daemon) getCall(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := d.pathIDs(p, "call_id"); e != nil {
		return e
	}
	call, ok, err := d.store.GetCall(p["call_id"])
	if err != nil {
		return d.actorError("call", err)
	}
	if !ok {
		return d.callError(actors.ErrCallNotFound)
	}
	writeJSON(rc, fasthttp.StatusOK, toCallResponse(call, nil))
	return nil
}

func (d *Daemon) getUserCalls(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := d.pathIDs(p, "user_id"); e != nil {
		return e
	}
	ids, err := d.store.RingingCalls(p["user_id"], d.clock.Now().UnixMilli())
	if err != nil {
		return d.actorError("user_calls", err)
	}
	out := make([]callResponse, 0, len(ids))
	for _, id := range ids {
		call, ok, err := d.store.GetCall(id)
		if err != nil {
			return d.actorError("user_calls", err)
		}
		if ok {
			out = append(out, toCallResponse(call, nil))
		}
	}
	writeJSON(rc, fasthttp.StatusOK, map[string]any{"calls": out})
	return nil
}
