// Package bench is the load harness behind `herald bench`: scenarios
// (configs/bench/*.yaml), open-loop load generation over a fixed connection
// pool, receipt counting at the vendor simulators, HDR-style latency
// histograms, and reports (a table, JSON checked against
// report.schema.json, and self-contained HTML with inline SVG plots).
//
// Run it from the repository root with one command:
//
//	go run . bench --scenario fanout --users 100000 --json fanout.json --html fanout.html
//
// Without --target the harness starts herald itself: for fanout, memory,
// outage, overload, crash, soak and peer --ramp as a child
// process (`herald serve` from the harness's executable on a config
// pointing at simulators that run in the harness, --daemon child), so that
// the daemon's CPU and RSS (/proc/<pid>) are its own; otherwise in this
// process through the daemon package (--daemon inprocess). Either way it is
// the real `herald serve` path: fasthttp over loopback, actors, Pebble in a
// temporary directory, the real vendor clients talking HTTP/2 TLS to the
// simulators; the load generator, herald and the simulators share the
// machine's cores, and the report records the machine. With --target and
// --sim it drives an external deployment and counts at its simulators (GET
// /sim/stats; GET /sim/receipts for latencies).
//
// The floor (--floor, floor.go) is the baseline measured in the same run:
// herald's own vendor clients' requests, captured once through a recording
// proxy and replayed with fresh tokens by a bare HTTP/2 client (and, for
// FCM and Web, the Firebase Admin SDK's Send from N goroutines) straight at
// the simulators; the report puts herald ÷ floor per vendor beside it.
//
// The knee (peer --ramp, ramp.go): steps of open-loop rate against herald
// and then against a raw fasthttp server that answers the same POST
// /v1/messages with a fixed 202 and no work (raw.go; a child process, the
// hidden `herald bench __raw-server`, when herald runs as one), driven by
// the same load generator; each one's knee is the highest step whose
// accepted rate keeps up (>= 95 %) with accept p99 within --knee-p99.
//
// The memory scenario (memory.go) samples the daemon's RSS, Go heap in use
// and live user actors through registering users, making some active and
// a fan-out, and reports them per phase and over time.
//
// The long runs: the crash scenario (crash.go) kills the child daemon with
// SIGKILL at seeded random moments of a fan-out under peer load and
// restarts it on the same config, data dir and port (childProc), counting
// by message id at the simulators, which outlive every kill; the soak
// scenario (soak.go) runs the mixed traffic for a long while and checks
// that the daemon's RSS and goroutines stay flat.
//
// What is measured, and how:
//   - Counting: the simulators count every accepted (message_id, token)
//     pair; lost = expected − unique per vendor, duplicates = pairs seen
//     twice. Warm-up traffic is excluded by taking the counters' delta over
//     the measured phase.
//   - Latency: open-loop schedules (request i due at start + i/rate) with
//     latency from the intended send time, so a server stall shows in every
//     request it delayed (no coordinated omission). Notifications are timed
//     by their arrival at a simulator (the recorder's receipt hook, or GET
//     /sim/receipts) against the intended send time of their message.
//   - Histograms are log-linear (HdrHistogram's layout, 256 sub-buckets per
//     power of two: values within 0.4 %), see Histogram.
//
// See README.md in this directory for each scenario's numbers.
package bench
