package xiaomi

import (
	"slices"
	"strconv"
	"strings"

	"github.com/herald-push/herald/vendors/internal/wire"
)

// maxExtras bounds the extras of one message: channel_id,
// notify_foreground and sound_uri, plus the custom ones.
const maxExtras = 3 + maxCustomExtras

// fieldWriter appends a message's fields in one of two syntaxes: the form
// pairs of /v3/message/regid (key=value joined by '&', extras flattened as
// extra.<key>=value) or, with json set, the members of one JSON message
// object of /v2/multi_messages/regids (extras gathered and written last, by
// closeJSON, as a nested "extra" object in sorted key order).
type fieldWriter struct {
	buf    []byte
	json   bool
	fields int
	extras [maxExtras][2]string // json: key, value, until closeJSON
	nextra int
}

// key starts a field: its separator, its name and '=' or ':'.
func (w *fieldWriter) key(k string) {
	if w.fields > 0 {
		if w.json {
			w.buf = append(w.buf, ',')
		} else {
			w.buf = append(w.buf, '&')
		}
	}
	w.fields++
	if w.json {
		w.buf = wire.AppendJSONString(w.buf, k)
		w.buf = append(w.buf, ':')
		return
	}
	w.buf = wire.AppendQueryEscaped(w.buf, k)
	w.buf = append(w.buf, '=')
}

// field writes a string field.
func (w *fieldWriter) field(k, v string) {
	w.key(k)
	appendValue(w, v)
}

// fieldBytes writes a string field whose value is in a byte slice.
func (w *fieldWriter) fieldBytes(k string, v []byte) {
	w.key(k)
	appendValue(w, v)
}

// appendValue writes a string value in w's syntax: a JSON string or a
// query-escaped form value.
func appendValue[S ~string | ~[]byte](w *fieldWriter, v S) {
	if w.json {
		w.buf = wire.AppendJSONString(w.buf, v)
		return
	}
	w.buf = wire.AppendQueryEscaped(w.buf, v)
}

// number writes an integer field: decimal text in the form, a JSON number
// in a message object.
func (w *fieldWriter) number(k string, v int64) {
	w.key(k)
	w.buf = strconv.AppendInt(w.buf, v, 10)
}

// extra writes extra.<k>=v to the form at once; a message object gets it
// in its "extra" object at closeJSON.
func (w *fieldWriter) extra(k, v string) {
	if w.json {
		w.extras[w.nextra] = [2]string{k, v}
		w.nextra++
		return
	}
	w.key("extra.")
	w.buf = wire.AppendQueryEscaped(w.buf[:len(w.buf)-1], k) // over the '=' key wrote
	w.buf = append(w.buf, '=')
	appendValue(w, v)
}

// closeJSON writes the "extra" object (when there are extras) and closes
// the message object.
func (w *fieldWriter) closeJSON() {
	if w.nextra > 0 {
		extras := w.extras[:w.nextra]
		slices.SortFunc(extras, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
		w.key("extra")
		w.buf = append(w.buf, '{')
		for i, kv := range extras {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.buf = wire.AppendJSONString(w.buf, kv[0])
			w.buf = append(w.buf, ':')
			w.buf = wire.AppendJSONString(w.buf, kv[1])
		}
		w.buf = append(w.buf, '}')
	}
	w.buf = append(w.buf, '}')
}
