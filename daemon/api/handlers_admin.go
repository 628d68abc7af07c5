package api

import (
	"fmt"

	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
	"github.com/valyala/fasthttp"
)

// VendorStats is one vendor's counters and state in GET /v1/stats.
type VendorStats struct {
	Sent           int64  `json:"sent"`
	Failed         int64  `json:"failed"`
	InvalidTokens  int64  `json:"invalid_tokens"`
	RateLimited    int64  `json:"rate_limited"`
	Retried        int64  `json:"retried"`
	Dead           int64  `json:"dead"`
	Expired        int64  `json:"expired"`
	Queued         int64  `json:"queued"`
	Spilled        int64  `json:"spilled"`
	InFlight       int64  `json:"in_flight"`
	DailyQuotaLeft *int64 `json:"daily_quota_left"`
	Paused         bool   `json:"paused"`
	Breaker        string `json:"breaker"`        // closed, open (the vendor looks down), half_open (probing)
	BreakerOpened  int64  `json:"breaker_opened"` // times the breaker opened
	// FailedByCode is Failed by the vendor's code (at most 64 codes,
	// then "other").
	FailedByCode map[string]int64 `json:"failed_by_code"`
	TestPushes   TestPushStats    `json:"test_pushes"`
	// Receipts are the vendor's arrival receipts; absent for a vendor
	// that posts none (APNs, FCM, Web) and when receipts are off.
	Receipts *ReceiptStats `json:"receipts,omitempty"`
}

// ReceiptStats are one vendor's arrival receipts in GET /v1/stats.
type ReceiptStats struct {
	Asked     int64 `json:"asked"`     // message notifications sent asking for a receipt
	Delivered int64 `json:"delivered"` // devices the vendor reported the notification reached
	Duplicate int64 `json:"duplicate"` // receipt entries counted before (vendor retries)
	Unmatched int64 `json:"unmatched"` // entries naming no kept message (expired, forged, none)
	// ArrivalRate is delivered / asked: receipts come seconds after the
	// send, and never for a device that stays offline past the vendor's
	// TTL, so it trails sent.
	ArrivalRate float64 `json:"arrival_rate"`
}

// TestPushStats counts one vendor's test pushes (POST /v1/push/test) by
// verdict; they go to the vendor directly, so no other counter has them.
type TestPushStats struct {
	Sent          int64 `json:"sent"`
	Failed        int64 `json:"failed"`
	InvalidTokens int64 `json:"invalid_tokens"`
}

func (s *Server) getStats(rc *fasthttp.RequestCtx, _ params) *apiError {
	out := map[string]VendorStats{}
	for k, st := range s.Senders.Stats() {
		v := VendorStats{Sent: st.Sent, Failed: st.Failed, InvalidTokens: st.Invalid, RateLimited: st.RateLimited,
			Retried: st.Retried, Dead: st.Dead, Expired: st.Expired, Queued: st.Queued, Spilled: st.Spilled, InFlight: st.InFlight, Paused: st.Paused == 1,
			Breaker: st.Breaker.String(), BreakerOpened: st.BreakerOpened, FailedByCode: st.FailedByCode,
			TestPushes: TestPushStats{Sent: st.TestSent, Failed: st.TestFailed, InvalidTokens: st.TestInvalid}}
		if _, ok := s.Receipts[k]; ok {
			v.Receipts = &ReceiptStats{Asked: st.MessagesSent, Delivered: st.Arrived, Duplicate: st.ArrivalDuplicates, Unmatched: st.ArrivalUnmatched}
			if st.MessagesSent > 0 {
				// A receipt names a token, not a device herald sent to:
				// the rate never reads above 1.
				v.Receipts.ArrivalRate = float64(min(st.Arrived, st.MessagesSent)) / float64(st.MessagesSent)
			}
		}
		if st.QuotaLeft >= 0 {
			q := st.QuotaLeft
			v.DailyQuotaLeft = &q
		}
		out[string(k)] = v
	}
	sp := s.Store.Space()
	writeJSON(rc, fasthttp.StatusOK, map[string]any{"vendors": out,
		"storage": StorageStats{FreeBytes: sp.Free, MinFreeBytes: sp.MinFree, Low: sp.Low}})
	return nil
}

// StorageStats is the data directory's free space in /v1/stats.
type StorageStats struct {
	FreeBytes    uint64 `json:"free_bytes"`
	MinFreeBytes uint64 `json:"min_free_bytes"` // min_free_space; 0 = not watched
	Low          bool   `json:"low"`            // writes that add data get 507 storage_full
}

// DeadLetter is one dead letter in GET /v1/admin/dead-letters.
type DeadLetter struct {
	Vendor string `json:"vendor"`
	// Kind is what the row pushed: message, call_invite (MessageID is the
	// call_id) or call_cancel (the call_id, with Reason: why it stopped
	// ringing).
	Kind      string `json:"kind"`
	MessageID string `json:"message_id"`
	Reason    string `json:"reason,omitempty"`
	UserID    string `json:"user_id"`
	DeviceID  string `json:"device_id"`
	PushID    string `json:"push_id"`
	Attempts  int64  `json:"attempts"`
	LastCode  string `json:"last_code"`
}

