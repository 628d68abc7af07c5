package simkit

import "strings"

// Token prefixes that script a simulator's answer for that token.
const (
	PrefixUnregistered = "unregistered-" // the vendor's invalid/unregistered-token answer
	PrefixUnavailable  = "unavailable-"  // the vendor's transient (5xx / flow control) answer
)

// Outcome is the scripted fate of one token.
type Outcome int

// Outcomes.
const (
	OK Outcome = iota
	Unregistered
	Unavailable
)

// Script returns the scripted outcome for token.
func Script(token string) Outcome {
	switch {
	case strings.HasPrefix(token, PrefixUnregistered):
		return Unregistered
	case strings.HasPrefix(token, PrefixUnavailable):
		return Unavailable
	}
	return OK
}
