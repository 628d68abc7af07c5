package api

import (
	"errors"
	"fmt"

	"github.com/herald-push/herald/vendors"
	"github.com/valyala/fasthttp"
)

// pushFields names the request fields a vendor's refusal can be about:
// the text, the custom data and the push resource, with their sizes (so a
// refusal of the whole payload names the largest part).
type pushFields struct {
	title, content, data, resource string
	titleLen, contentLen, dataLen  int
}

// vendorRefusal is the 400 answer to a push a configured vendor would
// refuse as herald composes it (push.CheckMessage, push.CheckCall): the
// field at fault, the vendor and its limit. nil when err is nil.
func vendorRefusal(err error, f pushFields) *apiError {
	if err == nil {
		return nil
	}
	var le *vendors.LimitError
	if !errors.As(err, &le) {
		return &apiError{Status: fasthttp.StatusBadRequest, Code: codeInvalidArgument, Field: f.content,
			Message: fmt.Sprintf("the push cannot be composed for every configured vendor: %v", err)}
	}
	field := f.resource
	switch le.Part {
	case vendors.PartText:
		field = f.content
		if f.contentLen == 0 && f.titleLen > 0 {
			field = f.title
		}
	case vendors.PartData:
		field = f.data
	case vendors.PartPayload:
		field = f.data
		if f.titleLen > f.dataLen && f.titleLen >= f.contentLen {
			field = f.title
		} else if f.contentLen > f.dataLen && f.contentLen > f.titleLen {
			field = f.content
		}
	}
	return &apiError{Status: fasthttp.StatusBadRequest, Code: codeInvalidArgument, Field: field, Vendor: string(le.Vendor),
		Message: fmt.Sprintf("%s: %s, and a push is accepted only if every configured vendor can deliver it", field, le.Error())}
}
