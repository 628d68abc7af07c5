package api

import (
	"fmt"
	"sync"

	"github.com/valyala/fasthttp"
)

// maxDeviceBatch is the most devices in one POST /v1/devices/batch.
const maxDeviceBatch = 1000

// postDeviceBatch binds up to 1000 devices in one request (bulk
// registration for migrations and load tests). The batch is validated whole
// first; binds then run concurrently, each durable on its own. Binding is
// idempotent, so after a 503 the caller resends the batch.
func (s *Server) postDeviceBatch(rc *fasthttp.RequestCtx, _ params) *apiError {
	var req DeviceBatchRequest
	if e := readJSON(rc, &req); e != nil {
		return e
	}
	if n := len(req.Devices); n == 0 || n > maxDeviceBatch {
		return invalid("devices", fmt.Sprintf("devices must hold 1 to %d items, got %d", maxDeviceBatch, n))
	}
	type item struct {
		user, device string
		req          PutDeviceRequest
	}
	items := make([]item, len(req.Devices))
	for i, bd := range req.Devices {
		at := fmt.Sprintf("devices[%d].", i)
		if e := checkID(at+"user_id", bd.UserID, s.Config.Limits.MaxIDBytes); e != nil {
			return e
		}
		if e := checkID(at+"device_id", bd.DeviceID, s.Config.Limits.MaxIDBytes); e != nil {
			return e
		}
		if _, e := s.deviceFromRequest(bd.PutDeviceRequest); e != nil {
			e.Field = at + e.Field
			e.Message = at + e.Message
			return e
		}
		items[i] = item{user: bd.UserID, device: bd.DeviceID, req: bd.PutDeviceRequest}
	}
	ctx, cancel := s.reqContext()
	defer cancel()
	out := make([]PutDeviceResponse, len(items))
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dev, _ := s.deviceFromRequest(it.req)
			res, err := s.Users.BindDevice(ctx, it.user, it.device, dev)
			errs[i] = err
			out[i] = PutDeviceResponse{PushID: dev.PushID(), UserID: it.user, DeviceID: it.device}
			if err == nil && res.MovedFrom != nil {
				out[i].MovedFrom = &res.MovedFrom.UserID
			}
		}()
	}
	wg.Wait()
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			first = err
		}
	}
	if failed > 0 {
		ae := s.actorError("device_batch", first)
		ae.Message = fmt.Sprintf("%d of %d devices bound before a failure; binding is idempotent, resend the batch (%s)",
			len(items)-failed, len(items), ae.Message)
		return ae
	}
	writeJSON(rc, fasthttp.StatusOK, DeviceBatchResponse{Results: out})
	return nil
}
