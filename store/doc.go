// Package store is herald's durable state on Pebble. Nothing above this
// package sees a Pebble key: callers use typed accessors, and every write that
// backs a 2xx answer is committed with pebble.Sync (Pebble group-commits
// concurrent syncs, so callers must not serialize them).
//
// # Key schema
//
// Keys are a short table tag followed by key parts. IDs are printable and never
// contain a NUL byte (the ingress validates them), so NUL separates parts and a
// scan over "<tag><part>\x00" sees exactly one owner's rows.
//
//	d/<user_id>\x00<device_id>   → Device     (a user's device binding)
//	p/<vendor>\x00<token>        → Binding    (PushID index: which user/device holds a token)
//	l/<user_id>\x00<device_id>   → Lease      (presence lease of one device session)
//	u/<user_id>                  → UserMeta   (badge, inbox sequence numbers)
//	g/<group_id>\x00<user_id>    → (empty)    (group membership)
//	gm/<group_id>                → GroupMeta  (member count)
//	m/<message_id>               → Message    (accepted message: content, answer; the idempotency key)
//	j/<message_id>               → Job        (unfinished group fan-out and its checkpoint)
//	o/<vendor>\x00<message_id>\x00<user_id>\x00<device_id> → OutboxEntry (a notification awaiting a final verdict)
//	x/<vendor>\x00<message_id>\x00<user_id>\x00<device_id> → OutboxEntry (dead letter)
//	v/<message_id>\x00<vendor>\x00<user_id>\x00<device_id> → verdict (a message row's final outcome: sent, invalid, expired; MessageStatus)
//	v/<message_id>\x00<vendor>\x00\x01<epoch>.<seq> → tally (sent and expired rows of one OutboxDone)
//	v/<message_id>\x00<vendor>\x00\x02<token hash> → (empty) (arrival mark: the vendor's receipt said the device got it)
//	R/<receipt ref>              → message_id (maps a receipt's reference back; Options.Receipts)
//	k/receipt                    → this install's receipt key (keys the receipt references)
//	i/<user_id>\x00<seq:8 bytes big-endian> → InboxEntry (offline inbox, in arrival order)
//	c/<call_id>                  → Call       (call invitation and per-invitee state)
//	r/<user_id>\x00<call_id>     → Lease      (ringing index: the call's deadline)
//	W/<endpoint>\x00<event key>  → HookEvent  (a webhook event awaiting delivery to endpoint; webhooks.go)
//	X/<endpoint>\x00<event key>  → HookEvent  (a webhook event dead-lettered for endpoint)
//	w/c/<message_id>             → unix ms    (the message awaits its message.completed event)
//	w/r/<message_id>             → unix ms    (arrivals not yet told in a receipt.delivered event)
//
// An outbox key's id part is the message_id for a message's rows; call
// rows are stored as "call/<call_id>" (invitation) and
// "callx/<reason>/<call_id>" (cancel notice). API ids never contain '/', so
// they cannot collide with a message_id. Only the store sees that form:
// above it a row is an OutboxKey with a RowID (Kind, ID, Reason).
//
// # Value encoding
//
// Every value starts with a one-byte format version (currently 1) followed by
// its fields in a fixed order: strings as uvarint length + bytes, integers as
// signed varints. Decoders reject unknown versions, truncated input and
// trailing bytes, so a corrupted record is an error, never a panic. The golden
// files in testdata/ pin the exact bytes.
//
// # Invariants
//
//   - A PushID (vendor + token) is held by at most one (user, device): the
//     p/ row and the d/ row that names it are written in one batch.
//   - A device record changes only while the store holds the stripe lock of
//     every PushID involved (its old token and its new one), so two users
//     racing for one token cannot both win.
//   - A user's meta (badge, inbox sequence) changes only under that user's
//     stripe lock, so a fan-out chunk and a badge report never lose an
//     update; a chunk's outbox rows, inbox entries, badges and checkpoint
//     are one synced batch.
package store
