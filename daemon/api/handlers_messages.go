package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/push"
	"github.com/herald-push/herald/store"
	"github.com/valyala/fasthttp"
)

const (
	maxPushTTL     = 28 * 24 * 3600 // FCM's maximum, the longest any vendor keeps a push
	maxBadgeChange = 10000
)

func (s *Server) putGroupMembers(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := s.pathIDs(p, "group_id"); e != nil {
		return e
	}
	var req GroupMembersRequest
	if e := readJSON(rc, &req); e != nil {
		return e
	}
	if n := len(req.Add) + len(req.Remove); n == 0 || n > s.Config.Messages.MaxGroupChange {
		return invalid("add", fmt.Sprintf("add and remove must hold 1 to %d ids together, got %d", s.Config.Messages.MaxGroupChange, n))
	}
	for i, id := range req.Add {
		if e := checkID(fmt.Sprintf("add[%d]", i), id, s.Config.Limits.MaxIDBytes); e != nil {
			return e
		}
	}
	for i, id := range req.Remove {
		if e := checkID(fmt.Sprintf("remove[%d]", i), id, s.Config.Limits.MaxIDBytes); e != nil {
			return e
		}
	}
	ch, err := s.Store.UpdateGroup(p["group_id"], req.Add, req.Remove)
	if err != nil {
		return s.actorError("group_members", err)
	}
	writeJSON(rc, fasthttp.StatusOK, GroupMembersResponse{Members: ch.Members})
	return nil
}

func (s *Server) getGroupMembers(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := s.pathIDs(p, "group_id"); e != nil {
		return e
	}
	args := rc.QueryArgs()
	after := string(args.Peek("after"))
	if after != "" {
		if e := checkID("after", after, s.Config.Limits.MaxIDBytes); e != nil {
			return e
		}
	}
	limit, e := queryInt(args, "limit", 1000, 1, 10000)
	if e != nil {
		return e
	}
	members, more, err := s.Store.GroupMembers(p["group_id"], after, limit)
	if err != nil {
		return s.actorError("group_members", err)
	}
	next := ""
	if more {
		next = members[len(members)-1]
	}
	writeJSON(rc, fasthttp.StatusOK, GroupMembersPage{Members: members, Next: next})
	return nil
}

