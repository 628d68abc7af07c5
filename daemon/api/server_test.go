package api

import (
	"strings"
	"testing"
)

// New refuses Deps missing a required dependency, naming it.
func TestNewNamesAMissingDependency(t *testing.T) {
	_, err := New(Deps{})
	if err == nil || !strings.Contains(err.Error(), "Deps.Log is required") {
		t.Fatalf("New(Deps{}) = %v, want the missing Log named", err)
	}
}
