package daemon

import (
	"fmt"

	"github.com/herald-push/herald/actors"
	"github.com/valyala/fasthttp"
)

type presenceRequest struct {
	Updates []presenceUpdate `json:"updates"`
}

type presenceUpdate struct {
	UserID   string `json:"user_id"`
	DeviceID string `json:"device_id"`
	Online   *bool  `json:"online"`
	TTLS     *int64 `json:"ttl_s"`
}

type presenceResponse struct {
	Applied    int          `json:"applied"`
	CameOnline []cameOnline `json:"came_online"`
}

type cameOnline struct {
	UserID       string   `json:"user_id"`
	InboxPending int64    `json:"inbox_pending"`
	RingingCalls []string `json:"ringing_calls"`
}

// parsePresence validates a presence batch completely before anything is
// applied, so a bad item anywhere rejects the whole batch.
func (d *Daemon) parsePresence(req presenceRequest) ([]actors.PresenceUpdate, *apiError) {
	n, maxN := len(req.Updates), d.cfg.Limits.MaxPresenceBatch
	if req.Updates == nil {
		return nil, invalid("updates", "updates is required")
	}
	if n == 0 || n > maxN {
		return nil, invalid("updates", fmt.Sprintf("updates must hold 1 to %d items, got %d", maxN, n))
	}
	out := make([]actors.PresenceUpdate, 0, n)
	maxID := d.cfg.Limits.MaxIDBytes
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
			ms, e := d.ttlMillis(at+"ttl_s", u.TTLS)
			if e != nil {
				return nil, e
			}
			up.TTLMs = ms
		}
		out = append(out, up)
	}
	return out, nil
}

func (d *Daemon) postPresence(rc *fasthttp.RequestCtx, _ params) *apiError {
	d.yield.Chat(d.clock.Now())
	var req presenceRequest
	if e := readJSON(rc, &req); e != nil {
		return e
	}
	updates, e := d.parsePresence(req)
	if e != nil {
		return e
	}
	ctx, cancel := d.reqContext()
	defer cancel()
	res, err := d.users.ApplyPresence(ctx, updates)
	if err != nil {
		// Users' updates apply atomically per user; some may have landed.
		// Presence updates are idempotent, so the answer is: resend.
		ae := d.actorError("presence", err)
		ae.Message = fmt.Sprintf("%d of %d updates applied before a failure; presence updates are idempotent, resend the batch (%s)",
			res.Applied, len(updates), ae.Message)
		return ae
	}
	out := presenceResponse{Applied: res.Applied, CameOnline: make([]cameOnline, 0, len(res.CameOnline))}
	for _, v := range res.CameOnline {
		rcalls := v.RingingCalls
		if rcalls == nil {
			rcalls = []string{}
		}
		out.CameOnline = append(out.CameOnline, cameOnline{UserID: v.UserID, InboxPending: v.InboxPending, RingingCalls: rcalls})
	}
	writeJSON(rc, fasthttp.StatusOK, out)
	return nil
}
