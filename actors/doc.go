// Package actors holds herald's protoactor-go actors.
//
// # Users
//
// Users are virtual actors. Users (users.go) is the only entry point: it
// hashes a user_id to one of a fixed number of shard actors and asks that
// shard with RequestFuture. Who owns what:
//
//   - shard (shard.go) owns its user actors: it spawns one on the first
//     message for a user, forwards messages to it (keeping the requester as
//     sender), and passivates it after users.idle_timeout without messages.
//     While a user actor is stopping, the shard buffers that user's messages
//     and, when the Terminated arrives, spawns a fresh actor and replays them
//     in order, so nothing is dead-lettered. Idleness is measured on the
//     injected Clock; a ticker (or Users.Sweep in tests) asks the shards to
//     check it.
//   - user (user.go) owns one user's cached state — devices, presence leases,
//     badge — loaded from the store when it starts. Every change is written
//     to the store (synced) before the actor updates its cache and answers,
//     so the cache never runs ahead of what a restart would see.
//
// Who may send what: only Users sends to shards, only a shard sends to its
// user actors, and replies go straight from a user actor to the requester's
// future. No actor waits on another: when a bind moves a PushID away from
// another user, Users (running on the caller's goroutine, not in an actor)
// asks the other user's actor to reload that device before answering.
//
// Presence leases are timestamps (unix ms) compared with the Clock whenever
// presence is read, so a lease lapses exactly at its expiry whether or not
// its user actor is alive; expired leases are pruned when a user loads.
package actors