func (s *Server) deleteGroup(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := s.pathIDs(p, "group_id"); e != nil {
		return e
	}
	if err := s.Store.DeleteGroup(p["group_id"]); err != nil {
		return s.actorError("group_delete", err)
	}
	rc.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// queryInt reads an optional integer query parameter within [lo, hi].
func queryInt(args *fasthttp.Args, name string, def, lo, hi int) (int, *apiError) {
	raw := args.Peek(name)
	if len(raw) == 0 {
		return def, nil
	}
	v, err := strconv.Atoi(string(raw))
	if err != nil || v < lo || v > hi {
		return 0, invalid(name, fmt.Sprintf("%s must be an integer from %d to %d", name, lo, hi))
	}
	return v, nil
}

// parseMessage validates a message request completely.
func (s *Server) parseMessage(req MessageRequest) (store.Message, *apiError) {
	maxID := s.Config.Limits.MaxIDBytes
	if e := checkID("message_id", req.MessageID, maxID); e != nil {
		return store.Message{}, e
	}
	if e := checkID("from", req.From, maxID); e != nil {
		return store.Message{}, e
	}
	if req.To == nil {
		return store.Message{}, invalid("to", "to is required")
	}
	m := store.Message{MessageID: req.MessageID, From: req.From, ToType: req.To.Type}
	switch req.To.Type {
	case "peer", "group":
		if e := checkID("to.id", req.To.ID, maxID); e != nil {
			return m, e
		}
		if req.To.IDs != nil {
			return m, invalid("to.ids", "to.ids is for to.type users")
		}
		m.ToID = req.To.ID
	case "users":
		if req.To.ID != "" {
			return m, invalid("to.id", "to.id is for to.type peer and group")
		}
		if n := len(req.To.IDs); n == 0 || n > s.Config.Messages.MaxUsers {
			return m, invalid("to.ids", fmt.Sprintf("to.ids must hold 1 to %d user ids, got %d", s.Config.Messages.MaxUsers, n))
		}
		seen := make(map[string]struct{}, len(req.To.IDs))
		for i, id := range req.To.IDs {
			if e := checkID(fmt.Sprintf("to.ids[%d]", i), id, maxID); e != nil {
				return m, e
			}
			if _, dup := seen[id]; !dup {
				seen[id] = struct{}{}
				m.ToIDs = append(m.ToIDs, id)
			}
		}
	case "":
		return m, invalid("to.type", "to.type is required: one of peer, users, group")
	default:
		return m, invalid("to.type", "to.type must be one of peer, users, group")
	}
	if len(req.Body) > 0 && !bytes.Equal(bytes.TrimSpace(req.Body), []byte("null")) {
		if int64(len(req.Body)) > int64(s.Config.Messages.MaxBodyBytes) {
			return m, invalid("body", fmt.Sprintf("body must be at most %s of JSON", s.Config.Messages.MaxBodyBytes))
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, req.Body); err != nil {
			return m, invalid("body", "body must be valid JSON")
		}
		m.Body = compact.Bytes()
	}
	if req.Push != nil {
		if e := s.parsePush(*req.Push, &m); e != nil {
			return m, e
		}
	}
	return m, nil
}

func (s *Server) parsePush(p MessagePush, m *store.Message) *apiError {
	for _, f := range []struct{ name, v string }{{"push.title", p.Title}, {"push.content", p.Content}, {"push.payload", p.Payload}} {
		if len(f.v) > maxTextBytes {
			return invalid(f.name, fmt.Sprintf("%s must be at most %d bytes", f.name, maxTextBytes))
		}
	}
	if !p.Passthrough && p.Title == "" && p.Content == "" {
		return invalid("push.content", "a visible push needs push.title or push.content (or set push.passthrough)")
	}
	if _, e := s.resource("push.resources_id", p.ResourcesID); e != nil {
		return e
	}
	if p.BadgeIncrement < 0 || p.BadgeIncrement > maxBadgeChange {
		return invalid("push.badge_increment", fmt.Sprintf("push.badge_increment must be between 0 and %d", maxBadgeChange))
	}
	switch p.Priority {
	case "", "high", "normal":
	default:
		return invalid("push.priority", "push.priority must be high or normal")
	}
	if p.TTLS != nil && (*p.TTLS < 0 || *p.TTLS > maxPushTTL) {
		return invalid("push.ttl_s", fmt.Sprintf("push.ttl_s must be between 0 and %d", maxPushTTL))
	}
	if len(p.CollapseID) > 64 {
		return invalid("push.collapse_id", "push.collapse_id must be at most 64 bytes")
	}
	m.HasPush = true
	m.Title, m.Content, m.Payload, m.ResourcesID = p.Title, p.Content, p.Payload, p.ResourcesID
	m.BadgeIncrement, m.Passthrough, m.Priority, m.CollapseID = p.BadgeIncrement, p.Passthrough, p.Priority, p.CollapseID
	m.TTLSeconds = 86400
	if p.TTLS != nil {
		m.TTLSeconds = *p.TTLS
	}
	return vendorRefusal(push.CheckMessage(s.Vendors, s.resources(), m), pushFields{
		title: "push.title", content: "push.content", data: "push.payload", resource: "push.resources_id",
		titleLen: len(p.Title), contentLen: len(p.Content), dataLen: len(p.Payload)})
}

func (s *Server) postMessage(rc *fasthttp.RequestCtx, _ params) *apiError {
	var req MessageRequest
	if e := readJSON(rc, &req); e != nil {
		return e
	}
	m, e := s.parseMessage(req)
	if e != nil {
		return e
	}
	if m.ToType != "group" {
		s.Yield.Chat(s.Clock.Now()) // someone waits for this one: fan-outs give way
	}
	ctx, cancel := s.reqContext()
	defer cancel()
	ans, err := s.Dispatch.Submit(ctx, m)
	if errors.Is(err, actors.ErrNoGroup) {
		return &apiError{Status: fasthttp.StatusNotFound, Code: codeNotFound, Field: "to.id",
			Message: fmt.Sprintf("group %q has no members besides the sender", m.ToID)}
	}
	if err != nil {
		return s.actorError("message", err)
	}
	out := MessageResponse{MessageID: ans.MessageID, Recipients: ans.Recipients, Duplicate: ans.Duplicate}
	if ans.Online >= 0 {
		out.Online, out.Offline = &ans.Online, &ans.Offline
	}
	status := fasthttp.StatusAccepted
	if ans.Duplicate {
		status = fasthttp.StatusOK
	}
	writeJSON(rc, status, out)
	return nil
}

func (s *Server) getInbox(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := s.pathIDs(p, "user_id"); e != nil {
		return e
	}
	args := rc.QueryArgs()
	after, e := queryInt(args, "after", 0, 0, 1<<62)
	if e != nil {
		return e
	}
	limit, e := queryInt(args, "limit", 100, 1, 1000)
	if e != nil {
		return e
	}
	items, _, err := s.Store.Inbox(p["user_id"], int64(after), limit)
	if err != nil {
		return s.actorError("inbox", err)
	}
	out := InboxPage{Messages: make([]InboxMessage, 0, len(items)), Next: int64(after)}
	for _, it := range items {
		out.Next = it.Seq
		if it.Message == nil {
			continue // its message record is gone (retention)
		}
		m := it.Message
		body := json.RawMessage(m.Body)
		if len(body) == 0 {
			body = json.RawMessage("null")
		}
		out.Messages = append(out.Messages, InboxMessage{Seq: it.Seq, MessageID: m.MessageID, From: m.From,
			To: MessageTo{Type: m.ToType, ID: m.ToID, IDs: m.ToIDs}, Body: body,
			SentAt: time.UnixMilli(it.Entry.SentAt).UTC().Format(time.RFC3339Nano)})
	}
	writeJSON(rc, fasthttp.StatusOK, out)
	return nil
}

func (s *Server) ackInbox(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := s.pathIDs(p, "user_id"); e != nil {
		return e
	}
	var req AckRequest
	if e := readJSON(rc, &req); e != nil {
		return e
	}
	if req.UpTo == nil || *req.UpTo < 0 {
		return invalid("up_to", "up_to is required: the last seq the user has seen")
	}
	if _, err := s.Store.AckInbox(p["user_id"], *req.UpTo); err != nil {
		return s.actorError("inbox_ack", err)
	}
	rc.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}
