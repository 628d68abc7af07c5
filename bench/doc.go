// Package bench will hold the load harness behind `herald bench`: scenarios,
// open-loop load generation, receipt counting at the vendor simulators,
// latency histograms and reports. It is empty until the dispatch pipeline it
// measures exists; the top-level layout reserves its place.
package bench
