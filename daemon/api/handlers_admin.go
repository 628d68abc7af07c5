package api

import (
	"fmt"

	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
	"github.com/valyala/fasthttp"
)

// limitsInForce is each vendor's limits as the last reload left them.
func (s *Server) limitsInForce() map[vendors.Kind]configs.VendorLimits {
	if s.Limits != nil {
		return s.Limits()
	}
	out := map[vendors.Kind]configs.VendorLimits{}
	for name, v := range s.Config.Vendors.ByName() {
		out[vendors.Kind(name)] = v.Limits
	}
	return out
}

func (s *Server) getStats(rc *fasthttp.RequestCtx, _ params) *apiError {
	out := map[string]VendorStats{}
	limits := s.limitsInForce()
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
		if l, ok := limits[k]; ok {
			v.Limits = VendorLimits{QPS: l.QPS, Burst: l.Burst, MaxInFlight: l.MaxInFlight, BatchSize: l.BatchSize,
				BatchWaitMS: l.BatchWait.Std().Milliseconds(), MaxQueued: l.MaxQueued}
			if l.DailyQuota > 0 {
				q := l.DailyQuota
				v.Limits.DailyQuota = &q
			}
		}
		out[string(k)] = v
	}
	sp := s.Store.Space()
	writeJSON(rc, fasthttp.StatusOK, StatsResponse{Vendors: out,
		Storage: StorageStats{FreeBytes: sp.Free, MinFreeBytes: sp.MinFree, Low: sp.Low}})
	return nil
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
	writeJSON(rc, fasthttp.StatusOK, DeadLettersPage{DeadLetters: out, Next: next})
	return nil
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
	writeJSON(rc, fasthttp.StatusOK, ReplayResponse{Replayed: len(rows), More: more})
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
