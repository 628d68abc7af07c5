package oppo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/herald-push/herald/vendors"
	"github.com/herald-push/herald/vendors/internal/wire"
)

// Wire limits of an OPPO notification.
const (
	maxTitleRunes       = 50           // title
	maxContentRunes     = 50           // content, standard style 1
	maxLongContentRunes = 128          // content, long-text style 2
	minOffLineTTL       = 3600         // s; OPPO's minimum message validity [U]
	maxOffLineTTL       = 10 * 86400   // s; ten days
	targetRegID         = 2            // target_type registration_id
	styleLongText       = 2            // style: long text
	notifyLevelBanner   = 16           // tray + lock screen + banner, sound, vibration
	categoryIM          = "IM"         // category for chats and calls
	dataMessageID       = "message_id" // custom-data key of the message id
)

// wireNotification is the "notification" object of one OPPO message, less
// app_message_id, which differs per target and is written in front of it.
// Field order is the wire order the golden files pin.
type wireNotification struct {
	Style            int    `json:"style,omitempty"`
	Title            string `json:"title"`
	Content          string `json:"content"`
	ClickActionType  int    `json:"click_action_type"`
	ActionParameters string `json:"action_parameters,omitempty"`
	OffLineTTL       int    `json:"off_line_ttl,omitempty"`
	ChannelID        string `json:"channel_id,omitempty"`
	Category         string `json:"category,omitempty"`
	NotifyLevel      int    `json:"notify_level,omitempty"`
	NotifyID         int    `json:"notify_id,omitempty"`
	CallBackURL      string `json:"call_back_url,omitempty"`
	CallBackParam    string `json:"call_back_parameter,omitempty"`
}

// buildNotification maps n to OPPO's notification fields. A blank title
// or content borrows the other's text (vendors.Text); overlong ones are cut
// (content past 50 characters switches to the long-text style, up to 128).
// A notification with a ReceiptRef asks for an arrival receipt at
// callback (call_back_url, call_back_parameter = the reference) when
// callback is set.
func buildNotification(n *vendors.Notification, callback string) (wireNotification, error) {
	title, content := vendors.Text(n) // OPPO needs both (code 40): a blank one borrows the other
	w := wireNotification{
		Title:           truncateRunes(title, maxTitleRunes),
		Content:         content,
		ClickActionType: 0, // open the app; the custom data rides along as intent extras
		OffLineTTL:      offLineTTL(n.TTL),
		ChannelID:       n.Channel,
		Category:        n.Category,
		NotifyLevel:     n.NotifyLevel,
		NotifyID:        notifyID(n.CollapseID),
	}
	if n.ReceiptRef != "" && callback != "" {
		w.CallBackURL, w.CallBackParam = callback, n.ReceiptRef
	}
	if utf8.RuneCountInString(w.Content) > maxContentRunes {
		w.Style = styleLongText
		w.Content = truncateRunes(w.Content, maxLongContentRunes)
	}
	if n.VoIP {
		if w.Category == "" {
			w.Category = categoryIM
		}
		if w.NotifyLevel == 0 {
			w.NotifyLevel = notifyLevelBanner
		}
	}
	params, err := actionParameters(n)
	if err != nil {
		return w, err
	}
	w.ActionParameters = params
	return w, nil
}

// actionParameters is the custom data as the JSON object string OPPO hands
// the app: every Data entry plus message_id = n.MessageID (which wins over a
// Data entry of that name). Keys are sorted, so the string is deterministic.
func actionParameters(n *vendors.Notification) (string, error) {
	if len(n.Data) == 0 && n.MessageID == "" {
		return "", nil
	}
	m := make(map[string]string, len(n.Data)+1)
	for k, v := range n.Data {
		m[k] = v
	}
	if n.MessageID != "" {
		m[dataMessageID] = n.MessageID
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("oppo: encode action_parameters: %w", err)
	}
	return string(b), nil
}

// encodeMessages is the "messages" form field of unicast_batch: one
// message per registration id, all with the same notification except
// app_message_id. It is deterministic for the golden files. It asks for
// no receipts.
func encodeMessages(n *vendors.Notification, regIDs []string) ([]byte, error) {
	return appendMessages(nil, n, regIDs, "", appendRaw)
}

// tokenField is the unicast_batch body's part before the messages:
// auth_token=tok&messages= as url.Values.Encode writes it.
func tokenField(tok string) []byte {
	dst := append([]byte("auth_token="), url.QueryEscape(tok)...)
	return append(dst, "&messages="...)
}

// encodeFormMessages is the "messages" value of the unicast_batch body,
// form-encoded as url.Values.Encode writes it. The JSON is written already
// escaped: the notification, the same in every message, is escaped once,
// and each message adds only its escaped registration id and
// app_message_id, so the form costs little more than the JSON.
// callback is the receipt URL ("" = no receipts).
func encodeFormMessages(n *vendors.Notification, regIDs []string, callback string) ([]byte, error) {
	return appendMessages(nil, n, regIDs, callback, wire.AppendQueryEscaped[[]byte])
}

