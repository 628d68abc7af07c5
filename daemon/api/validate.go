package api

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// checkID validates an id (user_id, device_id, …): 1..max bytes of valid
// UTF-8, printable, no whitespace, no '/'.
func checkID(field, v string, max int) *apiError {
	if v == "" {
		return invalid(field, field+" is required")
	}
	if len(v) > max {
		return invalid(field, fmt.Sprintf("%s must be at most %d bytes", field, max))
	}
	if !utf8.ValidString(v) {
		return invalid(field, field+" must be valid UTF-8")
	}
	if v == "." || v == ".." {
		return invalid(field, field+` must not be "." or ".." (they name no thing in a path)`)
	}
	for _, r := range v {
		if r == '/' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return invalid(field, field+" must be printable with no whitespace and no '/'")
		}
	}
	return nil
}

// checkToken validates a vendor push token: 1..max bytes of printable ASCII
// with no whitespace (every vendor's tokens are hex, base64 or URL-safe text).
func checkToken(field, v string, max int) *apiError {
	if v == "" {
		return invalid(field, field+" is required")
	}
	if len(v) > max {
		return invalid(field, fmt.Sprintf("%s must be at most %d bytes", field, max))
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f {
			return invalid(field, field+" must be printable ASCII with no whitespace")
		}
	}
	return nil
}

// checkLocale accepts BCP 47-like tags: letters, digits, '-' and '_', ≤ 35 bytes.
func checkLocale(v string) *apiError {
	if len(v) > 35 {
		return invalid("locale", "locale must be at most 35 bytes")
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return invalid("locale", "locale must be a language tag such as zh-CN")
		}
	}
	return nil
}
