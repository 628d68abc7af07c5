package api

import (
	"fmt"

	"github.com/herald-push/herald/actors"
	"github.com/valyala/fasthttp"
)

// parsePresence validates a presence batch completely before anything is
// applied, so a bad item anywhere rejects the whole batch.
func (s *Server) parsePresence(req PresenceRequest) ([]actors.PresenceUpdate, *apiError) {
	n, maxN := len(req.Updates), s.Config.Limits.MaxPresenceBatch
	if req.Updates == nil {
		return nil, invalid("updates", "updates is required")
	}
	if n == 0 || n > maxN {
		return nil, invalid("updates", fmt.Sprintf("updates must hold 1 to %d items, got %d", maxN, n))
	}
	out := make([]actors.PresenceUpdate, 0, n)
	maxID := s.Config.Limits.MaxIDBytes
	for i, u := range req.Updates {
		at := fmt.Sprintf("updates[%d].", i)
		if e := checkID(at+"user_id", u.UserID, maxID); e != nil {
			return nil, e
		}
		if e := checkID(at+"device_id", u.DeviceID, maxID); e != nil {
			return nil, e
		}
		if u.Online == nil {
			return nil, invalid(at+"online", at+"online is required")
		}
		up := actors.PresenceUpdate{UserID: u.UserID, DeviceID: u.DeviceID, Online: *u.Online}
		if up.Online {
			ms, e := s.ttlMillis(at+"ttl_s", u.TTLS)
			if e != nil {
				return nil, e
			}
			up.TTLMs = ms
		}
		out = append(out, up)
	}
	return out, nil
}

func (s *Server) postPresence(rc *fasthttp.RequestCtx, _ params) *apiError {
	s.Yield.Chat(s.Clock.Now())
	var req PresenceRequest
	if e := readJSON(rc, &req); e != nil {
		return e
	}
	updates, e := s.parsePresence(req)
	if e != nil {
		return e
	}
	ctx, cancel := s.reqContext()
	defer cancel()
	res, err := s.Users.ApplyPresence(ctx, updates)
	if err != nil {
		// Users' updates apply atomically per user; some may have landed.
		// Presence updates are idempotent, so the answer is: resend.
		ae := s.actorError("presence", err)
		ae.Message = fmt.Sprintf("%d of %d updates applied before a failure; presence updates are idempotent, resend the batch (%s)",
			res.Applied, len(updates), ae.Message)
		return ae
	}
	out := PresenceResponse{Applied: res.Applied, CameOnline: make([]CameOnline, 0, len(res.CameOnline))}
	for _, v := range res.CameOnline {
		rcalls := v.RingingCalls
		if rcalls == nil {
			rcalls = []string{}
		}
		out.CameOnline = append(out.CameOnline, CameOnline{UserID: v.UserID, InboxPending: v.InboxPending, RingingCalls: rcalls})
	}
	writeJSON(rc, fasthttp.StatusOK, out)
	return nil
}
