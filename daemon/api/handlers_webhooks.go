package api

import (
	"errors"
	"fmt"
	"time"

	"github.com/herald-push/herald/store"
	"github.com/valyala/fasthttp"
)

func webhooksOff() *apiError {
	return &apiError{Status: fasthttp.StatusNotFound, Code: codeNotFound, Field: "endpoint",
		Message: "no webhook endpoints are configured (webhooks.endpoints)"}
}

// webhookEndpoint is the endpoint a route names, or its 404.
func (s *Server) webhookEndpoint(p params) (string, *apiError) {
	if s.Webhooks == nil {
		return "", webhooksOff()
	}
	name := p["endpoint"]
	if !s.Webhooks.Has(name) {
		return "", &apiError{Status: fasthttp.StatusNotFound, Code: codeNotFound, Field: "endpoint",
			Message: fmt.Sprintf("no webhook endpoint %q is configured", name)}
	}
	return name, nil
}

func (s *Server) getWebhooks(rc *fasthttp.RequestCtx, _ params) *apiError {
	out := []WebhookEndpoint{}
	if s.Webhooks != nil {
		for _, st := range s.Webhooks.Stats() {
			pending, dead, err := s.Store.WebhookCounts(st.Name)
			if err != nil {
				return s.actorError("webhooks", err)
			}
			out = append(out, WebhookEndpoint{Name: st.Name, Events: st.Events, Delivered: st.Delivered, Requests: st.Requests,
				Failures: st.Failures, DeadLettered: st.DeadLettered, Failing: st.Failing, LastError: st.LastError,
				LastSuccess: st.LastSuccess, NextAttemptAt: st.NextAttemptAt, Pending: pending, Dead: dead})
		}
	}
	writeJSON(rc, fasthttp.StatusOK, WebhookList{Endpoints: out})
	return nil
}

func (s *Server) getWebhookDead(rc *fasthttp.RequestCtx, p params) *apiError {
	name, e := s.webhookEndpoint(p)
	if e != nil {
		return e
	}
	args := rc.QueryArgs()
	limit, e := queryInt(args, "limit", 100, 1, 1000)
	if e != nil {
		return e
	}
	evs, err := s.Store.WebhookDead(name, string(args.Peek("after")), limit+1)
	if errors.Is(err, store.ErrBadEventID) {
		return invalid("after", "after must be the next of a previous page (an event id)")
	}
	if err != nil {
		return s.actorError("webhook_dead_letters", err)
	}
	next := ""
	if len(evs) > limit {
		evs = evs[:limit]
		next = evs[len(evs)-1].ID
	}
	out := make([]WebhookDeadEvent, 0, len(evs))
	for _, ev := range evs {
		out = append(out, WebhookDeadEvent{ID: ev.ID, Type: ev.Type, Timestamp: time.UnixMilli(ev.At).UTC(), Attempts: ev.Attempts,
			LastError: ev.LastError, Data: ev.Data})
	}
	writeJSON(rc, fasthttp.StatusOK, WebhookDeadPage{Events: out, Next: next})
	return nil
}

func (s *Server) replayWebhooks(rc *fasthttp.RequestCtx, p params) *apiError {
	name, e := s.webhookEndpoint(p)
	if e != nil {
		return e
	}
	var req WebhookReplayRequest
	if len(rc.PostBody()) > 0 {
		if e := readJSON(rc, &req); e != nil {
			return e
		}
	}
	limit := 1000
	if req.Limit != nil {
		if *req.Limit < 1 || *req.Limit > 10000 {
			return invalid("limit", "limit must be between 1 and 10000")
		}
		limit = *req.Limit
	}
	n, more, err := s.Store.WebhookReplay(name, limit)
	if err != nil {
		return s.actorError("webhook_replay", err)
	}
	s.Log.Info("webhook dead letters replayed", "endpoint", name, "events", n, "more", more)
	writeJSON(rc, fasthttp.StatusOK, ReplayResponse{Replayed: n, More: more})
	return nil
}
