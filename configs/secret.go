package configs

import (
	"fmt"
	"os"
	"strings"
	"unicode"
)

// FieldError is a problem with one key of a section: Key is the key's
// name within it (e.g. "key_file"), for the caller to put under the
// section's path.
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// Secret resolves the key's secret from exactly one of its sources: the
// inline key, the file key_file (trailing whitespace trimmed) or the
// environment variable key_env. getenv and readFile default to os.Getenv
// and os.ReadFile when nil. Errors are *FieldError naming the key that
// failed and never contain the secret.
func (k Key) Secret(getenv func(string) string, readFile func(string) ([]byte, error)) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if readFile == nil {
		readFile = os.ReadFile
	}
	n := 0
	for _, s := range []string{k.Key, k.KeyFile, k.KeyEnv} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return "", &FieldError{Key: "key", Msg: "exactly one of key, key_file, key_env must be set"}
	}
	switch {
	case k.Key != "":
		return k.Key, nil
	case k.KeyFile != "":
		b, err := readFile(k.KeyFile)
		if err != nil {
			return "", &FieldError{Key: "key_file", Msg: err.Error()}
		}
		s := strings.TrimRightFunc(string(b), unicode.IsSpace)
		if s == "" {
			return "", &FieldError{Key: "key_file", Msg: fmt.Sprintf("%s is empty", k.KeyFile)}
		}
		return s, nil
	default:
		s := getenv(k.KeyEnv)
		if s == "" {
			return "", &FieldError{Key: "key_env", Msg: fmt.Sprintf("environment variable %s is unset or empty", k.KeyEnv)}
		}
		return s, nil
	}
}
