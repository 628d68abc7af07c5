package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// RawServerCommand is the hidden first argument of `herald bench` that
// runs the raw server alone (the ramp's baseline as a child process):
// `herald bench __raw-server --listen 127.0.0.1:0`.
const RawServerCommand = "__raw-server"

// Where the ramp's raw server runs (--raw-server).
const (
	RawAuto      = "auto"      // as the herald daemon runs: a child process when herald is one (or external), else in-process
	RawChild     = "child"     // `herald bench __raw-server` as its own process
	RawInProcess = "inprocess" // in the harness's process, beside the load generator
	RawOff       = "off"       // no baseline
)

// rawAnswer is the raw server's answer to every POST /v1/messages: the
// shape of herald's 202 for a peer message to one offline user.
const rawAnswer = `{"message_id":"raw","recipients":1,"online":0,"offline":1,"duplicate":false}`

// rawHandler answers POST /v1/messages with a fixed 202 and no work, GET
// /readyz with 200, anything else with 404. fasthttp has read the whole
// request (headers and body) before it is called, as for herald.
func rawHandler(ctx *fasthttp.RequestCtx) {
	switch string(ctx.Path()) {
	case "/v1/messages":
		if ctx.IsPost() {
			ctx.SetStatusCode(fasthttp.StatusAccepted)
			ctx.SetContentType("application/json")
			ctx.SetBodyString(rawAnswer)
			return
		}
		ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
	case "/readyz":
		ctx.SetStatusCode(fasthttp.StatusOK)
	default:
		ctx.SetStatusCode(fasthttp.StatusNotFound)
	}
}

// newRawServer is a fasthttp server with herald's server settings
// (daemon.go) and the raw handler.
func newRawServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                      rawHandler,
		Name:                         "herald-raw",
		MaxRequestBodySize:           1 << 20,
		ReadTimeout:                  30 * time.Second,
		WriteTimeout:                 30 * time.Second,
		IdleTimeout:                  2 * time.Minute,
		DisablePreParseMultipartForm: true,
	}
}

// rawServer is a running raw server.
type rawServer struct {
	URL  string
	PID  int // its process; 0 = this one
	Stop func() error
}

// startRawInProcess serves the raw handler on a random loopback port in
// this process.
func startRawInProcess() (*rawServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := newRawServer()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	stop := func() error {
		err := srv.Shutdown()
		if serr := <-done; serr != nil && err == nil {
			err = serr
		}
		return err
	}
	return &rawServer{URL: "http://" + ln.Addr().String(), Stop: stop}, nil
}

// startRawChild runs `exe bench __raw-server` as a child process. Its
// stdin is a pipe from here: when this process dies the pipe closes and
// the child exits.
func startRawChild(exe string, errs io.Writer) (*rawServer, error) {
	if exe == "" {
		return nil, errors.New("bench: a raw server child process needs the herald executable (run it as `herald bench`)")
	}
	cmd := exec.Command(exe, "bench", RawServerCommand, "--listen", "127.0.0.1:0", "--parent-pipe")
	cmd.Env = os.Environ()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: starting the raw server: %w", err)
	}
	c := &childLog{errs: errs}
	addr := make(chan string, 1)
	exited := make(chan error, 1)
	go func() {
		c.read(stderr, addr)
		exited <- cmd.Wait()
	}()
	var url string
	select {
	case a := <-addr:
		url = "http://" + a
	case err := <-exited:
		stdin.Close()
		return nil, fmt.Errorf("bench: the raw server exited at start (%v):\n%s", err, c.tail())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		stdin.Close()
		<-exited
		return nil, fmt.Errorf("bench: the raw server did not start listening within 30s:\n%s", c.tail())
	}
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		defer stdin.Close()
		select {
		case err := <-exited:
			if err != nil {
				return fmt.Errorf("the raw server exited with %v:\n%s", err, c.tail())
			}
			return nil
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("the raw server did not stop within 10s of SIGTERM; killed")
		}
	}
	return &rawServer{URL: url, PID: cmd.Process.Pid, Stop: stop}, nil
}

// rawServerMain is `herald bench __raw-server`: serve the raw handler
// until SIGTERM/SIGINT (or, with --parent-pipe, until stdin closes),
// logging one JSON "listening" record with the address on stderr.
func rawServerMain(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench "+RawServerCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "address to serve on (loopback)")
	parentPipe := fs.Bool("parent-pipe", false, "exit when stdin closes (the parent's pipe)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Error("listen", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if *parentPipe {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}
	srv := newRawServer()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())
	select {
	case <-ctx.Done():
	case err := <-done:
		log.Error("serve", "err", err)
		return 1
	}
	if err := srv.Shutdown(); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
