package configs

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration that reads and writes YAML as a Go duration
// string such as "500ms", "90s", "5m" or "1h30m".
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.String, without redundant trailing
// zero units ("5m" rather than "5m0s", "24h" rather than "24h0m0s").
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ParseDuration parses a Go duration string into a Duration.
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want a number with a unit, e.g. \"500ms\", \"90s\", \"5m\", \"24h\")", s)
	}
	return Duration(d), nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a duration, got %s", describe(n))
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// ByteSize is a number of bytes. YAML accepts a plain non-negative integer or
// a string with a unit: B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB
// (powers of 1024), case-insensitive, optionally separated by a space.
type ByteSize int64

// Byte size units.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
)

type byteUnit struct {
	name string
	size ByteSize
}

// byteUnits lists the accepted units, preferred formatting order first.
func byteUnits() []byteUnit {
	return []byteUnit{
		{"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB},
		{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3},
		{"B", 1},
	}
}

// String formats b with the largest unit that divides it exactly, e.g.
// "1MiB", "1500B", "2KB".
func (b ByteSize) String() string {
	if b == 0 {
		return "0B"
	}
	for _, u := range byteUnits() {
		if b%u.size == 0 {
			return strconv.FormatInt(int64(b/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B" // unreachable: "B" divides everything
}

// ParseByteSize parses a size such as "1048576", "512KiB", "1 MiB" or "10MB".
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("invalid byte size %q: must not be negative", s)
	}
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	mult := ByteSize(0)
	for _, u := range byteUnits() {
		if strings.EqualFold(unit, u.name) || unit == "" && u.size == 1 {
			mult = u.size
		}
	}
	if num == "" || mult == 0 {
		return 0, fmt.Errorf("invalid byte size %q (want a non-negative integer with an optional unit B, KB, MB, GB, KiB, MiB or GiB, e.g. \"1MiB\")", s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/int64(mult) {
		return 0, fmt.Errorf("invalid byte size %q: too large", s)
	}
	return ByteSize(n) * mult, nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a byte size, got %s", describe(n))
	}
	switch n.ShortTag() {
	case "!!int":
		var v int64
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("invalid byte size %q: too large", n.Value)
		}
		if v < 0 {
			return fmt.Errorf("invalid byte size %q: must not be negative", n.Value)
		}
		*b = ByteSize(v)
		return nil
	case "!!str":
		v, err := ParseByteSize(n.Value)
		if err != nil {
			return err
		}
		*b = v
		return nil
	case "!!float":
		if isDigits(n.Value) {
			return fmt.Errorf("invalid byte size %q: too large", n.Value)
		}
		return fmt.Errorf("invalid byte size %q: must be a whole number of bytes", n.Value)
	}
	return fmt.Errorf("expected a byte size, got %s", describe(n))
}

// MarshalYAML implements yaml.Marshaler.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

// isDigits reports whether s is a non-empty run of decimal digits, allowing a
// leading sign: an integer YAML resolved as a float because it is too large.
func isDigits(s string) bool {
	s = strings.TrimLeft(s, "+-")
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// describe names a node for error messages: its kind, and for scalars the
// (truncated) value.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		kind := map[string]string{
			"!!str": "string", "!!int": "integer", "!!float": "number",
			"!!bool": "boolean", "!!null": "null", "!!timestamp": "timestamp",
		}[n.ShortTag()]
		if kind == "" {
			kind = n.ShortTag()
		}
		return fmt.Sprintf("%s %q", kind, v)
	}
	return "an empty value"
}
