package api

import (
	"fmt"

	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
	"github.com/valyala/fasthttp"
)

// ReceiptParser decodes one vendor's arrival receipt request body.
type ReceiptParser func(contentType string, body []byte) ([]vendors.Receipt, error)

// ReceiptVendor is how one vendor's receipts are taken.
type ReceiptVendor struct {
	Parse ReceiptParser
	// Verify checks the request's signature (Huawei's
	// X-HUAWEI-CALLBACK-ID); nil = the vendor signs nothing, and only the
	// keyed receipt reference vouches for a receipt.
	Verify func(h *fasthttp.RequestHeader) error
}

// postReceipt takes a vendor's arrival receipt: POST /v1/receipts/{vendor}.
// The vendors send no API key: a receipt counts only when its reference
// is one herald made (a keyed hash of the message id) and, for a vendor
// that signs its receipts, when the signature holds. Arrivals are synced
// before the answer, so a receipt answered 200 is never lost; anything
// else makes the vendor post it again.
// maxReceiptBody bounds a receipt request's body (no API key guards the
// endpoint): far above the vendors' own receipts (Huawei's 100 statuses
// run to ~20 KB), well below what decoding could multiply into gigabytes.
const maxReceiptBody = 1 << 20

func (s *Server) postReceipt(rc *fasthttp.RequestCtx, p params) *apiError {
	name := p["vendor"]
	rv, ok := s.Receipts[vendors.Kind(name)]
	if !ok {
		if len(s.Receipts) == 0 {
			return &apiError{Status: fasthttp.StatusNotFound, Code: codeNotFound, Field: "vendor",
				Message: "arrival receipts are off (receipts.enabled)"}
		}
		return &apiError{Status: fasthttp.StatusNotFound, Code: codeNotFound, Field: "vendor",
			Message: fmt.Sprintf("no arrival receipts for vendor %q: huawei, xiaomi, oppo and vivo post them", name)}
	}
	if rv.Verify != nil {
		if err := rv.Verify(&rc.Request.Header); err != nil {
			s.Log.Warn("receipt refused: bad signature", "vendor", name, "err", err)
			return &apiError{Status: fasthttp.StatusUnauthorized, Code: codeUnauthenticated, Message: "receipt signature: " + err.Error()}
		}
	}
	if n := len(rc.PostBody()); n > maxReceiptBody {
		return &apiError{Status: fasthttp.StatusRequestEntityTooLarge, Code: codePayloadTooLarge, Field: "body",
			Message: fmt.Sprintf("a receipt body is at most %d bytes, got %d", maxReceiptBody, n)}
	}
	receipts, err := rv.Parse(string(rc.Request.Header.ContentType()), rc.PostBody())
	if err != nil {
		return invalid("body", err.Error())
	}
	var out ReceiptResponse
	arrivals := make([]store.Arrival, 0, len(receipts))
	for _, r := range receipts {
		switch {
		case !r.Delivered:
			out.Other++
		case r.Ref == "":
			out.Unmatched++
		default:
			arrivals = append(arrivals, store.Arrival{Ref: r.Ref, Token: r.Token})
		}
	}
	c, err := s.Store.RecordArrivals(name, arrivals)
	if err != nil {
		return s.actorError("POST /v1/receipts/{vendor}", err)
	}
	out.Delivered, out.Duplicate, out.Unmatched = c.New, c.Duplicate, out.Unmatched+c.Unmatched
	s.Senders.CountArrivals(vendors.Kind(name), out.Delivered, out.Duplicate, out.Unmatched)
	writeJSON(rc, fasthttp.StatusOK, out)
	return nil
}
