package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"github.com/herald-push/herald/store"
)

// Message types follow doc.go's rule: mailbox messages are pointers
// (*envelope, *sweepTick, …), what they carry and replies are values.

// envelope carries one request for one user through its shard.
type envelope struct {
	userID string
	msg    any
}

// Requests handled by a user actor: values, carried in an *envelope. Each
// is answered with the reply type named in its comment (a value), or with
// an error.
type (
	bindDevice struct { // → bindReply
		deviceID string
		device   store.Device
	}
	deleteDevice  struct{ deviceID string }          // → boolReply
	logout        struct{ deviceID string }          // → boolReply ("" = all devices)
	setBadge      struct{ count int64 }              // → boolReply
	getUser       struct{}                           // → UserView
	applyPresence struct{ updates []PresenceUpdate } // → presenceReply
	getDevices    struct{}                           // → devicesReply
	// rememberEnv records which APNs environment accepted an automatic
	// token, if the device still holds that token.
	rememberEnv struct { // → boolReply
		deviceID, token, env string
	}
	// unbindToken removes a device whose token a vendor declared invalid,
	// if the device still holds it.
	unbindToken struct { // → boolReply
		deviceID, vendor, token string
	}
	// reloadDevice tells a user actor that the store changed one of its
	// devices behind its back (a PushID moved to another user).
	reloadDevice struct{ deviceID string } // → boolReply
)

type bindReply struct {
	res store.BindResult
	err error
}

type devicesReply struct {
	devices []DeviceRecord
	err     error
}

// DeviceRecord is one bound device with its stored binding.
type DeviceRecord struct {
	DeviceID string
	Device   store.Device
}

type boolReply struct {
	ok  bool
	err error
}

type presenceReply struct {
	wasOnline, online bool
	view              UserView
	err               error
}

// Shard-internal messages.
type (
	sweepTick     struct{ done chan struct{} } // check idleness; close done after
	passivate     struct{ pid *actor.PID }     // a user actor asks to be stopped
	writeDone     struct{ userID string }      // a write-through finished
	userStopped   struct{ pid *actor.PID }     // a user actor stopped (its name is free again)
	drainReq      struct{}                     // stop every user actor; → true once none is left
	shardStatsReq struct{}                     // → shardStats
	shardStats    struct{ entries, live, busy, stopping, queued int }
)

// writesThrough reports whether msg, for a user without a live actor, is
// written to the store directly instead of activating an actor: it changes
// the user's stored state and answers from what it wrote, so no cache is
// needed to serve it.
func writesThrough(msg any) bool {
	switch msg.(type) {
	case bindDevice, deleteDevice, logout, setBadge, rememberEnv, unbindToken:
		return true
	}
	return false
}

// usesActor reports whether msg counts as use of a live actor's state,
// keeping it from passivating: the senders' hints and reloads do not.
func usesActor(msg any) bool {
	switch msg.(type) {
	case rememberEnv, unbindToken, reloadDevice:
		return false
	}
	return true
}

// PresenceUpdate is one device session's presence report.
type PresenceUpdate struct {
	UserID   string
	DeviceID string
	Online   bool
	TTLMs    int64 // lease length in milliseconds (online only)
}

// UserView is a user's state as the API shows it.
type UserView struct {
	UserID       string
	Online       bool
	Devices      []DeviceView
	Badge        int64
	InboxPending int64
	RingingCalls []string
}

// DeviceView is one device in a UserView. Devices with a presence lease but
// no push binding appear with an empty PushID.
type DeviceView struct {
	DeviceID string
	PushID   string
	Vendor   string
	Online   bool
}
