// Package daemon wires herald together and runs it: from a configuration
// it opens the store, starts the actor system (user shards, dispatcher,
// senders, calls), builds the vendor clients (or the built-in simulators)
// and the HTTP API (package api), and owns the lifecycle: start, config
// reload (SIGHUP, POST /v1/admin/reload), housekeeping, the /metrics
// registry, API TLS, and the graceful stop on SIGTERM/SIGINT (stop
// accepting, finish in-flight requests, stop actors, close Pebble). The
// command line is package cli.
package daemon
