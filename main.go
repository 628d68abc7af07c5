// Command herald is a self-hosted offline-push dispatcher daemon for chat
// backends. See README.md.
package main

import (
	"os"

	"github.com/herald-push/herald/daemon"
)

func main() {
	os.Exit(daemon.Main(os.Args[1:], os.Stdout, os.Stderr))
}
