// Package push owns what a device is sent: composing a vendor's
// notification from a stored message, a call invitation or a call cancel
// and the push resources in force (Composer, the senders' actors.Composer),
// choosing where a bound device's push goes: its token, APNs environment
// and VoIP or call form (Route, for messages and calls; DeviceTarget, the
// test push's view of it), the accept-time check that every configured
// vendor can take a push as composed (CheckMessage, CheckCall: the same
// composition, through each client's vendors.Checker), and the direct send
// of a test push (SendDirect). It reads from the store and calls vendor
// clients; it holds no state of its own beyond a message cache.
package push
