package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressBarThrottlesAndEnds(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bar := newProgressBar(&out, func() time.Time { return now })
	const total = 1000 * 1000 * 1000
	bar.update("hashing", 0, total)
	for i := 1; i <= 100; i++ { // 100 reports over 1 s: about 10 draws
		now = now.Add(10 * time.Millisecond)
		bar.update("hashing", int64(i)*total/100, total)
	}
	bar.update("hashing", total, total) // a repeat after completion draws nothing
	now = now.Add(time.Second)
	bar.update("uploading", 0, total)
	bar.update("uploading", total/2, total) // throttled: too soon after the first draw

	s := out.String()
	draws := strings.Count(s, "\r")
	if draws < 10 || draws > 13 {
		t.Errorf("%d draws for 1 s of hashing and the start of an upload, want about 12:\n%q", draws, s)
	}
	lines := strings.Split(s, "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "100.0%") || !strings.HasPrefix(lines[1], "\ruploading") {
		t.Errorf("want a finished hashing line then an unfinished uploading one, got %q", lines)
	}
	if !strings.Contains(lines[0], "1.0 GB / 1.0 GB") || !strings.Contains(lines[0], "1.0 GB/s") {
		t.Errorf("final hashing line %q lacks bytes or rate", lines[0])
	}
}

func TestProgressLine(t *testing.T) {
	tests := []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{0, 10e9, 0, "uploading     0.0%  0 B / 10.0 GB  0 B/s  ETA --:--"},
		{4.2e9, 10e9, 42 * time.Second, "uploading    42.0%  4.2 GB / 10.0 GB  100.0 MB/s  ETA 0:58"},
		{1e9, 100e9, 10 * time.Second, "uploading     1.0%  1.0 GB / 100.0 GB  100.0 MB/s  ETA 16:30"},
		{1e6, 10e12, time.Second, "uploading     0.0%  1.0 MB / 10.0 TB  1.0 MB/s  ETA 2777:46:39"},
		{5e6, -1, time.Second, "uploading   5.0 MB  5.0 MB/s"},
	}
	for _, tt := range tests {
		if got := progressLine("uploading", tt.done, tt.total, tt.elapsed); got != tt.want {
			t.Errorf("progressLine(%d, %d, %s) = %q, want %q", tt.done, tt.total, tt.elapsed, got, tt.want)
		}
	}
}

// TestProgressResumed: a download resumed at half its size shows its percentage from
// there, and a rate and time left of the bytes it moves, not of those it had.
func TestProgressResumed(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bar := newProgressBar(&out, func() time.Time { return now })
	const total = 10e9
	bar.update("downloading", 5e9, total)
	now = now.Add(10 * time.Second)
	bar.update("downloading", 6e9, total)
	lines := strings.Split(out.String(), "\r")
	if first := lines[1]; !strings.Contains(first, " 50.0%") {
		t.Errorf("first line %q, want 50.0%%", first)
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "100.0 MB/s") || !strings.Contains(last, "ETA 0:40") {
		t.Errorf("line %q, want the rate of the bytes moved since the resume (100.0 MB/s) and 40 s left", last)
	}
}
