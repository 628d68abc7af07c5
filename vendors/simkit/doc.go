// Package simkit is what every vendor simulator shares: the receipt
// Recorder behind GET /sim/stats, the token-prefix failure script, a per
// vendor QPS and daily-quota Gate, and the certificate authority for the
// TLS the real clients insist on (throwaway, or loaded from its PEM files
// with LoadCA so that it outlives a simulator restart). Each vendor's
// simulator (in that vendor's package) speaks the vendor's own wire
// protocol on top of it.
package simkit
