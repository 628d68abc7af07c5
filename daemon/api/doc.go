// Package api is herald's HTTP API over fasthttp: the routes, API-key
// authentication, strict JSON decoding and validation, error answers, and
// the handlers, which call into the actors, the store and the push
// composer given in Deps. Its exported request and response types are the
// wire contract described in daemon/API.md.
package api
