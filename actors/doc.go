// Package actors holds herald's protoactor-go actors.
//
// # Users
//
// Users are virtual actors. Users (users.go) is the only entry point: it
// hashes a user_id to one of a fixed number of shard actors and asks that
// shard with RequestFuture. Who owns what:
//
//   - shard (shard.go) decides who writes each of its users, one writer
//     per user at a time. A user nobody is using costs nothing: no actor,
//     no entry. A message that only writes (bind, delete, logout, badge,
//     the senders' APNs env hints and invalid-token unbinds) for a user
//     without an actor is a write-through: the shard runs that one store
//     write on a goroutine and holds the user's next messages until it
//     reports back, so batch registration and fan-out start no actor. A
//     message that reads cached state (get, devices, presence) starts the
//     user's actor, and while it lives every message for the user goes to
//     it. The shard passivates an actor after users.idle_timeout without
//     such use; messages that arrive while it stops are held and replayed
//     (to a fresh actor or as write-throughs) when it reports its stop, so
//     nothing is dead-lettered. Idleness is measured on the injected Clock;
//     a ticker on that Clock (clock.Every; or Users.Sweep) asks the shards
//     to check it, not protoactor's ReceiveTimeout. User
//     actors are spawned from the root context, not as the shard's
//     children (protoactor's child set kept passivated actors reachable).
//
//   - user (user.go) owns one user's cached state — devices, presence leases,
//     badge — loaded from the store on its first message. Every change is
//     written to the store (synced) before the actor updates its cache and
//     answers, so the cache never runs ahead of what a restart would see.
//
//   - Planning (who of a message's recipients is offline, and their
//     devices) reads the store directly (store.Recipients), on the
//     caller's goroutine: the store is the truth (user actors and
//     write-throughs write before they answer), so planning wakes no user
//     actor and never sits in a shard's Receive ahead of binds and
//     presence, and a sorted group chunk is read in one pass that steps
//     from member to member.
//
// # Dispatch (dispatch.go)
//
// The Dispatcher accepts messages on the caller's goroutine (peer and users
// messages are planned and committed in the request) and runs group
// fan-outs as goroutines, at most messages.max_jobs at once: read members,
// plan them from the store, commit one chunk per synced batch. A fan-out is
// a pipeline: a planner plans up to four chunks ahead, the runner applies
// each chunk's batch in member order without waiting for its fsync
// (store.ApplyChunk), and a syncer waits for the fsyncs in order and hands
// each chunk's rows to the senders once it is durable; Pebble syncs the
// chunks waiting together with one fsync. Runners are not actors because
// every step is Pebble I/O.
//
// # Senders (sender.go, senders.go)
//
// One sender actor per vendor owns that vendor's in-memory queue (a mirror
// of its outbox rows), batching, token bucket, in-flight count, daily quota
// and the pause after refused credentials or a redirect. Rows flagged
// Priority (calls) skip batching and go first; batches of complete
// messages (peer, users) go next, ahead of fan-out batches but at most
// three starts in a row while those wait (sender.lane); the Dispatcher
// refuses new complete messages while their vendor's share is full
// (Senders.Backlogged: backpressure). A per-vendor circuit breaker
// (breaker.go) stops sending while every batch fails for transient
// reasons and probes the vendor with one batch before resuming; a
// transient failure is retried until the message's ttl ends, so an outage
// loses nothing. A batch is rows of one message: the notification is composed once
// for it. For a batch vendor (Huawei, Xiaomi, OPPO, vivo) a batch is one
// request; for a per-target vendor (APNs, FCM, Web: vendors.PerTarget)
// every row is its own request, so a batch pays the token bucket and
// max_in_flight per row, is cut to what they allow, and carries each row's
// badge on its target. Vendor requests and the outbox writes after them run
// on the sender's pool of long-lived batch workers (and the clients' pools
// of stream workers), which report back with sendDone, so Receive never
// blocks on the network or on an fsync and no goroutine regrows its stack
// per request. A sender wakes for its next deadline (batch_wait, a retry,
// the end of a pause or of the breaker's open period, the next bucket
// token, the next UTC day while the daily quota holds) on one timer it
// arms itself on the injected Clock; nothing polls. The timer's callback
// waits until the sender has stepped, so a manual clock's Advance serves
// every deadline in its span at its own time, in order.
//
// # Time
//
// Every timer and ticker of the actors runs on the injected Clock
// (internal/clock; testutil.Clock in tests): the senders' wake-ups, retry
// and read-back backoff, quota, pause and breaker timing, call timeouts,
// the idle sweep, a fan-out's retry after a failed chunk. What stays on
// the wall clock is what bounds or measures real work: request deadlines
// (context timeouts of vendor requests and of asks to actors, which
// protoactor's futures and the HTTP clients wait out), latency for the
// metrics, and a fan-out's pace (Dispatcher.pace: CPU time given back to
// the Go scheduler).
//
// # Calls (calls.go)
//
// One call actor per live call owns its state and persists every change
// (with the cancel notices it causes) in one synced batch; Calls keeps the
// deadlines and times calls out with one timer on the Clock, armed for the
// earliest. Invitees are planned on the
// caller's goroutine before the actor commits the invitation.
//
// Who may send what: only Users sends to shards, only a shard sends to its
// user actors, only Senders and the senders' own goroutines send to sender
// actors, only Calls sends to call actors; replies go straight to the
// requester's future. No actor waits on another: when a bind moves a PushID
// away from another user, Users (running on the caller's goroutine, not in
// an actor) asks the other user's actor to reload that device before
// answering. The only blocking I/O inside a Receive is local Pebble work:
// a user actor's or call actor's synced write (a shard hands write-throughs
// to a goroutine).
//
// # Messages
//
// One rule for every message type: what is delivered to an actor's
// mailbox (what its Receive switches on) is a pointer to a struct, like
// protoactor's own *actor.Started; what a message carries and every reply
// are values. So a user request (bindDevice, getUser, …: messages.go) is a
// value inside an *envelope, and the user actor answers with a value
// (bindReply, boolReply, UserView, …); a call actor gets *callCreate and
// answers a callReply; a sender gets *enqueue, *sendDone, *senderSync. A
// requester may also get an error value instead of its reply type.
//
// Every Receive ends in a default case (unhandled, protocol.go): a
// message it does not handle — another actor's, or a value where the rule
// says pointer — is logged and, if it was a request, answered at once with
// an error wrapping ErrUnknownMessage, so the caller fails instead of
// waiting out its timeout; protoactor's lifecycle and system messages are
// ignored there as before. Requesters check every reply's type (replyAs):
// a wrong one is ErrBadReply, never a panic. A request's timeout comes
// from one place (askTimeout): the configured limit, cut to the caller's
// context deadline; a deadline already past is ErrBusy at once, without
// asking.
//
// Presence leases are timestamps (unix ms) compared with the Clock whenever
// presence is read, so a lease lapses exactly at its expiry whether or not
// its user actor is alive; expired leases are pruned when a user loads.
package actors