// appendMessages appends the messages array to dst, every byte of it
// through esc (appendRaw for JSON, wire.AppendQueryEscaped for the form).
func appendMessages(dst []byte, n *vendors.Notification, regIDs []string, callback string, esc func(dst, b []byte) []byte) ([]byte, error) {
	rest, err := notificationTail(nil, n, callback, esc)
	if err != nil {
		return nil, err
	}
	return appendEach(dst, regIDs, func(int) (string, []byte) { return n.MessageID, rest }, esc), nil
}

// notificationTail appends n's fields after app_message_id, with both
// closing braces (the notification's and the message's), through esc.
func notificationTail(dst []byte, n *vendors.Notification, callback string, esc func(dst, b []byte) []byte) ([]byte, error) {
	w, err := buildNotification(n, callback)
	if err != nil {
		return nil, err
	}
	notif, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("oppo: encode notification: %w", err)
	}
	return esc(dst, append(notif[1:], '}')), nil
}

// appendEach appends the messages array for regIDs to dst: message i goes
// to regIDs[i] with the message id and notification tail (already through
// esc) that at(i) gives. A batch of one notification escapes its tail
// once; a batch of several messages (SendEach) once per message.
func appendEach(dst []byte, regIDs []string, at func(i int) (messageID string, tail []byte), esc func(dst, b []byte) []byte) []byte {
	// The constant parts, escaped once.
	open := esc(nil, []byte(`{"target_type":2,"target_value":`))
	mid := esc(nil, []byte(`,"notification":{`))
	idOpen := esc(nil, []byte(`"app_message_id":"`))
	idClose := esc(nil, []byte(`",`))
	comma, open0, close0 := esc(nil, []byte(",")), esc(nil, []byte("[")), esc(nil, []byte("]"))
	if dst == nil && len(regIDs) > 0 {
		_, rest := at(0)
		per := len(open) + len(mid) + len(idOpen) + 32 + len(idClose) + len(rest) + len(comma) + 3*len(regIDs[0]) + 6
		dst = make([]byte, 0, len(regIDs)*per+len(open0)+len(close0))
	}
	var scratch []byte // one target_value, as JSON
	var key []byte     // scratch for app_message_id
	var id [32]byte
	dst = append(dst, open0...)
	for i, reg := range regIDs {
		if i > 0 {
			dst = append(dst, comma...)
		}
		messageID, rest := at(i)
		dst = append(dst, open...)
		scratch = wire.AppendJSONString(scratch[:0], reg)
		dst = esc(dst, scratch)
		dst = append(dst, mid...)
		if messageID != "" {
			key = appMessageIDKey(key[:0], messageID, reg)
			dst = append(dst, idOpen...)
			dst = append(dst, appMessageIDFrom(&id, key)...) // hex: nothing to escape
			dst = append(dst, idClose...)
		}
		dst = append(dst, rest...)
	}
	return append(dst, close0...)
}

// appendRaw appends b unchanged.
func appendRaw(dst, b []byte) []byte { return append(dst, b...) }

// appMessageID is OPPO's dedup id for one (message, registration id): the
// first 128 bits of SHA-256(messageID NUL regID), hex. OPPO drops a unicast
// whose app_message_id it has already pushed, so a retried Send is not
// shown twice; it is per target because whether OPPO dedups per target or
// per app is not documented [U], and per app would drop all but one target.
func appMessageID(messageID, regID string) string {
	var id [32]byte
	return string(appMessageIDFrom(&id, appMessageIDKey(nil, messageID, regID)))
}

// appMessageIDKey appends the hashed input, messageID NUL regID, to dst.
func appMessageIDKey(dst []byte, messageID, regID string) []byte {
	dst = append(dst, messageID...)
	dst = append(dst, 0)
	return append(dst, regID...)
}

// appMessageIDFrom hashes key into id and returns it, without allocating.
func appMessageIDFrom(id *[32]byte, key []byte) []byte {
	sum := sha256.Sum256(key)
	hex.Encode(id[:], sum[:16])
	return id[:]
}

// notifyID maps a collapse id to OPPO's integer notify_id (same id replaces
// the shown notification): FNV-1a 32 folded to a positive int; 0 = none.
func notifyID(collapseID string) int {
	if collapseID == "" {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(collapseID))
	id := int(h.Sum32() & 0x7fffffff)
	if id == 0 {
		id = 1
	}
	return id
}

// offLineTTL is d in whole seconds (rounded up) within OPPO's range; 0 keeps
// OPPO's default.
func offLineTTL(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	s := int((d + time.Second - 1) / time.Second)
	return min(max(s, minOffLineTTL), maxOffLineTTL)
}

// truncateRunes cuts s to at most n runes.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}
