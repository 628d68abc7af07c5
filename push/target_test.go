package push

import (
	"testing"

	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// TestRoute: one table for where a device's push goes, for messages,
// calls and the test push alike.
func TestRoute(t *testing.T) {
	ios := store.Device{Vendor: "apns", Token: "tok", VoIPToken: "pk", APNsEnv: "automatic", ResolvedEnv: "development"}
	iosNoPK := store.Device{Vendor: "apns", Token: "tok", APNsEnv: "production"}
	hw := store.Device{Vendor: "huawei", Token: "h"}
	for _, tc := range []struct {
		name string
		dev  store.Device
		ring bool
		want store.Route
	}{
		{"message to iOS: its token, the environment that accepted it", ios, false, store.Route{Vendor: "apns", Token: "tok", APNsEnv: "development"}},
		{"call to iOS: the PushKit token, VoIP", ios, true, store.Route{Vendor: "apns", Token: "pk", APNsEnv: "development", VoIP: true}},
		{"call to iOS without PushKit: an ordinary push", iosNoPK, true, store.Route{Vendor: "apns", Token: "tok", APNsEnv: "production"}},
		{"message to Huawei", hw, false, store.Route{Vendor: "huawei", Token: "h"}},
		{"call to Huawei: its call form", hw, true, store.Route{Vendor: "huawei", Token: "h", VoIP: true}},
	} {
		if got := Route(tc.dev, tc.ring); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestDeviceTarget: the test push asks for VoIP only on APNs.
func TestDeviceTarget(t *testing.T) {
	ios := store.Device{Vendor: "apns", Token: "tok", VoIPToken: "pk", APNsEnv: "automatic"}
	if got := DeviceTarget("d1", ios, true); got.Target.Token != "pk" || !got.VoIP || got.DeviceID != "d1" || got.Kind != vendors.APNs || got.Target.APNsEnv != "automatic" {
		t.Fatalf("iOS VoIP test push: %+v", got)
	}
	if got := DeviceTarget("d2", store.Device{Vendor: "huawei", Token: "h"}, true); got.VoIP || got.Target.Token != "h" {
		t.Fatalf("Huawei with voip asked: %+v, want an ordinary push", got)
	}
	if got := TokenTarget(vendors.FCM, "f", true); got.VoIP || got.Target.Token != "f" {
		t.Fatalf("FCM token target with voip: %+v", got)
	}
}

// A row of a kind the composer does not know is an error (the sender
// retries it and logs), never a guess.
func TestNotificationUnknownKind(t *testing.T) {
	c := NewComposer(nil, nil, nil)
	if n, err := c.Notification(vendors.APNs, store.RowID{Kind: 9, ID: "x"}, false, ""); err == nil || n != nil {
		t.Fatalf("unknown kind: %v, %v", n, err)
	}
}