// getDeadLetters lists dead letters: ?vendor=huawei (optional: every
// vendor's when absent) &after=<cursor>&limit=100.
func (s *Server) getDeadLetters(rc *fasthttp.RequestCtx, _ params) *apiError {
	args := rc.QueryArgs()
	v := string(args.Peek("vendor"))
	if _, ok := vendors.ParseKind(v); !ok && v != "" {
		return invalid("vendor", "vendor must be one of "+vendors.KindList()+" (or left out for every vendor's)")
	}
	limit, e := queryInt(args, "limit", 100, 1, 1000)
	if e != nil {
		return e
	}
	var after *store.OutboxKey
	if a := string(args.Peek("after")); a != "" {
		k, err := store.ParseCursor(a)
		if err != nil || (v != "" && k.Vendor != v) {
			return invalid("after", "after must be the next cursor of a previous page of the same listing")
		}
		after = &k
	}
	rows, err := s.Store.DeadLetters(v, after, limit+1)
	if err != nil {
		return s.actorError("dead_letters", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[len(rows)-1].Key.Cursor()
	}
	out := make([]DeadLetter, 0, len(rows))
	for _, r := range rows {
		out = append(out, DeadLetter{Vendor: r.Key.Vendor, Kind: r.Key.Kind.String(), MessageID: r.Key.ID, Reason: r.Key.Reason, UserID: r.Key.UserID,
			DeviceID: r.Key.DeviceID, PushID: r.Key.Vendor + ":" + r.Entry.Token, Attempts: r.Entry.Attempts, LastCode: r.Entry.LastCode})
	}
	writeJSON(rc, fasthttp.StatusOK, map[string]any{"dead_letters": out, "next": next})
	return nil
}

// ReplayRequest picks the dead letters to send again.
type ReplayRequest struct {
	Vendor    string `json:"vendor"`
	MessageID string `json:"message_id"` // a message's id or a call's call_id
	Kind      string `json:"kind"`       // message, call_invite or call_cancel ("" = any)
	LastCode  string `json:"last_code"`
	Limit     *int   `json:"limit"`
}

// replayDeadLetters moves matching dead letters back to the outbox (one
// synced batch, no attempt counted) and hands them to the vendor's sender.
func (s *Server) replayDeadLetters(rc *fasthttp.RequestCtx, _ params) *apiError {
	var req ReplayRequest
	if e := readJSON(rc, &req); e != nil {
		return e
	}
	k, ok := vendors.ParseKind(req.Vendor)
	if !ok {
		return invalid("vendor", "vendor is required: one of "+vendors.KindList())
	}
	if !s.Senders.Has(k) {
		return invalid("vendor", fmt.Sprintf("vendor %q is not enabled", req.Vendor))
	}
	limit := 1000
	if req.Limit != nil {
		if *req.Limit < 1 || *req.Limit > 10000 {
			return invalid("limit", "limit must be between 1 and 10000")
		}
		limit = *req.Limit
	}
	f := store.DeadFilter{ID: req.MessageID, LastCode: req.LastCode}
	if req.MessageID != "" {
		if e := checkID("message_id", req.MessageID, s.Config.Limits.MaxIDBytes); e != nil {
			return e
		}
	}
	if req.Kind != "" {
		rk, ok := store.ParseRowKind(req.Kind)
		if !ok {
			return invalid("kind", "kind must be message, call_invite or call_cancel")
		}
		f.Kind = &rk
	}
	rows, more, err := s.Store.ReplayDead(string(k), f, limit)
	if err != nil {
		return s.actorError("replay_dead_letters", err)
	}
	s.Senders.Enqueue(rows, actors.Backfill)
	s.Log.Info("dead letters replayed", "vendor", k, "rows", len(rows), "message_id", req.MessageID, "last_code", req.LastCode, "more", more)
	writeJSON(rc, fasthttp.StatusOK, map[string]any{"replayed": len(rows), "more": more})
	return nil
}

func (s *Server) postReload(rc *fasthttp.RequestCtx, _ params) *apiError {
	res, err := s.Reload()
	if err != nil {
		return &apiError{Status: fasthttp.StatusBadRequest, Code: codeInvalidArgument,
			Message: fmt.Sprintf("new configuration refused, the old one stays: %v", err)}
	}
	writeJSON(rc, fasthttp.StatusOK, ReloadResponse{Reloaded: true, Applied: res.Applied, NeedsRestart: res.NeedsRestart,
		Unchanged: len(res.Applied) == 0 && len(res.NeedsRestart) == 0})
	return nil
}

// ReloadResult is what a reload did: the parts applied to the running
// daemon, and the top-level sections that differ from the running
// configuration but take effect only after a restart. Neither is nil.
type ReloadResult struct {
	Applied      []string
	NeedsRestart []string
}

// ReloadResponse is POST /v1/admin/reload's answer.
type ReloadResponse struct {
	Reloaded     bool     `json:"reloaded"`
	Applied      []string `json:"applied"`       // e.g. "vendors.fcm.limits/retry", "resources", "tls", "vendors.huawei.ca_file"
	NeedsRestart []string `json:"needs_restart"` // top-level config sections, e.g. "webhooks", "listen"
	Unchanged    bool     `json:"unchanged"`     // the file says what is running
}
