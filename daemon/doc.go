// Package daemon wires herald together: configuration, the store, the actor
// system, the fasthttp ingress (routes, auth, JSON decoding, error mapping),
// /metrics, /healthz and /readyz, and the lifecycle (start, graceful stop on
// SIGTERM/SIGINT: stop accepting, finish in-flight requests, stop actors,
// close Pebble). Main implements the herald command line.
package daemon
