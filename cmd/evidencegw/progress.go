package main

import (
	"fmt"
	"io"
	"time"
)

// progressInterval is the least time between two redraws of a progress bar: about
// ten a second, smooth to the eye without flooding a slow terminal.
const progressInterval = 100 * time.Millisecond

// progressBar draws the progress of hashing, uploading and downloading on one
// terminal line: phase, percentage, bytes, rate and time left. It is not safe for
// concurrent use; the client reports from one goroutine at a time.
type progressBar struct {
	w        io.Writer
	now      func() time.Time
	phase    string
	start    time.Time
	base     int64 // done at the phase's first report: a resumed download starts there
	last     time.Time
	drawn    bool // a line of the current phase is on screen, not yet ended
	finished bool // the current phase reached its total
}

func newProgressBar(w io.Writer, now func() time.Time) *progressBar {
	return &progressBar{w: w, now: now}
}

// update is a client.ProgressFunc.
func (p *progressBar) update(phase string, done, total int64) {
	now := p.now()
	if phase != p.phase {
		p.endLine()
		p.phase, p.start, p.last, p.finished, p.base = phase, now, time.Time{}, false, done
	}
	complete := total >= 0 && done >= total
	if p.finished || (!complete && p.drawn && now.Sub(p.last) < progressInterval) {
		return
	}
	fmt.Fprintf(p.w, "\r%s\x1b[K", progressLineFrom(phase, p.base, done, total, now.Sub(p.start)))
	p.last, p.drawn = now, true
	if complete {
		p.endLine()
		p.finished = true
	}
}

// endLine ends the line on screen, if any.
func (p *progressBar) endLine() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// progressLine renders one state: "uploading   42.0%  4.2 GB / 10.0 GB  110.5 MB/s  ETA 0:52".
// A negative total means unknown.
func progressLine(phase string, done, total int64, elapsed time.Duration) string {
	return progressLineFrom(phase, 0, done, total, elapsed)
}

// progressLineFrom is progressLine for a phase that started at base bytes (a resumed
// download): the rate and the time left count only the bytes moved since.
func progressLineFrom(phase string, base, done, total int64, elapsed time.Duration) string {
	var rate float64
	if secs := elapsed.Seconds(); secs > 0 {
		rate = float64(done-base) / secs
	}
	if total < 0 {
		return fmt.Sprintf("%-11s %s  %s/s", phase, formatBytes(done), formatBytes(int64(rate)))
	}
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	eta := "--:--"
	if rate > 0 {
		eta = formatDuration(time.Duration(float64(total-done) / rate * float64(time.Second)))
	}
	return fmt.Sprintf("%-11s %5.1f%%  %s / %s  %s/s  ETA %s", phase, pct, formatBytes(done), formatBytes(total),
		formatBytes(int64(rate)), eta)
}

// formatBytes renders a byte count in decimal units (kB, MB, GB, TB).
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 3 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %s", v, []string{"kB", "MB", "GB", "TB"}[i])
}

// formatDuration renders a duration as m:ss or h:mm:ss.
func formatDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
