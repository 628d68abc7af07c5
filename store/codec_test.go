package store

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<name>.golden (hex dump, one value per line).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	text := hex.EncodeToString(got) + "\n"
	if *update {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if string(want) != text {
		t.Errorf("%s: encoding changed\n got %s want %s", name, text, want)
	}
}

func TestCodecGolden(t *testing.T) {
	dev := Device{Vendor: "apns", Token: "a1b2c3", APNsEnv: "automatic", VoIPToken: "v0ip", Locale: "zh-CN", ResolvedEnv: "production", UpdatedAt: 1767225600000}
	cases := []struct {
		name string
		enc  []byte
	}{
		{"device", EncodeDevice(dev)},
		{"binding", EncodeBinding(Binding{UserID: "u1", DeviceID: "d1"})},
		{"lease", EncodeLease(Lease{ExpiresAt: 1767225690000})},
		{"user_meta", EncodeUserMeta(UserMeta{Badge: 7})},
		{"key_device", DeviceKey("u1", "d1")},
		{"key_pushid", PushIDKey("fcm", "tok:en")},
		{"key_lease", LeaseKey("u1", "d1")},
		{"key_user", UserKey("u1")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { golden(t, c.name, c.enc) })
	}
}

func TestCodecRoundTrip(t *testing.T) {
	dev := Device{Vendor: "huawei", Token: strings.Repeat("x", 4096), Locale: "en", UpdatedAt: -5}
	got, err := DecodeDevice(EncodeDevice(dev))
	if err != nil || got != dev {
		t.Fatalf("device round trip: %+v %v", got, err)
	}
	b := Binding{UserID: "ü", DeviceID: ""}
	if gb, err := DecodeBinding(EncodeBinding(b)); err != nil || gb != b {
		t.Fatalf("binding round trip: %+v %v", gb, err)
	}
	if gl, err := DecodeLease(EncodeLease(Lease{ExpiresAt: 42})); err != nil || gl.ExpiresAt != 42 {
		t.Fatalf("lease round trip: %+v %v", gl, err)
	}
	if gm, err := DecodeUserMeta(EncodeUserMeta(UserMeta{Badge: 1 << 40})); err != nil || gm.Badge != 1<<40 {
		t.Fatalf("meta round trip: %+v %v", gm, err)
	}
}

func TestCodecRejectsCorrupt(t *testing.T) {
	good := EncodeDevice(Device{Vendor: "fcm", Token: "t"})
	cases := map[string][]byte{
		"empty":        nil,
		"version":      append([]byte{9}, good[1:]...),
		"truncated":    good[:len(good)-2],
		"trailing":     append(bytes.Clone(good), 0),
		"huge_length":  {formatV1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"bad_varint":   {formatV1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"only_version": {formatV1},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeDevice(in); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("want ErrCorrupt, got %v", err)
			}
		})
	}
}

// FuzzDecode feeds arbitrary bytes to every decoder: none may panic, and
// whatever decodes must re-encode to the same bytes (the encoding is canonical).
func FuzzDecode(f *testing.F) {
	f.Add(EncodeDevice(Device{Vendor: "apns", Token: "abc", UpdatedAt: 3}))
	f.Add(EncodeBinding(Binding{UserID: "u", DeviceID: "d"}))
	f.Add(EncodeLease(Lease{ExpiresAt: 99}))
	f.Add(encodeHookEvent(HookEvent{Type: EventPushFailed, At: 7, Data: []byte(`{}`), Attempts: 2, LastError: "HTTP 503"}))
	f.Add(msValue(1_800_000_000_000))
	f.Add([]byte{})
	f.Add([]byte{formatV1, 0x80})
	f.Fuzz(func(t *testing.T, in []byte) {
		if d, err := DecodeDevice(in); err == nil && !bytes.Equal(EncodeDevice(d), in) {
			t.Fatalf("device not canonical: %x", in)
		}
		if b, err := DecodeBinding(in); err == nil && !bytes.Equal(EncodeBinding(b), in) {
			t.Fatalf("binding not canonical: %x", in)
		}
		if l, err := DecodeLease(in); err == nil && !bytes.Equal(EncodeLease(l), in) {
			t.Fatalf("lease not canonical: %x", in)
		}
		if m, err := DecodeUserMeta(in); err == nil && !bytes.Equal(EncodeUserMeta(m), in) {
			t.Fatalf("meta not canonical: %x", in)
		}
		key := make([]byte, eventKeyBytes)
		if e, err := decodeHookEvent(key, in); err == nil && !bytes.Equal(encodeHookEvent(e), in) {
			t.Fatalf("webhook event not canonical: %x", in)
		}
		if ms, err := decodeMs(in); err == nil && !bytes.Equal(msValue(ms), in) {
			t.Fatalf("watch not canonical: %x", in)
		}
	})
}
