package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
)

// RetentionConfig says how long each case's evidence is kept before it may be
// disposed of (docs/config.md#retention). Periods are written as a number and a unit:
// y (365 days), w, d, or a Go duration (72h, 90m, 30s).
type RetentionConfig struct {
	// Default is the retention period of a case without its own; default "10y".
	Default string `yaml:"default"`
	// Cases maps a case id to its own retention period.
	Cases map[string]string `yaml:"cases"`

	// periods is Default and Cases parsed by fill.
	periods exhibit.Retention
}

// Bounds of a retention period.
const (
	minRetention = time.Second
	maxRetention = 100 * 365 * 24 * time.Hour
)

// fill parses and checks the periods.
func (r *RetentionConfig) fill() error {
	if r.Default == "" {
		r.Default = "10y"
	}
	d, err := parsePeriod(r.Default)
	if err != nil {
		return fmt.Errorf("retention.default: %w", err)
	}
	r.periods = exhibit.Retention{Default: d, Cases: map[string]time.Duration{}}
	for _, c := range slices.Sorted(maps.Keys(r.Cases)) {
		if !custody.ValidCaseID(c) {
			return fmt.Errorf("retention.cases: %q is not a case id", c)
		}
		if r.periods.Cases[c], err = parsePeriod(r.Cases[c]); err != nil {
			return fmt.Errorf("retention.cases.%s: %w", c, err)
		}
	}
	return nil
}

// parsePeriod reads a retention period: a positive whole number of years (y, 365
// days), weeks (w) or days (d), or a Go duration; 1s to 100y.
func parsePeriod(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("period is empty: want 10y, 52w, 3650d or a duration such as 72h")
	}
	var d time.Duration
	units := map[byte]time.Duration{'y': 365 * 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'd': 24 * time.Hour}
	if u, ok := units[s[len(s)-1]]; ok && len(s) > 1 {
		n, err := strconv.ParseUint(s[:len(s)-1], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("period %q: want a whole number before %q", s, s[len(s)-1:])
		}
		if n > uint64(maxRetention/u) {
			return 0, fmt.Errorf("period %q: want 1s to 100y", s)
		}
		d = time.Duration(n) * u
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil || strings.HasPrefix(s, "-") {
			return 0, fmt.Errorf("period %q: want a number of years, weeks or days (10y, 52w, 3650d) or a duration (72h)", s)
		}
	}
	if d < minRetention || d > maxRetention {
		return 0, fmt.Errorf("period %q: want 1s to 100y", s)
	}
	return d, nil
}
