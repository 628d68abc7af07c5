package api

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/herald-push/herald/actors"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
	"github.com/valyala/fasthttp"
)

const maxBadge = 1_000_000

// requireJSON answers 415 unless the request says its body is JSON.
func requireJSON(rc *fasthttp.RequestCtx) *apiError {
	ct := string(rc.Request.Header.ContentType())
	mt, ps, err := mime.ParseMediaType(ct)
	if err != nil || mt != contentTypeJSON {
		return &apiError{Status: fasthttp.StatusUnsupportedMediaType, Code: codeUnsupportedMedia,
			Message: fmt.Sprintf("Content-Type must be application/json, got %q", ct)}
	}
	if cs, ok := ps["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return &apiError{Status: fasthttp.StatusUnsupportedMediaType, Code: codeUnsupportedMedia,
			Message: "charset must be utf-8"}
	}
	return nil
}

// readJSON checks the content type and decodes the body into dst.
func readJSON(rc *fasthttp.RequestCtx, dst any) *apiError {
	if e := requireJSON(rc); e != nil {
		return e
	}
	return decodeJSON(rc.PostBody(), dst)
}

// userIDs validates the path ids named in names.
func (s *Server) pathIDs(p params, names ...string) *apiError {
	for _, n := range names {
		if _, bad := p[badEscape+n]; bad {
			return invalid(n, n+" is not valid percent-encoding (a '%' must start %XX)")
		}
		if e := checkID(n, p[n], s.Config.Limits.MaxIDBytes); e != nil {
			return e
		}
	}
	return nil
}

// reqContext bounds how long a handler waits on actors.
func (s *Server) reqContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.Config.Limits.RequestTimeout.Std())
}

// actorError maps an actor/store failure to an answer.
func (s *Server) actorError(route string, err error) *apiError {
	if errors.Is(err, actors.ErrBusy) || errors.Is(err, actors.ErrStopped) || errors.Is(err, store.ErrClosed) {
		return overloaded("the server is busy or shutting down; retry")
	}
	if b, ok := errors.AsType[*actors.BackloggedError](err); ok {
		return overloaded(fmt.Sprintf("%d notifications are waiting for %s, as many as its queue holds (vendors.%s.limits.max_queued): the vendor takes them slower than they arrive; nothing was accepted, retry after Retry-After",
			b.Waiting, b.Vendor, b.Vendor))
	}
	if low, ok := errors.AsType[*store.StorageLowError](err); ok {
		return storageFull(low)
	}
	s.Log.Error("request failed", "route", route, "err", err)
	return internalError()
}

func (s *Server) putDevice(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := s.pathIDs(p, "user_id", "device_id"); e != nil {
		return e
	}
	var req PutDeviceRequest
	if e := readJSON(rc, &req); e != nil {
		return e
	}
	dev, e := s.deviceFromRequest(req)
	if e != nil {
		return e
	}
	ctx, cancel := s.reqContext()
	defer cancel()
	res, err := s.Users.BindDevice(ctx, p["user_id"], p["device_id"], dev)
	if err != nil {
		return s.actorError("put_device", err)
	}
	out := PutDeviceResponse{PushID: dev.PushID(), UserID: p["user_id"], DeviceID: p["device_id"]}
	if res.MovedFrom != nil {
		out.MovedFrom = &res.MovedFrom.UserID
	}
	writeJSON(rc, fasthttp.StatusOK, out)
	return nil
}

