package cli

import (
	"io"
	"os"

	"github.com/herald-push/herald/bench"
	"github.com/herald-push/herald/daemon"
	"github.com/herald-push/herald/daemon/simhost"
)

// benchCmd runs `herald bench` (the harness lives in package bench; the
// daemon it starts without --target comes from daemon.StartBench).
func benchCmd(args []string, stdout, stderr io.Writer) int {
	env := bench.Env{Stdout: stdout, Stderr: stderr, StartLocal: daemon.StartBench, Version: versionString(),
		WriteSimConfig: simhost.WriteConfig}
	if exe, err := os.Executable(); err == nil {
		env.Herald = exe // --daemon child runs `herald serve` from this binary
	}
	if f, ok := stderr.(*os.File); ok && bench.IsTerminal(f) {
		env.Progress = stderr
	}
	return bench.Main(args, env)
}
