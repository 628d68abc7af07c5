package vendors

// MaxReceiptRef is the longest Notification.ReceiptRef: it fits the
// shortest echo field among the vendors (OPPO's call_back_parameter, 50
// characters).
const MaxReceiptRef = 50

// Receipt is one device's entry in a vendor's arrival receipt (the
// callback a vendor posts to herald's receipt endpoint once a
// notification reached, or could not reach, a device).
type Receipt struct {
	Ref   string // the Notification.ReceiptRef the vendor echoes ("" when the push carried none)
	Token string // the device's token as the vendor names it
	// Delivered is true when the notification reached the device; other
	// events (clicked, token invalid, app uninstalled, …) are false.
	Delivered bool
	// Status is the vendor's own status or event for the entry (Huawei
	// "0", Xiaomi "1", OPPO "push_arrive", …), for counts and logs.
	Status string
}
