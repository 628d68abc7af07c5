// Package simhost runs the vendor simulators on their own (`herald sim`)
// and keeps what a daemon needs to use them in one directory: the CA and
// signing keys, reused across restarts (KeepState), the credentials the
// simulators accept and herald-sim.yaml, a daemon config pointing every
// vendor at them (WriteFiles, WriteConfig).
package simhost
