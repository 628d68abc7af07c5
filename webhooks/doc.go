// Package webhooks tells the chat backend what became of its messages,
// pushes, tokens and calls: signed HTTP deliveries of the events the store
// writes (store.EventTypes) to the endpoints in the config.
//
// The store writes each event in the same Pebble batch as the change it
// reports, once per endpoint that takes its type, so an event exists
// exactly when its change does and a kill -9 loses neither. A Dispatcher
// runs one loop per endpoint: it POSTs the oldest events (up to a batch)
// as {"events":[{"id","type","timestamp","data"}]}, removes them on a 2xx,
// and otherwise tries the oldest events again after an exponential
// backoff with jitter; an event that has failed MaxAttempts deliveries
// is dead-lettered
// (store.WebhookDead, store.WebhookReplay). Delivery is at least once: an
// event's id never changes, so the receiver deduplicates on it.
//
// Deliveries follow Standard Webhooks (standardwebhooks.com): headers
// webhook-id (derived from the batch's event ids), webhook-timestamp (unix
// seconds) and webhook-signature ("v1,<base64 HMAC-SHA256>" over
// "<id>.<timestamp>.<body>", one per secret, space separated: with the old
// and the new secret configured during a rotation, a receiver that knows
// either verifies). Verify is the receiver's side; Receiver is a whole
// receiver for tests and the simulators.
package webhooks
