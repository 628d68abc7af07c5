package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxDecodeSteps bounds the nodes visited while decoding, so that alias
// expansion cannot blow up (a "billion laughs" document).
const maxDecodeSteps = 1 << 20

// Load reads the YAML file at path and decodes it with Parse.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	return Parse(data, path)
}

// LoadPartial reads the YAML file at path and decodes it with ParsePartial.
func LoadPartial(path string) (Config, []Problem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, nil, err
	}
	return ParsePartial(data, path)
}

// Parse decodes one YAML document over Default() and returns the result.
// Keys absent from the document keep their defaults, also inside nested
// sections; an explicit null resets lists, maps and pointers (e.g.
// vendors.*.enabled) to empty and leaves other values at their defaults.
// Unknown keys, duplicate keys and type mismatches are errors naming the key
// path and line; all of them are reported, joined into one error. An empty
// document yields Default(); more than one document is an error. source
// names the input in errors (typically the file path).
//
// Parse does not validate: call Config.Validate on the result.
func Parse(data []byte, source string) (Config, error) {
	cfg, problems, err := ParsePartial(data, source)
	if err != nil {
		return Config{}, err
	}
	if len(problems) > 0 {
		return Config{}, &ValidationError{Source: source, Problems: problems}
	}
	return cfg, nil
}

// ParsePartial decodes like Parse, but a value that cannot be decoded (an
// unknown or duplicate key, a type mismatch) is a Problem rather than the
// end: it keeps its default and decoding goes on, so that the result can
// be validated too and every problem of a document reported in one run
// (herald check-config). The error is for a document that is not YAML at
// all, or more than one.
func ParsePartial(data []byte, source string) (Config, []Problem, error) {
	if source == "" {
		source = "config"
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Default(), nil, nil
		}
		return Config{}, nil, fmt.Errorf("%s: %w", source, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return Config{}, nil, fmt.Errorf("%s: multiple YAML documents (second at line %d); herald reads exactly one", source, extra.Line)
	} else if !errors.Is(err, io.EOF) {
		return Config{}, nil, fmt.Errorf("%s: %w", source, err)
	}

	cfg := Default()
	root := &doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return cfg, nil, nil
		}
		root = doc.Content[0]
	}
	d := &decoder{}
	d.decode("", root, reflect.ValueOf(&cfg).Elem())
	if cfg.Auth.Keys == nil {
		cfg.Auth.Keys = []Key{}
	}
	if cfg.Resources == nil {
		cfg.Resources = map[string]Resource{}
	}
	return cfg, d.problems, nil
}

// decoder decodes a yaml.Node tree into a value by reflection, following the
// yaml struct tags, and collects every problem with its key path.
type decoder struct {
	problems []Problem
	steps    int
}

func (d *decoder) fail(path string, n *yaml.Node, format string, args ...any) {
	if path == "" {
		path = "top level"
	}
	d.problems = append(d.problems, Problem{Key: path, Message: fmt.Sprintf(format, args...) + fmt.Sprintf(" (line %d)", n.Line)})
}

func (d *decoder) unknown(path string, n *yaml.Node) {
	d.problems = append(d.problems, Problem{Key: path, Message: fmt.Sprintf("unknown key (line %d)", n.Line)})
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func isMerge(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Value == "<<" &&
		(n.Tag == "" || n.Tag == "!" || n.ShortTag() == "!!merge")
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// decode stores n into v, which must be settable.
func (d *decoder) decode(path string, n *yaml.Node, v reflect.Value) {
	if d.steps++; d.steps > maxDecodeSteps {
		if d.steps == maxDecodeSteps+1 {
			d.fail(path, n, "document too large or too many aliases")
		}
		return
	}
	n = resolve(n)
	if n.Kind == yaml.AliasNode {
		d.fail(path, n, "unresolvable alias")
		return
	}
	if isNull(n) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			v.SetZero()
		}
		return
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			d.fail(path, n, "%s", err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem()) // fresh, so defaults are never shared
		if !v.IsNil() {
			nv.Elem().Set(v.Elem())
		}
		d.decode(path, n, nv.Elem())
		v.Set(nv)
	case reflect.Struct:
		d.decodeMapping(path, n, v)
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			d.fail(path, n, "unsupported map key type %s", v.Type().Key())
			return
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		d.decodeMapping(path, n, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(path, n, "expected a sequence, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(fmt.Sprintf("%s[%d]", path, i), item, s.Index(i))
		}
		v.Set(s)
	default:
		d.decodeScalar(path, n, v)
	}
}

// decodeMapping decodes a mapping node into a struct (keys must be known yaml
// tags) or a string-keyed map (any key; values are decoded fresh). Merge keys
// ("<<") are applied first, so explicit keys override merged ones.
func (d *decoder) decodeMapping(path string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "expected a mapping, got %s", describe(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if isMerge(resolve(n.Content[i])) {
			d.merge(path, n.Content[i+1], v)
		}
	}
	var fields map[string]int
	if v.Kind() == reflect.Struct {
		fields = structFields(v.Type())
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if isMerge(k) {
			continue
		}
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.fail(path, k, "keys must be strings, got %s", describe(k))
			continue
		}
		p := joinPath(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.fail(p, k, "duplicate key (first at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		if fields == nil {
			elem := reflect.New(v.Type().Elem()).Elem()
			d.decode(p, val, elem)
			v.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), elem)
			continue
		}
		idx, ok := fields[k.Value]
		if !ok {
			d.unknown(p, k)
			continue
		}
		d.decode(p, val, v.Field(idx))
	}
}

func (d *decoder) merge(path string, n *yaml.Node, v reflect.Value) {
	n = resolve(n)
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for _, item := range items {
		if item = resolve(item); item.Kind != yaml.MappingNode {
			d.fail(path, item, "merge (<<) value must be a mapping or a sequence of mappings, got %s", describe(item))
			continue
		}
		d.decode(path, item, v)
	}
}

// structFields maps yaml keys to field indexes of struct type t.
func structFields(t reflect.Type) map[string]int {
	fields := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = i
	}
	return fields
}

// decodeScalar decodes a scalar node into a string, bool, integer or float,
// more strictly than yaml.v3 alone: integers must be YAML integers (no
// silent truncation of 1.5) and numbers must be YAML numbers.
func (d *decoder) decodeScalar(path string, n *yaml.Node, v reflect.Value) {
	var want string
	ok := n.Kind == yaml.ScalarNode
	tag := n.ShortTag()
	switch v.Kind() {
	case reflect.String:
		want, ok = "a string", ok && tag != "!!binary"
	case reflect.Bool:
		want = "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		want, ok = "an integer", ok && tag == "!!int"
	case reflect.Float32, reflect.Float64:
		want, ok = "a number", ok && (tag == "!!int" || tag == "!!float")
	default:
		d.fail(path, n, "unsupported type %s", v.Type())
		return
	}
	if !ok && want == "an integer" && tag == "!!float" && isDigits(n.Value) {
		d.fail(path, n, "integer %s out of range", n.Value)
		return
	}
	if !ok {
		d.fail(path, n, "expected %s, got %s", want, describe(n))
		return
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		if want == "an integer" {
			d.fail(path, n, "integer %s out of range", n.Value)
			return
		}
		d.fail(path, n, "expected %s, got %s", want, describe(n))
	}
}