func (s *Server) deviceFromRequest(req PutDeviceRequest) (store.Device, *apiError) {
	if req.Vendor == "" {
		return store.Device{}, invalid("vendor", "vendor is required: one of "+vendors.KindList())
	}
	kind, ok := vendors.ParseKind(req.Vendor)
	if !ok {
		return store.Device{}, invalid("vendor", fmt.Sprintf("unknown vendor %q: must be one of %s", req.Vendor, vendors.KindList()))
	}
	if e := checkToken("token", req.Token, s.Config.Limits.MaxTokenBytes); e != nil {
		return store.Device{}, e
	}
	if kind == vendors.APNs {
		switch req.APNsEnv {
		case "":
			req.APNsEnv = "automatic"
		case "production", "development", "automatic":
		default:
			return store.Device{}, invalid("apns_env", "apns_env must be one of production, development, automatic")
		}
		if req.VoIPToken != "" {
			if e := checkToken("voip_token", req.VoIPToken, s.Config.Limits.MaxTokenBytes); e != nil {
				return store.Device{}, e
			}
		}
	} else {
		if req.APNsEnv != "" {
			return store.Device{}, invalid("apns_env", "apns_env applies to vendor apns only")
		}
		if req.VoIPToken != "" {
			return store.Device{}, invalid("voip_token", "voip_token applies to vendor apns only")
		}
	}
	if e := checkLocale(req.Locale); e != nil {
		return store.Device{}, e
	}
	return store.Device{
		Vendor: string(kind), Token: req.Token, APNsEnv: req.APNsEnv, VoIPToken: req.VoIPToken,
		Locale: req.Locale, UpdatedAt: s.Clock.Now().UnixMilli(),
	}, nil
}

func (s *Server) deleteDevice(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := s.pathIDs(p, "user_id", "device_id"); e != nil {
		return e
	}
	ctx, cancel := s.reqContext()
	defer cancel()
	if _, err := s.Users.DeleteDevice(ctx, p["user_id"], p["device_id"]); err != nil {
		return s.actorError("delete_device", err)
	}
	rc.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

func (s *Server) logout(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := s.pathIDs(p, "user_id"); e != nil {
		return e
	}
	var req LogoutRequest
	// The body is optional: none means every device.
	if len(rc.PostBody()) > 0 {
		if e := readJSON(rc, &req); e != nil {
			return e
		}
		if req.DeviceID != "" {
			if e := checkID("device_id", req.DeviceID, s.Config.Limits.MaxIDBytes); e != nil {
				return e
			}
		}
	}
	ctx, cancel := s.reqContext()
	defer cancel()
	if err := s.Users.Logout(ctx, p["user_id"], req.DeviceID); err != nil {
		return s.actorError("logout", err)
	}
	rc.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

func (s *Server) putBadge(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := s.pathIDs(p, "user_id"); e != nil {
		return e
	}
	var req BadgeRequest
	if e := readJSON(rc, &req); e != nil {
		return e
	}
	if req.Count == nil {
		return invalid("count", "count is required")
	}
	if *req.Count < 0 || *req.Count > maxBadge {
		return invalid("count", fmt.Sprintf("count must be between 0 and %d", maxBadge))
	}
	ctx, cancel := s.reqContext()
	defer cancel()
	if err := s.Users.SetBadge(ctx, p["user_id"], *req.Count); err != nil {
		return s.actorError("badge", err)
	}
	rc.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

func (s *Server) getUser(rc *fasthttp.RequestCtx, p params) *apiError {
	if e := s.pathIDs(p, "user_id"); e != nil {
		return e
	}
	ctx, cancel := s.reqContext()
	defer cancel()
	v, err := s.Users.Get(ctx, p["user_id"])
	if err != nil {
		return s.actorError("get_user", err)
	}
	writeJSON(rc, fasthttp.StatusOK, toUserResponse(v))
	return nil
}

func toUserResponse(v actors.UserView) UserResponse {
	out := UserResponse{UserID: v.UserID, Online: v.Online, Badge: v.Badge, InboxPending: v.InboxPending,
		RingingCalls: v.RingingCalls, Devices: make([]DeviceResponse, 0, len(v.Devices))}
	if out.RingingCalls == nil {
		out.RingingCalls = []string{}
	}
	for _, dv := range v.Devices {
		out.Devices = append(out.Devices, DeviceResponse(dv))
	}
	return out
}

// ttlMillis converts an optional ttl_s to milliseconds with the config's bounds.
func (s *Server) ttlMillis(field string, ttl *int64) (int64, *apiError) {
	if ttl == nil {
		return s.Config.Presence.DefaultTTL.Std().Milliseconds(), nil
	}
	maxS := int64(s.Config.Presence.MaxTTL.Std() / time.Second)
	if *ttl < 1 || *ttl > maxS {
		return 0, invalid(field, fmt.Sprintf("%s must be between 1 and %d seconds", field, maxS))
	}
	return *ttl * 1000, nil
}
