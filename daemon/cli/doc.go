// Package cli is the herald command line: the subcommands serve, sim, push,
// check-config, bench and version, their flags, logging and profiling.
// Main is what main.go calls.
package cli
