package main

import (
	"strings"
	"testing"
	"time"
)

func TestCountBar(t *testing.T) {
	var b strings.Builder
	now := time.Unix(0, 0)
	bar := &countBar{w: &b, now: func() time.Time { return now }}
	bar.update("exhibits", 0, 4)
	now = now.Add(10 * time.Millisecond)
	bar.update("exhibits", 1, 4) // too soon after the last line: not drawn
	now = now.Add(time.Second)
	bar.update("exhibits", 2, 4)
	bar.update("exhibits", 4, 4) // the end is always drawn, and ends the line
	bar.update("leaves", 1024, 2048)
	bar.end()
	want := "\rchecking exhibits   0.0%  0 / 4  ETA --:--\x1b[K" +
		"\rchecking exhibits  50.0%  2 / 4  ETA 0:01\x1b[K" +
		"\rchecking exhibits 100.0%  4 / 4  ETA 0:00\x1b[K\n" +
		"\rchecking leaves    50.0%  1024 / 2048  ETA --:--\x1b[K\n"
	if got := b.String(); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	var none *countBar // no terminal: nothing drawn, nothing fails
	none.update("leaves", 1, 2)
	none.end()
}

func TestFsckTextReport(t *testing.T) {
	res := &fsckResult{
		Log: &fsckLogView{Backend: "embedded", Dir: "data/log", StoredCheckpoint: &checkpointView{Size: 3, Root: []byte{1}},
			Checkpoint: &checkpointView{Size: 3, Root: []byte{1}}, Damage: &damageView{Kind: "corrupt", Detail: "..."},
			DamagedFiles: []fileView{{text: "hash tile tile/1/000.p/1 is missing"}},
			Rebuild:      &fsckRebuildView{Refused: "cannot rebuild the log: restore the log directory from a backup"}},
		NotChecked: "they are verified against the log, which is damaged",
	}
	var b strings.Builder
	a := &app{env: clientEnv{stdout: &b}}
	if err := a.printFsck(res); err != nil {
		t.Fatal(err)
	}
	want := `log: embedded, data/log
  newest stored checkpoint: size 3, root AQ==
  log's checkpoint:         size 3, root AQ==
  DAMAGED (corrupt): 1 file missing or wrong:
    hash tile tile/1/000.p/1 is missing
  not rebuilt: cannot rebuild the log: restore the log directory from a backup
exhibits and leaves: not checked: they are verified against the log, which is damaged
RESULT DAMAGED
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got, want := res.summary(), "log fsck found damage: the embedded log is damaged and was not rebuilt: cannot rebuild the log: restore the log directory from a backup"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}
