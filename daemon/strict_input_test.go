package daemon

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-push/herald/daemon/api"
)

// Ids that name no thing in a path, undecodable escapes, bodies that are
// not valid UTF-8 or hold a lone surrogate escape (encoding/json would turn
// each into U+FFFD, collapsing distinct ids) are refused with a 400 naming
// the problem; headers beyond the read buffer get 431.
func TestStrictInputIsRefusedByName(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	dev := `{"vendor":"fcm","token":"tok-1"}`
	for _, tc := range []struct {
		name, path, body, field, text string
	}{
		{"dot id", "/v1/users/./devices/d", dev, "user_id", `"."`},
		{"dot-dot id", "/v1/users/%2E%2E/devices/d", dev, "user_id", `".."`},
		{"bad escape", "/v1/users/%zz/devices/d", dev, "user_id", "percent-encoding"},
		{"bad escape device", "/v1/users/u1/devices/a%g1", dev, "device_id", "percent-encoding"},
		{"invalid utf-8", "/v1/users/u1/devices/d", "{\"vendor\":\"fcm\",\"token\":\"tok-\xff\"}", "", "UTF-8"},
		{"lone high surrogate", "/v1/users/u1/devices/d", `{"vendor":"fcm","token":"tok-\ud800"}`, "token", "surrogate"},
		{"lone low surrogate", "/v1/users/u1/devices/d", `{"vendor":"fcm","locale":"\udc00x","token":"t"}`, "locale", "surrogate"},
	} {
		r := rawPut(t, s, tc.path, tc.body)
		var e errBody
		r.json(t, &e)
		if r.status != 400 || e.Error.Field != tc.field || !strings.Contains(e.Error.Message, tc.text) {
			t.Errorf("%s: %d %s; want 400 with field %q mentioning %s", tc.name, r.status, r.body, tc.field, tc.text)
		}
	}
	// A surrogate pair is one valid character, and an escaped backslash
	// before a u is no escape at all.
	for i, text := range []string{`\ud83d\ude00`, `a\\ud800`} {
		wantStatus(t, s.do(t, "POST", "/v1/messages", fmt.Sprintf(`{"message_id":"m%d","from":"a","to":{"type":"peer","id":"b"},"body":{"text":"%s"}}`, i, text)), 202)
	}

	conn, br := rawConn(t, s)
	var b strings.Builder
	b.WriteString("GET /healthz HTTP/1.1\r\nHost: x\r\n")
	for i := range 10000 {
		fmt.Fprintf(&b, "X-H%d: v\r\n", i)
	}
	b.WriteString("\r\n")
	go func() { _, _ = conn.Write([]byte(b.String())) }() // the server may answer before reading it all
	if r := readResp(t, br); r.status != 431 {
		t.Fatalf("10 000 headers: %d; want 431", r.status)
	}
}

// rawPut sends a PUT with path exactly as given (net/http refuses to build
// a URL with a bad escape) and reads the answer.
func rawPut(t *testing.T, s *testServer, path, body string) resp {
	t.Helper()
	conn, br := rawConn(t, s)
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", path, len(body), body)
	return readResp(t, br)
}

// rawConn opens a connection to s for a test that writes the request bytes
// itself; br reads the answers. It is closed when the test ends.
func rawConn(t *testing.T, s *testServer) (conn net.Conn, br *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	return conn, bufio.NewReader(conn)
}

// readResp reads one answer from br, leaving what follows it.
func readResp(t *testing.T, br *bufio.Reader) resp {
	t.Helper()
	r, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{status: r.StatusCode, header: r.Header, body: b}
}

