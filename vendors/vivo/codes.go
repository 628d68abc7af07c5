package vivo

// The vivo API paths, relative to the endpoint.
const (
	pathAuth        = "/message/auth"
	pathSend        = "/message/send"
	pathSaveList    = "/message/saveListPayload"
	pathPushToList  = "/message/pushToList"
	vendorName      = "vivo"
	maxBatch        = 1000
	minListTargets  = 2
	maxCustomPairs  = 10
	maxCustomChars  = 1024 // keys and values together
	maxTitleWidth   = 40   // a non-ASCII character counts 2
	maxContentWidth = 100
	maxRequestIDLen = 64
	minTTLSeconds   = 60
	maxTTLSeconds   = 7 * 24 * 3600
)

// vivo business codes ("result" in every answer body).
const (
	codeOK = 0
	// codeAuthFailed is "权限认证失败": the authToken header is missing,
	// unknown or expired. vivo publishes no separate expired-token code;
	// clients refresh once on this code. [U for expiry]
	codeAuthFailed = 10000
	// codeParamInvalid is the simulator's answer to a malformed or invalid
	// field; vivo has one code per field in the 100xx range. [U]
	codeParamInvalid = 10050
	// codeDailyTotal is "发送总量超出限制": today's total is spent.
	codeDailyTotal = 10070
	// codeTooFast is the simulator's flow-control answer ("发送速度过快"). [U]
	codeTooFast = 10072
	// codeAppMismatch: the body's appId differs from the authToken's app.
	codeAppMismatch = 10094
	// codeCategoryInvalid / codeCategoryMismatch: category unknown, or not
	// of the message's classification.
	codeCategoryInvalid  = 10096
	codeCategoryMismatch = 10097
	// Auth-endpoint codes: 10200 appId empty and 10201 appKey empty are
	// documented; the simulator's choices for the rest are [U].
	codeAuthAppIDEmpty     = 10200
	codeAuthAppKeyEmpty    = 10201
	codeAuthTimestampEmpty = 10202 // [U]
	codeAuthSignEmpty      = 10203 // [U]
	codeAuthAppIDInvalid   = 10204 // [U]
	codeAuthAppKeyInvalid  = 10205 // [U]
	codeAuthTimestampBad   = 10206 // [U] outside ±10 min of vivo's clock
	codeAuthSignInvalid    = 10207 // [U]
	codeAuthLast           = 10249 // end of the range treated as auth errors
	// codeListPayloadLimit is "批量发送消息体超出限制": saveListPayload may
	// not be called again today.
	codeListPayloadLimit = 10252
	// codeTaskIDInvalid: pushToList names a taskId vivo does not hold. [U]
	codeTaskIDInvalid = 10253
	// codeBroadcastLimit is "全量发送超过次数限制" (/message/all, unused here).
	codeBroadcastLimit = 10254
	// codeRegIDInvalid is /message/send's answer for a dead target; the
	// body carries invalidUser{userid,status}.
	codeRegIDInvalid = 10302
)

// invalidUser statuses.
const (
	statusUnknown     = 1 // regId does not exist
	statusUnsubscribe = 2 // app uninstalled or notifications turned off
	statusInactive    = 3 // offline for 90 days [U]
	statusNotTester   = 4 // not a test device (pushMode 1)
)

// classificationOf returns the classification a category belongs to (1
// system, 0 operational) and whether vivo knows the category. The lists are
// vivo's published ones [U: secondary sources].
func classificationOf(category string) (int, bool) {
	switch category {
	case "IM", "ACCOUNT", "TODO", "DEVICE_REMINDER", "ORDER", "SUBSCRIPTION":
		return 1, true
	case "NEWS", "CONTENT", "MARKETING", "SOCIAL":
		return 0, true
	}
	return 1, false
}
