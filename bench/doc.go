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
// Without --target the harness starts herald in its own process (through
// the daemon package: the real `herald serve` path, fasthttp over loopback,
// actors, Pebble in a temporary directory, the real vendor clients talking
// HTTP/2 TLS to the in-process simulators), so the load generator and
// herald share the machine's cores; the report records the machine. With
// --target and --sim it drives an external deployment and counts at its
// simulators (GET /sim/stats; GET /sim/receipts for latencies).
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
