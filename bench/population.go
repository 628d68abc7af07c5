package bench

import (
	"context"
	"strconv"
	"time"

	"github.com/herald-push/herald/client"
)

// population names a run's users and devices. Every device gets a global
// index; its token is "bench-<run>-<index>" (an APNs VoIP token, when
// asked for, "bench-<run>-v<index>"), so a receipt's token says which
// device it reached.
type population struct {
	run     string
	plan    []string
	dpu     int
	nextDev int64
}

func newPopulation(run string, sc Scenario) *population {
	return &population{run: run, plan: vendorPlan(sc.VendorShares), dpu: sc.DevicesPerUser}
}

// userSet is a block of users "<tag>-<run>-<i>", i in [0, n), with dpu
// devices each, device j of user i having global index firstDev+i·dpu+j.
type userSet struct {
	pop      *population
	prefix   string
	n        int
	dpu      int
	firstDev int64
	voip     bool
}

// add makes a new block of n users.
func (p *population) add(tag string, n int, voip bool) *userSet {
	u := &userSet{pop: p, prefix: tag + "-" + p.run + "-", n: n, dpu: p.dpu, firstDev: p.nextDev, voip: voip}
	p.nextDev += int64(n * p.dpu)
	return u
}

func (p *population) tokenPrefix() string { return "bench-" + p.run + "-" }

func (u *userSet) id(i int) string { return u.prefix + strconv.Itoa(i) }

func (u *userSet) ids() []string {
	out := make([]string, u.n)
	for i := range out {
		out[i] = u.id(i)
	}
	return out
}

// vendor is the vendor of device j of user i.
func (u *userSet) vendor(i, j int) string {
	idx := u.firstDev + int64(i*u.dpu+j)
	return u.pop.plan[idx%int64(len(u.pop.plan))]
}

// devices lists every device registration of the block.
func (u *userSet) devices() []Device {
	out := make([]Device, 0, u.n*u.dpu)
	for i := 0; i < u.n; i++ {
		for j := 0; j < u.dpu; j++ {
			idx := u.firstDev + int64(i*u.dpu+j)
			d := Device{UserID: u.id(i), DeviceID: "d" + strconv.Itoa(j), PutDeviceRequest: client.PutDeviceRequest{Vendor: u.vendor(i, j),
				Token: u.pop.tokenPrefix() + strconv.FormatInt(idx, 10)}}
			if u.voip && d.Vendor == "apns" {
				d.VoIPToken = u.pop.tokenPrefix() + "v" + strconv.FormatInt(idx, 10)
			}
			out = append(out, d)
		}
	}
	return out
}

// addExpected adds user i's devices (one notification each) to exp.
func (u *userSet) addExpected(exp map[string]int64, i int) {
	for j := 0; j < u.dpu; j++ {
		exp[u.vendor(i, j)]++
	}
}

// expected is one notification per device of the block, per vendor.
func (u *userSet) expected() map[string]int64 {
	exp := map[string]int64{}
	for i := 0; i < u.n; i++ {
		u.addExpected(exp, i)
	}
	return exp
}

func total(m map[string]int64) int64 {
	var t int64
	for _, v := range m {
		t += v
	}
	return t
}

// setup registers the blocks' devices and fills the groups (name → the
// block's users), timing it into the report.
func (e *runEnv) setup(ctx context.Context, blocks []*userSet, groups map[string][]string) error {
	e.prog.phase("setup")
	start := time.Now()
	var devs []Device
	var users int64
	for _, b := range blocks {
		devs = append(devs, b.devices()...)
		users += int64(b.n)
	}
	e.prog.setupTotal.Store(int64(len(devs)))
	err := registerDevices(ctx, e.api, devs, e.sc.SetupWorkers, func(n int) { e.prog.setupDone.Add(int64(n)) })
	if err != nil {
		return err
	}
	for g, members := range groups {
		if len(members) == 0 {
			continue
		}
		if err := addGroupMembers(ctx, e.api, g, members, e.sc.SetupWorkers); err != nil {
			return err
		}
	}
	secs := time.Since(start).Seconds()
	e.rep.Setup = Setup{Users: users, Devices: int64(len(devs)), Groups: int64(len(groups)), Seconds: round3(secs)}
	if secs > 0 {
		e.rep.Setup.DevicesPerSecond = round3(float64(len(devs)) / secs)
	}
	return nil
}

// setupAndLog is setup followed by the "setup: ..." log line.
func (e *runEnv) setupAndLog(ctx context.Context, blocks []*userSet, groups map[string][]string) error {
	if err := e.setup(ctx, blocks, groups); err != nil {
		return err
	}
	e.logf("setup: %d devices in %.2fs (%.0f devices/s)", e.rep.Setup.Devices, e.rep.Setup.Seconds, e.rep.Setup.DevicesPerSecond)
	return nil
}
