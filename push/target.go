package push

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/store"
	"github.com/herald-push/herald/vendors"
)

// DefaultResource is the resources_id used when a push names none.
const DefaultResource = "default"

// ResourceFor returns the resource id names, or the "default" resource
// when id is empty.
func ResourceFor(res map[string]configs.Resource, id string) configs.Resource {
	if id == "" {
		id = DefaultResource
	}
	return res[id]
}

// SimulatorDefaultResource is the push resource simulator mode adds as
// "default" when the config has none: OPPO refuses notifications without a
// channel (as the real service does on Android 8+), so the built-in
// simulators need one to show pushes flowing out of the box.
func SimulatorDefaultResource() configs.Resource {
	return configs.Resource{Vendors: map[string]configs.ResourceVendor{
		"oppo":   {ChannelID: "herald_im", Category: "IM", NotifyLevel: 2},
		"xiaomi": {ChannelID: "herald_im"},
		"vivo":   {Category: "IM"},
		"huawei": {Category: "IM"},
	}}
}

// VendorResource converts a config resource to one vendor's view.
func VendorResource(r configs.Resource, k vendors.Kind) vendors.Resource {
	v := r.For(string(k))
	return vendors.Resource{
		Sound: v.Sound, VoIP: r.VoIP, HighPrio: r.Priority == "high", NormalPrio: r.Priority == "normal",
		ChannelID: v.ChannelID, Category: v.Category, NotifyLevel: v.NotifyLevel, ThreadID: v.ThreadID, Mutable: v.Mutable,
	}
}

// Target is one device a push goes to: the vendor, the token (the PushKit
// token for a VoIP push to an iOS device that has one) and the APNs
// environment to try.
type Target struct {
	DeviceID string
	Kind     vendors.Kind
	Target   vendors.Target
	VoIP     bool         // Target.Token is the device's PushKit token
	Device   store.Device // the binding as stored
}

// Route is where a bound device's push goes: its vendor and token, and the
// APNs environment that accepted the token before (else the one it was
// bound with). A ringing push (a call invitation or cancel) takes the
// call form: an APNs device's PushKit token when it has one (a VoIP push;
// without one, an ordinary push on its token), every other vendor's call
// push.
func Route(dev store.Device, ring bool) store.Route {
	r := store.Route{Vendor: dev.Vendor, Token: dev.Token, APNsEnv: dev.APNsEnv}
	if dev.ResolvedEnv != "" {
		r.APNsEnv = dev.ResolvedEnv
	}
	if ring {
		if vendors.Kind(dev.Vendor) != vendors.APNs {
			r.VoIP = true
		} else if dev.VoIPToken != "" {
			r.Token, r.VoIP = dev.VoIPToken, true
		}
	}
	return r
}

// DeviceTarget is the test push's target for one bound device: as Route,
// with voip asking for a VoIP push, which only APNs devices with a PushKit
// token get.
func DeviceTarget(deviceID string, dev store.Device, voip bool) Target {
	r := Route(dev, voip && vendors.Kind(dev.Vendor) == vendors.APNs)
	return Target{DeviceID: deviceID, Kind: vendors.Kind(dev.Vendor), Device: dev,
		Target: vendors.Target{Token: r.Token, APNsEnv: r.APNsEnv}, VoIP: r.VoIP}
}

// TokenTarget is a target named by its push id alone (no binding): an APNs
// token is tried in both environments, VoIP only for APNs.
func TokenTarget(kind vendors.Kind, token string, voip bool) Target {
	return Target{Kind: kind, Target: vendors.Target{Token: token, APNsEnv: "automatic"}, VoIP: voip && kind == vendors.APNs}
}

// Outcome is what one vendor answered one target of a direct send.
type Outcome struct {
	Result  vendors.Result // the vendor's verdict; zero when Err is set
	Err     error          // the send failed before a verdict (no client, transport, …)
	Latency time.Duration
}

// ErrNoClient is an Outcome's Err for a vendor with no configured account.
var ErrNoClient = errors.New("no account is configured for this vendor")

// SendDirect composes content for each target's vendor under resource res
// and sends it to every target at once through clients, bypassing the
// outbox and the senders' limits (the test push), and returns each
// outcome in the targets' order.
func SendDirect(ctx context.Context, clients map[vendors.Kind]vendors.Sender, c vendors.Content, res configs.Resource, targets []Target) []Outcome {
	out := make([]Outcome, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		snd, ok := clients[t.Kind]
		if !ok {
			out[i].Err = ErrNoClient
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc := c
			cc.VoIP = t.VoIP
			n := vendors.Compose(cc, VendorResource(res, t.Kind))
			start := time.Now()
			results, err := snd.Send(ctx, &n, []vendors.Target{t.Target})
			out[i].Latency = time.Since(start)
			switch {
			case err != nil:
				out[i].Err = err
			case len(results) != 1:
				out[i].Err = fmt.Errorf("vendor client returned %d results for 1 target", len(results))
			default:
				out[i].Result = results[0]
			}
		}()
	}
	wg.Wait()
	return out
}
