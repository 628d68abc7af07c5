package configs

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestResourceFor(t *testing.T) {
	r := Resource{Sound: "ring.caf", Vendors: map[string]ResourceVendor{
		"oppo": {ChannelID: "calls", Category: "IM", NotifyLevel: 16},
		"fcm":  {ChannelID: "calls", Sound: "ring"},
	}}
	for vendor, want := range map[string]ResourceVendor{
		"oppo": {ChannelID: "calls", Category: "IM", NotifyLevel: 16, Sound: "ring.caf"},
		"fcm":  {ChannelID: "calls", Sound: "ring"},
		"apns": {Sound: "ring.caf"},
	} {
		if got := r.For(vendor); got != want {
			t.Errorf("For(%q) = %+v; want %+v", vendor, got, want)
		}
	}
	if got := (Resource{}).For("huawei"); got != (ResourceVendor{}) {
		t.Errorf("empty resource: For = %+v", got)
	}
	if r.Vendors["oppo"].Sound != "" {
		t.Error("For modified the resource")
	}
}

func TestValidateResources(t *testing.T) {
	tests := []struct {
		name string
		r    Resource
		key  string // under resources.r; "" = valid
	}{
		{"empty", Resource{}, ""},
		{"priorities", Resource{Priority: "high"}, ""},
		{"all vendors", Resource{Priority: "normal", Sound: "s", VoIP: true, Badge: true, Vendors: map[string]ResourceVendor{
			"apns": {Category: "CALL_INVITE", Sound: "ring.caf"}, "fcm": {ChannelID: "c"}, "web": {Sound: "x"},
			"huawei": {ChannelID: "c", Category: "VOIP"}, "xiaomi": {ChannelID: "123"},
			"oppo": {ChannelID: "c", Category: "IM", NotifyLevel: 2}, "vivo": {Category: "DEVICE_REMINDER"},
		}}, ""},
		{"oppo levels", Resource{Vendors: map[string]ResourceVendor{"oppo": {Category: "ACCOUNT", NotifyLevel: 1}}}, ""},
		{"bad priority", Resource{Priority: "urgent"}, ".priority"},
		{"unknown vendor", Resource{Vendors: map[string]ResourceVendor{"hauwei": {Category: "IM"}}}, ".vendors.hauwei"},
		{"apns channel", Resource{Vendors: map[string]ResourceVendor{"apns": {ChannelID: "c"}}}, ".vendors.apns.channel_id"},
		{"web channel", Resource{Vendors: map[string]ResourceVendor{"web": {ChannelID: "c"}}}, ".vendors.web.channel_id"},
		{"huawei notify level", Resource{Vendors: map[string]ResourceVendor{"huawei": {Category: "IM", NotifyLevel: 2}}}, ".vendors.huawei.notify_level"},
		{"oppo notify level 3", Resource{Vendors: map[string]ResourceVendor{"oppo": {Category: "IM", NotifyLevel: 3}}}, ".vendors.oppo.notify_level"},
		{"oppo notify level without category", Resource{Vendors: map[string]ResourceVendor{"oppo": {NotifyLevel: 16}}}, ".vendors.oppo.notify_level"},
		{"huawei lowercase", Resource{Vendors: map[string]ResourceVendor{"huawei": {Category: "im"}}}, ".vendors.huawei.category"},
		{"huawei unknown category", Resource{Vendors: map[string]ResourceVendor{"huawei": {Category: "CHAT"}}}, ".vendors.huawei.category"},
		{"oppo mixed case", Resource{Vendors: map[string]ResourceVendor{"oppo": {Category: "Im"}}}, ".vendors.oppo.category"},
		{"oppo unlisted category", Resource{Vendors: map[string]ResourceVendor{"oppo": {Category: "WORK"}}}, ".vendors.oppo.category"},
		{"oppo banner with an operational category", Resource{Vendors: map[string]ResourceVendor{"oppo": {Category: "MARKETING", NotifyLevel: 16}}}, ".vendors.oppo.notify_level"},
		{"oppo banner with a service category", Resource{Vendors: map[string]ResourceVendor{"oppo": {Category: "TODO", NotifyLevel: 16}}}, ""},
		{"vivo dash", Resource{Vendors: map[string]ResourceVendor{"vivo": {Category: "I-M"}}}, ".vendors.vivo.category"},
		{"xiaomi category", Resource{Vendors: map[string]ResourceVendor{"xiaomi": {Category: "IM"}}}, ".vendors.xiaomi.category"},
		{"fcm category", Resource{Vendors: map[string]ResourceVendor{"fcm": {Category: "IM"}}}, ".vendors.fcm.category"},
		{"apns category space", Resource{Vendors: map[string]ResourceVendor{"apns": {Category: "CALL INVITE"}}}, ".vendors.apns.category"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Resources["r"] = tt.r
			err := c.Validate()
			if tt.key == "" {
				if err != nil {
					t.Fatalf("Validate() = %v; want nil", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Key != "resources.r"+tt.key {
				t.Fatalf("Validate() = %v; want one problem at %q", err, "resources.r"+tt.key)
			}
		})
	}
}

func TestParseResources(t *testing.T) {
	_, err := Parse([]byte("resources:\n  chat:\n    vendors:\n      oppo: {notfy_level: 2}\n"), "t")
	if want := `resources.chat.vendors.oppo.notfy_level: unknown key (line 4)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v; want %q", err, want)
	}
	_, err = Parse([]byte("resources: {chat: {vendors: {oppo: {notify_level: high}}}}\n"), "t")
	if want := `resources.chat.vendors.oppo.notify_level: expected an integer`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v; want %q", err, want)
	}
}

func TestExampleResourcesValidate(t *testing.T) {
	in := exampleBlock(t, "# Default none. Examples:")
	c, err := Parse([]byte(in), "example resources")
	if err != nil {
		t.Fatalf("%v\n%s", err, in)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("%v\n%s", err, in)
	}
	chat, call := c.Resources["chat"], c.Resources["call"]
	for _, tt := range []struct {
		got, want any
	}{
		{chat.For("huawei"), ResourceVendor{Category: "IM"}},
		{chat.For("oppo"), ResourceVendor{ChannelID: "chat", Category: "IM", NotifyLevel: 2}},
		{chat.For("xiaomi"), ResourceVendor{ChannelID: "123456"}},
		{chat.For("vivo"), ResourceVendor{Category: "IM"}},
		{chat.For("fcm"), ResourceVendor{ChannelID: "chat"}},
		{[]any{call.VoIP, call.Priority}, []any{true, "high"}},
		{call.For("huawei"), ResourceVendor{Category: "VOIP", Sound: "ring.caf"}},
		{call.For("oppo").NotifyLevel, 16},
		{call.For("fcm").Sound, "ring"},
	} {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("got %+v; want %+v", tt.got, tt.want)
		}
	}
}
