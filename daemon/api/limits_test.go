package api

import (
	"errors"
	"strings"
	"testing"

	"github.com/herald-push/herald/vendors"
)

// A vendor's refusal names the request field at fault: the text, the
// custom data, the push resource, or for the whole payload its largest
// part; the message names the vendor and its limit.
func TestVendorRefusalNamesTheField(t *testing.T) {
	msg := func(title, content, payload int) pushFields {
		return pushFields{title: "push.title", content: "push.content", data: "push.payload", resource: "push.resources_id",
			titleLen: title, contentLen: content, dataLen: payload}
	}
	limit := func(p vendors.Part) error {
		return &vendors.LimitError{Vendor: vendors.Vivo, Part: p, Limit: "at most 1024 characters of custom data", Size: 1300}
	}
	for _, tc := range []struct {
		name  string
		part  vendors.Part
		f     pushFields
		field string
	}{
		{"text, content given", vendors.PartText, msg(1, 5, 0), "push.content"},
		{"text, title only", vendors.PartText, msg(5, 0, 0), "push.title"},
		{"data", vendors.PartData, msg(9000, 1, 1), "push.payload"},
		{"resource", vendors.PartResource, msg(1, 1, 1), "push.resources_id"},
		{"payload, the payload largest", vendors.PartPayload, msg(10, 20, 30), "push.payload"},
		{"payload, the title largest", vendors.PartPayload, msg(30, 20, 10), "push.title"},
		{"payload, the content largest", vendors.PartPayload, msg(10, 30, 20), "push.content"},
	} {
		e := vendorRefusal(limit(tc.part), tc.f)
		if e == nil || e.Status != 400 || e.Code != codeInvalidArgument || e.Field != tc.field || e.Vendor != "vivo" ||
			!strings.Contains(e.Message, "vivo accepts at most 1024 characters of custom data; this push composes to 1300") {
			t.Errorf("%s: %+v, want 400 naming %s and vivo's limit", tc.name, e, tc.field)
		}
	}
	if e := vendorRefusal(nil, msg(1, 1, 1)); e != nil {
		t.Errorf("no refusal: %+v", e)
	}
	if e := vendorRefusal(errors.New("encode: bad"), msg(1, 1, 1)); e == nil || e.Status != 400 || !strings.Contains(e.Message, "encode: bad") {
		t.Errorf("a failed composition: %+v", e)
	}
}
