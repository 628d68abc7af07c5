package xiaomi

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseSimRequest extracts what the log and the Recorder need.
func parseSimRequest(form url.Values, regIDs []string) Received {
	r := Received{
		RegIDs:      regIDs,
		MessageID:   form.Get("extra." + messageIDKey),
		ChannelID:   form.Get("extra.channel_id"),
		PassThrough: form.Get("pass_through") == "1",
		Form:        form,
	}
	if r.MessageID == "" {
		var payload map[string]any
		if json.Unmarshal([]byte(form.Get("payload")), &payload) == nil {
			r.MessageID, _ = payload[messageIDKey].(string)
		}
	}
	return r
}

// check validates a send request the way MiPush does; nil = valid.
func (s *Simulator) check(form url.Values, req Received) *simError {
	missing := func(name string) *simError {
		return simErr(CodeMissingParam, "Missing required parameter: "+name, "缺失必选参数")
	}
	illegal := func(format string, args ...any) *simError {
		return simErr(CodeIllegalParam, "Illegal parameter: "+fmt.Sprintf(format, args...), "非法参数")
	}
	switch {
	case len(req.RegIDs) == 0:
		return missing("registration_id")
	case len(req.RegIDs) > MaxBatch:
		return illegal("registration_id holds %d ids, at most %d", len(req.RegIDs), MaxBatch)
	}
	for _, id := range req.RegIDs {
		if !plausibleRegID(id) {
			return illegal("registration_id holds a malformed id %q", truncate(id, 40))
		}
	}
	pkgs := form.Get("restricted_package_name")
	if pkgs == "" {
		return missing("restricted_package_name")
	}
	for p := range strings.SplitSeq(pkgs, ",") {
		if p != s.pkg {
			return simErr(CodeBadPackage, "Invalid package name: "+truncate(p, 100), "包名非法")
		}
	}
	switch form.Get("pass_through") {
	case "", "0":
		if e := checkText(form, "title", maxTitle, missing, illegal); e != nil {
			return e
		}
		if e := checkText(form, "description", maxDescription, missing, illegal); e != nil {
			return e
		}
		if req.ChannelID == "" {
			return illegal("extra.channel_id is required")
		}
	case "1":
		if form.Get("payload") == "" {
			return missing("payload")
		}
	default:
		return illegal("pass_through must be 0 or 1")
	}
	if req.ChannelID != "" && s.channels != nil && !s.channels[req.ChannelID] {
		return simErr(CodeChannelMismatch, "channel info mismatch: "+truncate(req.ChannelID, 100), "通道信息不匹配")
	}
	if e := checkInts(form, illegal); e != nil {
		return e
	}
	return checkExtras(form, illegal)
}

// checkText checks a required notification text shorter than limit+1.
func checkText(form url.Values, name string, limit int, missing func(string) *simError, illegal func(string, ...any) *simError) *simError {
	v := form.Get(name)
	if strings.TrimSpace(v) == "" {
		return missing(name)
	}
	if n := utf8.RuneCountInString(v); n > limit {
		return illegal("%s is %d characters, must be under %d", name, n, limit+1)
	}
	return nil
}

// checkInts checks the optional integer parameters.
func checkInts(form url.Values, illegal func(string, ...any) *simError) *simError {
	if v := form.Get("notify_type"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < -1 || n > 7 || n == 0 {
			return illegal("notify_type %q", truncate(v, 20))
		}
	}
	if v := form.Get("notify_id"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 || n > 1<<31-1 {
			return illegal("notify_id %q", truncate(v, 20))
		}
	}
	for _, name := range []string{"time_to_live", "time_to_send"} {
		if v := form.Get(name); v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 {
				return illegal("%s %q", name, truncate(v, 20))
			}
		}
	}
	return nil
}

// checkExtras enforces at most ten custom extras of at most 1024
// characters each.
func checkExtras(form url.Values, illegal func(string, ...any) *simError) *simError {
	custom := 0
	for k, vs := range form {
		name, ok := strings.CutPrefix(k, "extra.")
		if !ok || name == "channel_id" || reservedExtra(name) {
			continue
		}
		custom++
		if utf8.RuneCountInString(name) > maxExtraLen || utf8.RuneCountInString(vs[0]) > maxExtraLen {
			return illegal("extra.%s is longer than %d characters", truncate(name, 40), maxExtraLen)
		}
	}
	if custom > maxCustomExtras {
		return illegal("%d custom extras, at most %d", custom, maxCustomExtras)
	}
	return nil
}
