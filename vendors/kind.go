package vendors

import "strings"

// Kind is the vendor of a device's push token, as the API spells it.
type Kind string

// The vendor kinds. Web is an FCM web-push token.
const (
	APNs   Kind = "apns"
	FCM    Kind = "fcm"
	Huawei Kind = "huawei"
	Xiaomi Kind = "xiaomi"
	OPPO   Kind = "oppo"
	Vivo   Kind = "vivo"
	Web    Kind = "web"
)

// Kinds returns every vendor kind in the API's order.
func Kinds() []Kind { return []Kind{APNs, FCM, Huawei, Xiaomi, OPPO, Vivo, Web} }

// ParseKind returns the Kind named s, or false.
func ParseKind(s string) (Kind, bool) {
	for _, k := range Kinds() {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// KindList is the kinds joined for error messages: "apns, fcm, …".
func KindList() string {
	names := make([]string, 0, 7)
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}
