package oppo

import (
	"fmt"
	"unicode/utf8"
)

// Categories OPPO knows [U: lists from secondary pages]: service
// (private-channel) categories, which may use notify_level 16, and
// operational ones, which may not.
func categoryKind(c string) (known, service bool) {
	switch c {
	case "IM", "ACCOUNT", "DEVICE_REMINDER", "ORDER", "TODO", "SUBSCRIPTION":
		return true, true
	case "NEWS", "CONTENT", "MARKETING", "SOCIAL":
		return true, false
	}
	return false, false
}

// validateMessage checks one message the way OPPO documents its fields:
// missing required ones are 40, bad values 41, category and notify_level
// problems 67. It returns codeSuccess and "" when the message is fine.
func validateMessage(m *simMessage) (int, string) {
	switch {
	case m.TargetType == nil:
		return codeMissingArguments, "target_type"
	case *m.TargetType != targetRegID && *m.TargetType != 5:
		return codeInvalidArguments, "target_type must be 2 (registration_id) or 5 (alias)"
	case m.TargetValue == "":
		return codeMissingArguments, "target_value"
	case m.Notification == nil:
		return codeMissingArguments, "notification"
	}
	n := m.Notification
	style := 1
	if n.Style != nil {
		style = *n.Style
	}
	contentMax := maxContentRunes
	if style == styleLongText {
		contentMax = maxLongContentRunes
	}
	switch {
	case style < 1 || style > 3:
		return codeInvalidArguments, "style must be 1, 2 or 3"
	case n.Title == nil || *n.Title == "":
		return codeMissingArguments, "title"
	case utf8.RuneCountInString(*n.Title) > maxTitleRunes:
		return codeInvalidArguments, fmt.Sprintf("title longer than %d characters", maxTitleRunes)
	case n.Content == nil || *n.Content == "":
		return codeMissingArguments, "content"
	case utf8.RuneCountInString(*n.Content) > contentMax:
		return codeInvalidArguments, fmt.Sprintf("content longer than %d characters for style %d", contentMax, style)
	case n.ClickActionType != nil && !validClickAction(*n.ClickActionType):
		return codeInvalidArguments, "click_action_type must be 0, 1, 2, 4 or 5"
	case n.ActionParameters != nil && *n.ActionParameters != "" && !n.params.object:
		return codeInvalidArguments, "action_parameters is not a JSON object"
	case n.OffLineTTL != nil && (*n.OffLineTTL <= 0 || *n.OffLineTTL > maxOffLineTTL):
		return codeInvalidArguments, fmt.Sprintf("off_line_ttl must be 1..%d seconds", maxOffLineTTL)
	case n.ChannelID == "":
		return codeMissingArguments, "channel_id"
	case utf8.RuneCountInString(n.CallBackURL) > maxCallBackURL:
		return codeInvalidArguments, fmt.Sprintf("call_back_url longer than %d characters", maxCallBackURL)
	case utf8.RuneCountInString(n.CallBackParam) > maxCallBackParam:
		return codeInvalidArguments, fmt.Sprintf("call_back_parameter longer than %d characters", maxCallBackParam)
	}
	known, service := categoryKind(n.Category)
	switch {
	case n.Category != "" && !known:
		return codeCategoryError, "unknown category " + n.Category
	case n.NotifyLevel == nil:
		return codeSuccess, ""
	case n.Category == "":
		return codeCategoryError, "notify_level needs a category"
	case *n.NotifyLevel != 1 && *n.NotifyLevel != 2 && *n.NotifyLevel != notifyLevelBanner:
		return codeCategoryError, "notify_level must be 1, 2 or 16"
	case *n.NotifyLevel == notifyLevelBanner && !service:
		return codeCategoryError, "notify_level 16 is for service categories only"
	}
	return codeSuccess, ""
}

func validClickAction(t int) bool {
	switch t {
	case 0, 1, 2, 4, 5:
		return true
	}
	return false
}
