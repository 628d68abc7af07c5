//go:build linux

package daemon

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-push/herald/configs"
	"github.com/herald-push/herald/daemon/api"
	"github.com/herald-push/herald/internal/testutil"
	"github.com/herald-push/herald/vendors/simkit"
)

// smallDisk mounts a tmpfs of size bytes on a fresh directory for the
// test, or skips the test where that is not allowed (it needs root or
// CAP_SYS_ADMIN; CI runs as root).
func smallDisk(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Skipf("this test needs a small tmpfs of its own (root or CAP_SYS_ADMIN): mount: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestDiskFullRefusesWritesWithoutDyingAndRecovers fills a real 48 MiB
// file system through the API itself (device registrations with large
// tokens) until herald refuses: 507 storage_full with Retry-After for
// every write that adds data, before Pebble ever meets ENOSPC (which would
// end the process); reads, deletes and the health probe keep answering.
// Freeing space (a ballast file written at the start) lets writes in again
// without a restart, and a message accepted then is delivered.
func TestDiskFullRefusesWritesWithoutDyingAndRecovers(t *testing.T) {
	// The ballast is larger than the watermark, so freeing it lifts the
	// free space over the watermark even when Pebble's compactions and
	// WAL ran far below it after the refusal (with a 10 MiB ballast the
	// recovery once never came: free space stayed under 12 MiB).
	const (
		size    = 64 << 20
		minFree = 12 << 20
		ballast = 24 << 20
	)
	disk := smallDisk(t, size)
	if err := os.WriteFile(filepath.Join(disk, "ballast"), make([]byte, ballast), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startDaemon(t, func(c *configs.Config) {
		c.DataDir = filepath.Join(disk, "data")
		c.MemTable = configs.MiB
		c.MinFree = minFree
	}, Env{})
	do := s.doer(t)
	registerUsers(t, do, 0, 1, func(int) string { return "first" }) // u0, apns

	// Each batch adds ~1 MiB (random tokens: no compression helps);
	// the disk cannot take more than ~64 of them.
	var refused resp
	batches := 0
	for ; batches < 80; batches++ {
		var b strings.Builder
		b.WriteString(`{"devices":[`)
		for i := range 500 {
			if i > 0 {
				b.WriteByte(',')
			}
			tok := make([]byte, 1000)
			_, _ = rand.Read(tok)
			fmt.Fprintf(&b, `{"user_id":"f%d-%d","device_id":"d","vendor":"fcm","token":%q}`, batches, i, hex.EncodeToString(tok))
		}
		b.WriteString(`]}`)
		r := do("POST", "/v1/devices/batch", b.String())
		if r.status == 507 {
			refused = r
			break
		}
		if r.status != 200 {
			t.Fatalf("batch %d: %d %s", batches, r.status, r.body)
		}
	}
	if refused.status != 507 {
		t.Fatalf("after %d batches of ~1 MiB on a %d MiB disk herald still accepted writes", batches, size>>20)
	}
	var eb errBody
	refused.json(t, &eb)
	if eb.Error.Code != "storage_full" || refused.header.Get("Retry-After") == "" || !strings.Contains(eb.Error.Message, "min_free_space") {
		t.Fatalf("refusal: %d %v %s", refused.status, refused.header, refused.body)
	}
	t.Logf("refused after %d batches", batches)
	// Right after the refusal, before anything else writes: a memtable
	// flush that removes an obsolete log can give space back at any time.
	var stats struct {
		Storage api.StorageStats `json:"storage"`
	}
	do("GET", "/v1/stats", "").json(t, &stats)
	if !stats.Storage.Low || stats.Storage.MinFreeBytes != minFree || stats.Storage.FreeBytes >= minFree {
		t.Fatalf("stats while low: %+v", stats.Storage)
	}

	msg := func(id string) string {
		return `{"message_id":"` + id + `","from":"x","to":{"type":"peer","id":"u0"},"body":{"t":1},"push":{"title":"t","content":"c"}}`
	}
	if r := do("POST", "/v1/messages", msg("m-low")); r.status != 507 {
		t.Fatalf("message while the disk is low: %d %s", r.status, r.body)
	}
	if r := do("PUT", "/v1/users/n1/devices/d", `{"vendor":"fcm","token":"new-one"}`); r.status != 507 {
		t.Fatalf("device while the disk is low: %d %s", r.status, r.body)
	}
	// Reads, deletes and probes go on.
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/users/u0"}, {"GET", "/v1/users/f0-1"}, {"DELETE", "/v1/users/f0-2/devices/d"}, {"GET", "/healthz"},
	} {
		if r := do(c.method, c.path, ""); r.status/100 != 2 {
			t.Fatalf("%s %s while the disk is low: %d %s", c.method, c.path, r.status, r.body)
		}
	}

	// The operator frees space: herald accepts again by itself.
	if err := os.Remove(filepath.Join(disk, "ballast")); err != nil {
		t.Fatal(err)
	}
	var r resp
	testutil.WaitFor(t, 10*time.Second, func() bool {
		r = do("POST", "/v1/messages", msg("m-after"))
		return r.status != 507
	}, "a message accepted after space was freed")
	wantStatus(t, r, 202)
	waitStats(t, "the message accepted after recovery", 20*time.Second, s.d.push.sims.Recorder.Snapshot, func(st map[string]simkit.Stats) bool {
		return st["apns"].Unique >= 1
	})
}
