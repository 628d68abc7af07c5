package bench

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"
)

// ReportSchema is bench/report.schema.json, the JSON Schema (draft
// 2020-12) of the --json report.
//
//go:embed report.schema.json
var ReportSchema []byte

// ValidateReport checks a JSON report against ReportSchema and returns
// every violation, each with its JSON path.
func ValidateReport(doc []byte) error {
	var schema, v any
	if err := json.Unmarshal(ReportSchema, &schema); err != nil {
		return fmt.Errorf("bench: report schema: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("bench: report: %w", err)
	}
	return ValidateJSON(schema, v)
}

// ValidateJSON checks a decoded JSON value (numbers as json.Number or
// float64) against a decoded schema. It implements the subset of JSON
// Schema 2020-12 the report schema uses: type, properties, required,
// additionalProperties (boolean or schema), items, enum, const, minimum,
// maximum, minItems, format date-time, and $ref to "#/$defs/NAME".
// Annotations ($schema, $id, title, description) are ignored; any other
// keyword is an error, so the schema cannot silently use more than this
// validator checks.
func ValidateJSON(schema, v any) error {
	root, ok := schema.(map[string]any)
	if !ok {
		return errors.New("schema: the root must be an object")
	}
	val := &validator{root: root}
	val.check("$", root, v)
	return errors.Join(val.errs...)
}

type validator struct {
	root map[string]any
	errs []error
}

func (val *validator) fail(path, format string, args ...any) {
	val.errs = append(val.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

var knownKeywords = map[string]bool{
	"$schema": true, "$id": true, "$defs": true, "title": true, "description": true,
	"type": true, "properties": true, "required": true, "additionalProperties": true, "items": true,
	"enum": true, "const": true, "minimum": true, "maximum": true, "minItems": true, "format": true, "$ref": true,
}

func (val *validator) check(path string, s map[string]any, v any) {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !knownKeywords[k] {
			val.fail(path, "schema uses keyword %q, which this validator does not implement", k)
		}
	}
	if ref, ok := s["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/$defs/")
		defs, _ := val.root["$defs"].(map[string]any)
		target, _ := defs[name].(map[string]any)
		if !found || target == nil {
			val.fail(path, "schema $ref %q does not resolve", ref)
			return
		}
		val.check(path, target, v)
	}
	if t, ok := s["type"]; ok {
		var types []string
		switch t := t.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				if str, ok := x.(string); ok {
					types = append(types, str)
				}
			}
		}
		matched := false
		for _, ty := range types {
			matched = matched || isType(v, ty)
		}
		if !matched {
			val.fail(path, "is %s, want %s", typeName(v), strings.Join(types, " or "))
			return
		}
	}
	if c, ok := s["const"]; ok && !jsonEqual(c, v) {
		val.fail(path, "is %v, want %v", v, c)
	}
	if e, ok := s["enum"].([]any); ok {
		in := false
		for _, x := range e {
			in = in || jsonEqual(x, v)
		}
		if !in {
			val.fail(path, "%v is not one of %v", v, e)
		}
	}
	if n, isNum := number(v); isNum {
		if lo, ok := number(s["minimum"]); ok && n < lo {
			val.fail(path, "%v is below the minimum %v", n, lo)
		}
		if hi, ok := number(s["maximum"]); ok && n > hi {
			val.fail(path, "%v is above the maximum %v", n, hi)
		}
	}
	if f, ok := s["format"].(string); ok && f == "date-time" {
		if str, ok := v.(string); ok {
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				val.fail(path, "%q is not an RFC 3339 date-time", str)
			}
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if name, _ := r.(string); name != "" {
					if _, has := v[name]; !has {
						val.fail(path, "%q is required", name)
					}
				}
			}
		}
		names := make([]string, 0, len(v))
		for k := range v {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			sub := path + "." + k
			if ps, ok := props[k].(map[string]any); ok {
				val.check(sub, ps, v[k])
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					val.fail(sub, "is not allowed here")
				}
			case map[string]any:
				val.check(sub, ap, v[k])
			}
		}
	case []any:
		if mi, ok := number(s["minItems"]); ok && float64(len(v)) < mi {
			val.fail(path, "has %d items, want at least %v", len(v), mi)
		}
		if is, ok := s["items"].(map[string]any); ok {
			for i, x := range v {
				val.check(fmt.Sprintf("%s[%d]", path, i), is, x)
			}
		}
	}
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}

func isType(v any, t string) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "number":
		_, ok := number(v)
		return ok
	case "integer":
		n, ok := number(v)
		return ok && n == math.Trunc(n) && !math.IsInf(n, 0)
	}
	return false
}

func typeName(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	if _, ok := number(v); ok {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// jsonEqual compares two decoded JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	if na, ok := number(a); ok {
		nb, ok := number(b)
		return ok && na == nb
	}
	return reflect.DeepEqual(a, b)
}
