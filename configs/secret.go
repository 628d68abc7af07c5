package configs

import (
	"fmt"
	"os"
	"strings"
	"unicode"
)

// Secret resolves the key's secret from exactly one of its sources: the
// inline key, the file key_file (trailing whitespace trimmed) or the
// environment variable key_env. getenv and readFile default to os.Getenv
// and os.ReadFile when nil. Errors name the key by its name and never
// contain the secret.
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
		return "", fmt.Errorf("configs: auth key %q: exactly one of key, key_file, key_env must be set", k.Name)
	}
	switch {
	case k.Key != "":
		return k.Key, nil
	case k.KeyFile != "":
		b, err := readFile(k.KeyFile)
		if err != nil {
			return "", fmt.Errorf("configs: auth key %q: reading key_file: %w", k.Name, err)
		}
		s := strings.TrimRightFunc(string(b), unicode.IsSpace)
		if s == "" {
			return "", fmt.Errorf("configs: auth key %q: key_file %q is empty", k.Name, k.KeyFile)
		}
		return s, nil
	default:
		s := getenv(k.KeyEnv)
		if s == "" {
			return "", fmt.Errorf("configs: auth key %q: environment variable %q is unset or empty", k.Name, k.KeyEnv)
		}
		return s, nil
	}
}