// A request naming both Content-Length and Transfer-Encoding, in either
// order and with any value, is refused before routing and its connection
// closed: a proxy in front may have framed the body by the other header, so
// the bytes after it (here a smuggled GET) must never be read as a request.
// fasthttp would read the first four as chunked or by their length and
// serve them; a body that is not chunked, codings it does not know and any
// on HTTP/1.0 it refuses itself as malformed.
func TestLengthWithTransferEncodingIsRefused(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	dev := `{"vendor":"fcm","token":"tok-1"}`
	smuggled := "GET /v1/users/u1 HTTP/1.1\r\nHost: x\r\n\r\n"
	chunked := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(dev), dev) + smuggled
	length := fmt.Sprintf("Content-Length: %d\r\n", len(dev))
	const together, malformed = "Content-Length and Transfer-Encoding together", "malformed HTTP request"
	for _, tc := range []struct{ name, proto, headers, body, text string }{
		{"length then chunked", "HTTP/1.1", length + "Transfer-Encoding: chunked\r\n", chunked, together},
		{"chunked then length", "HTTP/1.1", "Transfer-Encoding: chunked\r\n" + length, chunked, together},
		{"lower-case names", "HTTP/1.1", "transfer-encoding: Chunked\r\ncontent-length: 0\r\n", chunked, together},
		{"identity", "HTTP/1.1", length + "Transfer-Encoding: identity\r\n", dev + smuggled, together},
		{"length-framed body", "HTTP/1.1", length + "Transfer-Encoding: chunked\r\n", dev + smuggled, malformed},
		{"unknown coding", "HTTP/1.1", length + "Transfer-Encoding: gzip, chunked\r\n", chunked, malformed},
		{"HTTP/1.0", "HTTP/1.0", length + "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n", chunked, malformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, br := rawConn(t, s)
			fmt.Fprintf(conn, "PUT /v1/users/u1/devices/d1 %s\r\nHost: x\r\nContent-Type: application/json\r\n%s\r\n%s", tc.proto, tc.headers, tc.body)
			r := readResp(t, br)
			var e errBody
			r.json(t, &e)
			if r.status != 400 || e.Error.Code != "invalid_argument" || !strings.Contains(e.Error.Message, tc.text) {
				t.Fatalf("%d %s; want 400 %s saying %q", r.status, r.body, "invalid_argument", tc.text)
			}
			if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
				t.Fatalf("after the refusal read %q, %v; want the connection closed with nothing more", rest, err)
			}
		})
	}
	if r := s.do(t, "GET", "/v1/users/u1", ""); strings.Contains(string(r.body), "d1") {
		t.Fatalf("a refused request bound its device: %s", r.body)
	}
}

// A chunked body without Content-Length is read as any other, and the
// connection stays open for the next request.
func TestChunkedBodyIsAccepted(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	conn, br := rawConn(t, s)
	first, second := `{"vendor":"fcm",`, `"token":"tok-1"}`
	fmt.Fprintf(conn, "PUT /v1/users/u1/devices/d1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n",
		len(first), first, len(second), second)
	wantStatus(t, readResp(t, br), 200)
	fmt.Fprint(conn, "GET /v1/users/u1 HTTP/1.1\r\nHost: x\r\n\r\n")
	r := readResp(t, br)
	wantStatus(t, r, 200)
	var u api.UserResponse
	r.json(t, &u)
	if len(u.Devices) != 1 || u.Devices[0].DeviceID != "d1" {
		t.Fatalf("after a chunked PUT: %s; want device d1", r.body)
	}
}

// A key named twice in one object is refused by its path (encoding/json
// would keep the last silently); the same key in two objects is fine.
func TestDuplicateJSONKeysAreRefusedByPath(t *testing.T) {
	s := startDaemon(t, nil, Env{})
	for _, tc := range []struct{ path, body, field string }{
		{"/v1/users/u1/devices/d", `{"vendor":"fcm","token":"a","token":"b"}`, "token"},
		{"/v1/users/u1/devices/d", `{"vendor":"fcm","token":"a","vendor":"apns"}`, "vendor"},
	} {
		r := s.do(t, "PUT", tc.path, tc.body)
		var e errBody
		r.json(t, &e)
		if r.status != 400 || e.Error.Field != tc.field || !strings.Contains(e.Error.Message, "duplicate key") {
			t.Errorf("%s: %d %s; want 400 naming %s", tc.body, r.status, r.body, tc.field)
		}
	}
	r := s.do(t, "POST", "/v1/presence", `{"updates":[{"user_id":"u1","device_id":"d","online":true},{"user_id":"u2","device_id":"d","online":true,"online":false}]}`)
	var e errBody
	r.json(t, &e)
	if r.status != 400 || e.Error.Field != "updates[1].online" {
		t.Fatalf("nested duplicate: %d %s; want 400 naming updates[1].online", r.status, r.body)
	}
	r = s.do(t, "POST", "/v1/messages", `{"message_id":"m","from":"a","to":{"type":"peer","id":"b"},"body":{"x":{"k":1},"y":{"k":2},"z":[{"k":1},{"k":2}]}}`)
	wantStatus(t, r, 202)
	r = s.do(t, "POST", "/v1/messages", `{"message_id":"m2","from":"a","to":{"type":"peer","id":"b"},"body":{"x":{"k":1,"k":2}}}`)
	r.json(t, &e)
	if r.status != 400 || e.Error.Field != "body.x.k" {
		t.Fatalf("duplicate inside body: %d %s; want 400 naming body.x.k", r.status, r.body)
	}
}
