// Package procstat reads a Linux process's resident set from /proc, for the tests and
// benchmarks that bound memory: its current size, its high-water mark, and a reset of
// that mark.
package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// RSS returns the resident set of process pid (VmRSS), in bytes.
func RSS(pid int) (int64, error) { return field(pid, "VmRSS") }

// PeakRSS returns the high-water mark of the resident set of process pid (VmHWM), in
// bytes.
func PeakRSS(pid int) (int64, error) { return field(pid, "VmHWM") }

// ResetPeakRSS resets the high-water mark of process pid to its current resident set,
// so that a later PeakRSS reads the peak since (clear_refs 5).
func ResetPeakRSS(pid int) error {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return fmt.Errorf("resetting the peak resident set: %w", err)
	}
	return nil
}

// field returns a kB field of /proc/pid/status in bytes.
func field(pid int, name string) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s in /proc/%d/status: %w", name, pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", name, pid)
}
