package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// ErrUnknownMessage is the answer of an actor sent a message it does not
// handle (a message of another actor, or a value where the protocol says
// pointer: see doc.go). It is a bug in the sender, answered at once so the
// caller fails instead of waiting out its timeout.
var ErrUnknownMessage = errors.New("actors: unknown message")

// ErrBadReply means an actor answered a request with a reply of a type the
// requester does not expect (a bug, reported instead of panicking).
var ErrBadReply = errors.New("actors: unexpected reply")

// lifecycle reports whether msg is one of protoactor's own messages:
// lifecycle and system messages (Started, Stopping, Stopped, Restarting,
// Terminated, …), ReceiveTimeout, and messages protoactor answers itself
// (Touch). An actor handles those it cares about and ignores the rest;
// they are never wrong messages.
func lifecycle(msg any) bool {
	switch msg.(type) {
	case actor.SystemMessage, actor.AutoReceiveMessage, actor.AutoRespond, *actor.ReceiveTimeout:
		return true
	}
	return false
}

// unhandled is every Receive's default case: a lifecycle message is
// ignored; anything else is logged and, when it is a request, answered
// with an error wrapping ErrUnknownMessage.
func unhandled(ctx actor.Context, log *slog.Logger) {
	msg := ctx.Message()
	if lifecycle(msg) {
		return
	}
	self := ctx.Self().Id
	log.Error("actor got a message it does not handle", "actor", self, "message", fmt.Sprintf("%T", msg), "request", ctx.Sender() != nil)
	if ctx.Sender() != nil {
		ctx.Respond(fmt.Errorf("%w: %s got %T", ErrUnknownMessage, self, msg))
	}
}

// replyAs returns an actor's reply r as T. An error reply is returned as
// the error; a reply of any other type is ErrBadReply.
func replyAs[T any](r any) (T, error) {
	var zero T
	switch v := r.(type) {
	case T:
		return v, nil
	case error:
		return zero, v
	}
	return zero, fmt.Errorf("%w: %T, want %T", ErrBadReply, r, zero)
}

// askTimeout is how long a request may wait for its answer: limit, or what
// is left until ctx's deadline when that is sooner. A deadline already
// past is ErrBusy (wrapping context.DeadlineExceeded) at once: nobody would
// wait for the answer, and protoactor's futures never time out when given
// a negative timeout. Deadlines are wall-clock time (context's), not the
// injected Clock.
func askTimeout(ctx context.Context, limit time.Duration) (time.Duration, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		return limit, nil
	}
	left := time.Until(dl)
	if left <= 0 {
		return 0, fmt.Errorf("%w: %w", ErrBusy, context.DeadlineExceeded)
	}
	return min(limit, left), nil
}
