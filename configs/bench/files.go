// Package bench holds the scenario files of `herald bench` (fanout.yaml,
// peer.yaml, calls.yaml, mixed.yaml, memory.yaml, outage.yaml,
// overload.yaml, crash.yaml, soak.yaml), embedded so that the command
// finds them wherever the binary runs. Every key is documented in fanout.yaml; flags of the same
// name (with - for _) override them.
package bench

import "embed"

// Files are the scenario files, by name (NAME.yaml).
//
//go:embed *.yaml
var Files embed.FS
