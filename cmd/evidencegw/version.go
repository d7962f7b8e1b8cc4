package main

import (
	"runtime/debug"
	"strings"
)

// buildVersion describes the build from its build information: the module version
// when it was built as a module (go install ...@v1.2.0), otherwise "devel" with the
// VCS revision and whether the work tree had local changes, when the build recorded
// them; then the Go version.
func buildVersion(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return "unknown (no build information)"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v + ", " + bi.GoVersion
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	parts := []string{"devel"}
	if rev != "" {
		parts = append(parts, "rev "+rev)
		if modified == "true" {
			parts = append(parts, "(modified)")
		}
	}
	return strings.Join(parts, " ") + ", " + bi.GoVersion
}
