// Package client is the Go client of herald's HTTP API, for chat backends
// and tools: one typed call per route, the API's request and answer bodies
// as Go types (the daemon serves exactly these), context deadlines,
// retries with backoff on 429 and 503 honouring Retry-After, idempotent
// message sends by message_id, and error answers as *Error.
//
//	c, err := client.New("http://127.0.0.1:8080", client.Options{Key: os.Getenv("HERALD_KEY")})
//	...
//	_, err = c.PutDevice(ctx, "u1", "phone", client.PutDeviceRequest{Vendor: "fcm", Token: tok})
//	ans, err := c.SendMessage(ctx, client.MessageRequest{From: "u2",
//		To: &client.MessageTo{Type: "peer", ID: "u1"}, Push: &client.MessagePush{Title: "u2", Content: "hi"}})
//	if client.ErrorCode(err) == client.CodeInvalidArgument { ... }
//
// The contract is daemon/API.md and GET /openapi.json.
package client
