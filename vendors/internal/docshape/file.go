package docshape

import (
	"fmt"
	"os"
	"strings"
)

// File is a docexample file: what a vendor documents, quoted, for a test
// to build a Shape from. Its format:
//
//	# Source: where the quotes come from (URL or repository and path)
//	# ... more comment lines: what was quoted, how it was read, caveats
//	--- example NAME
//	the vendor's example, verbatim
//	--- table NAME
//	# fields the vendor documents in a parameter table but no example shows,
//	# transcribed (not quoted): one "path kind" per line, Shape.Add syntax
//	message.android.urgency string
//
// The leading comment lines are required (a quote without its source is
// not allowed); sections may repeat in any order.
type File struct {
	// Header is the leading comment lines, without their "#".
	Header   []string
	sections []section
}

type section struct {
	kind, name string
	lines      []string
}

// Entry is one row of a table section.
type Entry struct {
	Path string
	Kind Kind
}

// Load reads a docexample file.
func Load(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := parseFile(string(b))
	if err != nil {
		return nil, fmt.Errorf("docshape: %s: %w", path, err)
	}
	return f, nil
}

func parseFile(text string) (*File, error) {
	f := &File{}
	var cur *section
	for i, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "--- "); ok {
			kind, name, _ := strings.Cut(strings.TrimSpace(rest), " ")
			if kind != "example" && kind != "table" || strings.TrimSpace(name) == "" {
				return nil, fmt.Errorf("line %d: want \"--- example NAME\" or \"--- table NAME\", got %q", i+1, line)
			}
			f.sections = append(f.sections, section{kind: kind, name: strings.TrimSpace(name)})
			cur = &f.sections[len(f.sections)-1]
			continue
		}
		if cur == nil {
			if strings.TrimSpace(line) == "" {
				continue
			}
			c, ok := strings.CutPrefix(line, "#")
			if !ok {
				return nil, fmt.Errorf("line %d: the header before the first section must be # comments", i+1)
			}
			f.Header = append(f.Header, strings.TrimSpace(c))
			continue
		}
		cur.lines = append(cur.lines, line)
	}
	if len(f.Header) == 0 {
		return nil, fmt.Errorf("no header: the source of the quotes must come first")
	}
	return f, nil
}

func (f *File) find(kind, name string) (*section, error) {
	for i := range f.sections {
		if s := &f.sections[i]; s.kind == kind && s.name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("docshape: no %s section %q", kind, name)
}

// Example returns the text of an example section, without the blank lines
// around it.
func (f *File) Example(name string) (string, error) {
	s, err := f.find("example", name)
	if err != nil {
		return "", err
	}
	lines := s.lines
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return strings.Join(lines, "\n"), nil
}

// Table returns the rows of a table section.
func (f *File) Table(name string) ([]Entry, error) {
	s, err := f.find("table", name)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, line := range s.lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return nil, fmt.Errorf("docshape: table %q: want \"path kind\", got %q", name, line)
		}
		k, err := ParseKind(fields[1])
		if err != nil {
			return nil, fmt.Errorf("docshape: table %q: %w", name, err)
		}
		out = append(out, Entry{Path: fields[0], Kind: k})
	}
	return out, nil
}

// AddEntries adds every entry to s (see Add).
func (s *Shape) AddEntries(entries []Entry) {
	for _, e := range entries {
		s.Add(e.Path, e.Kind)
	}
}

// AddKeys adds every entry to s as a member named by its whole path, dots
// included: the flat keys of a form body ("extra.channel_id").
func (s *Shape) AddKeys(entries []Entry) {
	s.Kinds |= Object
	if s.Fields == nil {
		s.Fields = make(map[string]*Shape)
	}
	for _, e := range entries {
		f := s.Fields[e.Path]
		if f == nil {
			f = &Shape{}
			s.Fields[e.Path] = f
		}
		f.Kinds |= e.Kind
	}
}
