package configs

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Resource maps a resources_id (ZIM ZIMPushConfig.resourcesID) to
// notification settings.
type Resource struct {
	Sound    string                    `yaml:"sound"`    // default "" = platform default sound
	VoIP     bool                      `yaml:"voip"`     // deliver as a call: APNs VoIP push, Android high-priority/call category; default false
	Badge    bool                      `yaml:"badge"`    // update the app badge; default false
	Priority string                    `yaml:"priority"` // "", "high" or "normal"; "" = the message's own priority
	Vendors  map[string]ResourceVendor `yaml:"vendors"`  // vendor name -> that vendor's settings
}

// ResourceVendor is one vendor's part of a push resource.
type ResourceVendor struct {
	ChannelID   string `yaml:"channel_id"`      // Android notification channel: fcm, huawei, xiaomi, oppo, vivo only
	Category    string `yaml:"category"`        // apns category; huawei IM/VOIP/…; oppo and vivo IM/ACCOUNT/…
	NotifyLevel int    `yaml:"notify_level"`    // oppo only: 0 (vendor default), 1, 2 or 16
	Sound       string `yaml:"sound"`           // overrides Resource.Sound for this vendor
	ThreadID    string `yaml:"thread_id"`       // apns only: aps thread-id (notification grouping)
	Mutable     bool   `yaml:"mutable_content"` // apns only: aps mutable-content (lets a notification service extension edit it)
}

// For returns the settings for vendor with the resource-wide defaults (Sound)
// applied. A vendor without an entry gets only the defaults.
func (r Resource) For(vendor string) ResourceVendor {
	v := r.Vendors[vendor]
	if v.Sound == "" {
		v.Sound = r.Sound
	}
	return v
}

// huaweiCategories returns the android.category values Huawei Push Kit
// accepts (each needs the vendor's self-classification approval).
func huaweiCategories() []string {
	return []string{"IM", "VOIP", "SUBSCRIPTION", "TRAVEL", "HEALTH", "WORK", "ACCOUNT",
		"EXPRESS", "FINANCE", "DEVICE_REMINDER", "MAIL", "PLAY_VOICE", "MARKETING"}
}

// OPPOCategories are the categories OPPO lists: service ones, which may
// use notify_level 16 (banner, which a call gets), and operational ones,
// which may not (OPPO answers 67). vendors/oppo's check holds the same
// lists (a test there keeps them equal).
func OPPOCategories() (service, operational []string) {
	return []string{"IM", "ACCOUNT", "DEVICE_REMINDER", "ORDER", "TODO", "SUBSCRIPTION"},
		[]string{"NEWS", "CONTENT", "MARKETING", "SOCIAL"}
}

func validateResources(ck *checker, resources map[string]Resource) {
	for _, id := range slices.Sorted(maps.Keys(resources)) {
		base := "resources." + id
		if !isToken(id, 128) || strings.Contains(id, "/") {
			ck.add(base, "resource id %q must be 1..128 printable characters without whitespace or '/'", id)
		}
		r := resources[id]
		if r.Priority != "" && r.Priority != "high" && r.Priority != "normal" {
			ck.add(base+".priority", `must be "" (the message's own priority), high or normal (got %q)`, r.Priority)
		}
		for _, name := range slices.Sorted(maps.Keys(r.Vendors)) {
			validateResourceVendor(ck, base+".vendors."+name, name, r.Vendors[name])
		}
	}
}

func validateResourceVendor(ck *checker, base, name string, v ResourceVendor) {
	if !slices.Contains(VendorNames(), name) {
		ck.add(base, "unknown vendor %q (want one of %s)", name, strings.Join(VendorNames(), ", "))
		return
	}
	if v.ChannelID != "" && (name == "apns" || name == "web") {
		ck.add(base+".channel_id", "not supported for %s (channel_id applies to fcm, huawei, xiaomi, oppo, vivo)", name)
	}
	switch {
	case v.NotifyLevel != 0 && name != "oppo":
		ck.add(base+".notify_level", "not supported for %s (notify_level applies to oppo only)", name)
	case v.NotifyLevel != 0 && v.NotifyLevel != 1 && v.NotifyLevel != 2 && v.NotifyLevel != 16:
		ck.add(base+".notify_level", "must be 0 (vendor default), 1, 2 or 16 (got %d)", v.NotifyLevel)
	case v.NotifyLevel != 0 && v.Category == "":
		ck.add(base+".notify_level", "needs a category (oppo ignores notify_level without one)")
	case v.NotifyLevel == 16:
		if service, _ := OPPOCategories(); !slices.Contains(service, v.Category) {
			ck.add(base+".notify_level", "16 (banner) needs a service category: %s (got %q; oppo answers 67)", strings.Join(service, ", "), v.Category)
		}
	}
	if (v.ThreadID != "" || v.Mutable) && name != "apns" {
		ck.add(base, "thread_id and mutable_content apply to apns only")
	}
	if msg := categoryProblem(name, v.Category); msg != "" {
		ck.add(base+".category", "%s", msg)
	}
}

// categoryProblem returns what is wrong with category for vendor, or "".
func categoryProblem(vendor, category string) string {
	if category == "" {
		return ""
	}
	switch vendor {
	case "apns":
		if !isToken(category, 256) {
			return fmt.Sprintf("must be 1..256 printable characters without whitespace (got %q)", category)
		}
	case "huawei":
		if !slices.Contains(huaweiCategories(), category) {
			return fmt.Sprintf("must be one of %s (got %q)", strings.Join(huaweiCategories(), ", "), category)
		}
	case "oppo":
		service, operational := OPPOCategories()
		if all := append(service, operational...); !slices.Contains(all, category) {
			return fmt.Sprintf("must be one of %s (got %q)", strings.Join(all, ", "), category)
		}
	case "vivo":
		if strings.ContainsFunc(category, func(r rune) bool { return r != '_' && (r < 'A' || r > 'Z') }) {
			return fmt.Sprintf("must be uppercase letters and '_', e.g. IM or ACCOUNT (got %q)", category)
		}
	default:
		return fmt.Sprintf("not supported for %s (category applies to apns, huawei, oppo, vivo)", vendor)
	}
	return ""
}
