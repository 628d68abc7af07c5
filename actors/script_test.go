package actors

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected output of the scripts in testdata")

// A script is a test written as steps in a text file, after pebble's
// datadriven tests (github.com/cockroachdb/datadriven): each step is a
// command line, a line "----", and the output the step must print, up to
// a blank line. Lines starting with # between steps are comments.
//
//	enqueue id=m1 rows=5
//	----
//	+0s sends +[3] total 1, held 0
//	...
//
// A command is a name and arguments, each key=value or a bare key.
// runScripts runs every file matching pattern, each as a subtest with a
// fresh runner from newRunner, comparing each step's output with the
// file's; with -update it writes the outputs back instead.
type scriptStep struct {
	line int    // of the command, for messages
	cmd  string // the command line as written
	name string
	args map[string]string
	want string
	pre  []string // comment and blank lines before the step, kept by -update
}

func runScripts(t *testing.T, pattern string, newRunner func(t *testing.T) func(s *scriptStep) string) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no scripts match %s", pattern)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)), func(t *testing.T) {
			steps, tail := parseScript(t, file)
			do := newRunner(t)
			var out strings.Builder
			for _, st := range steps {
				got := do(st)
				if got != "" && !strings.HasSuffix(got, "\n") {
					got += "\n"
				}
				for _, l := range st.pre {
					out.WriteString(l + "\n")
				}
				out.WriteString(st.cmd + "\n----\n" + got + "\n")
				if *update || t.Failed() {
					continue
				}
				if got != st.want {
					t.Fatalf("%s:%d: %s\ngot:\n%swant:\n%s", file, st.line, st.cmd, got, st.want)
				}
			}
			if *update {
				for _, l := range tail {
					out.WriteString(l + "\n")
				}
				if err := os.WriteFile(file, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// parseScript reads the steps of file, and the comment lines after the
// last one.
func parseScript(t *testing.T, file string) (steps []*scriptStep, tail []string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		n++
		return sc.Text(), true
	}
	var pre []string
	for {
		l, ok := next()
		if !ok {
			break
		}
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			pre = append(pre, l)
			continue
		}
		st := &scriptStep{line: n, cmd: l, args: map[string]string{}, pre: pre}
		pre = nil
		fields := strings.Fields(l)
		st.name = fields[0]
		for _, a := range fields[1:] {
			k, v, _ := strings.Cut(a, "=")
			st.args[k] = v
		}
		if sep, ok := next(); !ok || sep != "----" {
			t.Fatalf("%s:%d: %q is not followed by ----", file, st.line, l)
		}
		var want strings.Builder
		for {
			l, ok := next()
			if !ok || l == "" {
				break
			}
			want.WriteString(l + "\n")
		}
		st.want = want.String()
		steps = append(steps, st)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return steps, pre
}

// arg returns the step's argument key, or def when it has none.
func (s *scriptStep) arg(key, def string) string {
	if v, ok := s.args[key]; ok {
		return v
	}
	return def
}

// has reports whether the step has argument key (bare or with a value).
func (s *scriptStep) has(key string) bool { _, ok := s.args[key]; return ok }

// fatalf fails the script at this step.
func (s *scriptStep) fatalf(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Fatalf("line %d: %s: %s", s.line, s.cmd, fmt.Sprintf(format, args...))
}
