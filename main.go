// Command herald is a self-hosted offline-push dispatcher daemon for chat
// backends. See README.md.
package main

import (
	"os"

	"github.com/herald-push/herald/daemon/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
