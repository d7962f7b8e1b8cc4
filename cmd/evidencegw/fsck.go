package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"
	"k8s.io/klog/v2"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/tesseralog"
	"github.com/evidencegw/evidencegw/storage"
)

// log fsck is the operator's check of the custody log against the stored events, and
// the repair of the embedded log's entry bundles (docs/log.md, "Recovering the
// embedded log"). Like keys rotate it opens the backends of the configuration, not the
// API; unlike serve it opens the embedded log read-only, and signs nothing there (the
// Trillian log's client signs a newer Trillian root it verified, as every replica
// does).

// fsckOptions are the flags of log fsck.
type fsckOptions struct {
	configPath, dataDir string
	rebuild             bool
}

func (a *app) newLogFsckCmd() *cobra.Command {
	var o fsckOptions
	cmd := &cobra.Command{
		Use:   "fsck [--config FILE] [--data DIR] [--rebuild] [--json]",
		Short: "Check the custody log against the stored events (operator)",
		Long: `Check the custody log and every stored custody event, on the gateway's backends (run
it where the gateway runs, with its configuration; no identity):

  log       the embedded log's files against the newest checkpoint in the store, as the
            gateway does when it starts: no rollback or fork, every tile and entry
            bundle recomputes to the log's checkpoint; it names each file that is
            missing or wrong
  exhibits  every stored chain verified in full: signatures, chain, log inclusion
  leaves    every leaf of the log up to its checkpoint is a stored event's

Stop an embedded gateway first: the embedded log is read while no process writes it.
With --rebuild, entry bundles of the embedded log that are missing or wrong under
intact tiles are written again from the stored events, and the log is checked again.
Damaged tiles, a rollback or a fork are not rebuilt: restore the log from a backup.

Exit status 0: everything is intact; 3: damage was found (and, with --rebuild, not
repaired); 1: the check could not run.`,
		Example: `  evidencegw log fsck --data ./evidencegw-data
  evidencegw log fsck --config gateway.yaml --data /var/lib/evidencegw --rebuild`,
		Args:              positional(),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.logFsck(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.configPath, "config", "", "the gateway's YAML configuration `FILE` (default: the embedded default)")
	fs.StringVar(&o.dataDir, "data", "./evidencegw-data", "the gateway's data `DIR`")
	fs.BoolVar(&o.rebuild, "rebuild", false, "rewrite the embedded log's damaged entry bundles from the stored events, then check again")
	// The log group's --identity means nothing here: hide it.
	fs.String("identity", "", "")
	must(fs.MarkHidden("identity"))
	must(cmd.MarkFlagDirname("data"))
	return cmd
}

// logFsck runs log fsck and prints its report. Damage is an error matching
// custody.ErrVerification (exit status 3).
func (a *app) logFsck(ctx context.Context, o fsckOptions) error {
	cfg := defaultConfig()
	if o.configPath != "" {
		var err error
		if cfg, err = loadConfig(o.configPath); err != nil {
			return err
		}
	}
	if o.rebuild && cfg.Backends.Log.Type == "trillian" {
		return usagef("--rebuild repairs the embedded log only: the configuration's log is Trillian")
	}
	if err := checkDataDir(cfg, o.dataDir); err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(a.env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	klog.SetSlogLogger(logger.With("component", "log-backend"))
	bar := a.fsckProgress()
	res, err := runFsck(ctx, cfg, o, logger, bar.update)
	bar.end()
	if err != nil {
		return err
	}
	if err := a.printFsck(res); err != nil {
		return err
	}
	if res.Intact {
		return nil
	}
	return fmt.Errorf("%s: %w", res.summary(), custody.ErrVerification)
}

// runFsck opens the backends of cfg, checks the log and then, if it is intact, the
// exhibits and the leaves. It fails only when a check could not run.
func runFsck(ctx context.Context, cfg Config, o fsckOptions, logger *slog.Logger, progress exhibit.ProgressFunc) (*fsckResult, error) {
	res := &fsckResult{}
	var be *backends
	var err error
	if cfg.Backends.Log.Type == "trillian" {
		res.Log = &fsckLogView{Backend: "trillian"}
		be, err = openBackends(ctx, cfg, o.dataDir, logger, asOperator)
		if errors.Is(err, ledger.ErrSecurity) {
			// The log client refused Trillian's root against the stored checkpoints.
			res.Log.Damage = &damageView{Kind: "security", Detail: err.Error()}
			res.NotChecked = notCheckedDamagedLog
			return res, nil
		}
	} else {
		be, err = fsckEmbedded(ctx, cfg, o, logger, res, progress)
	}
	if err != nil {
		return nil, err
	}
	defer be.close(context.WithoutCancel(ctx))
	if be.log == nil {
		return res, nil
	}
	return res, fsckExhibits(ctx, cfg, be, res, progress)
}

// notCheckedDamagedLog is why the exhibits and leaves are not checked on a damaged log.
const notCheckedDamagedLog = "they are verified against the log, which is damaged"

// checkDataDir refuses a data directory that does not hold what the configuration
// keeps there, rather than creating a new gateway's keys and store in it.
func checkDataDir(cfg Config, dataDir string) error {
	var need []string
	if cfg.Backends.Storage.Type != "s3" {
		need = append(need, "store")
	}
	if cfg.Backends.Keys.Type != "vault" {
		need = append(need, filepath.Join("keys", keys.CheckpointKeyFile))
	}
	for _, p := range need {
		if _, err := os.Stat(filepath.Join(dataDir, p)); err != nil {
			return fmt.Errorf("%s holds no %s: give the gateway's data directory with --data", dataDir, p)
		}
	}
	return nil
}

// fsckEmbedded checks the embedded log, rebuilds it if asked, and returns the backends
// with the log opened read-only if it is intact (be.log nil if it is not).
func fsckEmbedded(ctx context.Context, cfg Config, o fsckOptions, logger *slog.Logger, res *fsckResult, progress exhibit.ProgressFunc) (*backends, error) {
	store, err := openStore(ctx, cfg.Backends.Storage, o.dataDir, logger, asOperator)
	if err != nil {
		return nil, err
	}
	ks, err := openKeys(ctx, cfg, o.dataDir, logger)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(ks.checkpointVerifierKey)
	if err != nil {
		return nil, fmt.Errorf("checkpoint verifier key: %w", err)
	}
	tcfg := tesseralog.Config{Dir: filepath.Join(o.dataDir, "log"), Verifier: v, Checkpoints: exhibit.NewCheckpointStore(store), Logger: logger}
	rep, err := tesseralog.Check(ctx, tcfg)
	if err != nil && !errors.Is(err, ledger.ErrSecurity) {
		return nil, fmt.Errorf("checking the embedded log: %w", err)
	}
	res.Log = logView(rep)
	if rep.Damage != nil && o.rebuild {
		if rep, err = rebuildEmbedded(ctx, tcfg, store, rep, res, progress); err != nil {
			return nil, err
		}
	}
	be := &backends{store: store, dataKeys: ks.dataKeys, rotator: ks.rotator, signer: ks.signer, eventKeys: ks.eventKeys,
		checkpointVerifierKey: ks.checkpointVerifierKey}
	if err := be.openTrust(cfg, o.dataDir); err != nil {
		return nil, err
	}
	if ro, err := rep.ReadOnly(); err == nil {
		be.log = ro
	} else {
		res.NotChecked = notCheckedDamagedLog
	}
	return be, nil
}

// rebuildEmbedded runs tesseralog.Rebuild with the leaves of the stored events on the
// log whose check is before, records what it did in res, and returns the check of the
// log afterwards (before itself if the rebuild was refused).
func rebuildEmbedded(ctx context.Context, tcfg tesseralog.Config, store storage.Store, before *tesseralog.CheckReport, res *fsckResult, progress exhibit.ProgressFunc) (*tesseralog.CheckReport, error) {
	leaves, err := exhibit.ReadStoredLeaves(ctx, store, progress)
	if err != nil {
		return nil, err
	}
	rb, err := tesseralog.Rebuild(ctx, tcfg, leaves.Leaf)
	switch {
	case errors.Is(err, ledger.ErrSecurity):
		res.Log.Rebuild = &fsckRebuildView{Refused: err.Error()}
		return before, nil
	case err != nil:
		return nil, fmt.Errorf("rebuilding the embedded log: %w", err)
	}
	found := res.Log
	res.Log = logView(rb.Check)
	res.Log.Rebuild = &fsckRebuildView{Rewritten: rb.Rewritten, Damage: found.Damage, DamagedFiles: found.DamagedFiles}
	return rb.Check, nil
}

// fsckExhibits runs exhibit.Fsck on the backends and records what it found.
func fsckExhibits(ctx context.Context, cfg Config, be *backends, res *fsckResult, progress exhibit.ProgressFunc) error {
	svc, err := newService(cfg, be, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return err
	}
	rep, err := svc.Fsck(ctx, progress)
	if errors.Is(err, ledger.ErrSecurity) {
		res.NotChecked = "the check stopped at damage of the log: " + err.Error()
		res.Log.Damage = &damageView{Kind: "security", Detail: err.Error()}
		return nil
	}
	if err != nil {
		return err
	}
	res.setExhibits(rep)
	return nil
}

// fsckResult is what log fsck found, printed as text or, with --json, as JSON.
type fsckResult struct {
	Log      *fsckLogView      `json:"log"`
	Exhibits *fsckExhibitsView `json:"exhibits,omitempty"`
	Leaves   *fsckLeavesView   `json:"leaves,omitempty"`
	// NotChecked says why the exhibits and leaves were not checked.
	NotChecked string `json:"not_checked,omitempty"`
	Intact     bool   `json:"intact"`
}

// fsckLogView is the check of the log's own files (the embedded log's; Trillian's log
// client checks its stored checkpoints against Trillian's root when it opens).
type fsckLogView struct {
	Backend          string           `json:"backend"`
	Dir              string           `json:"dir,omitempty"`
	StoredCheckpoint *checkpointView  `json:"stored_checkpoint,omitempty"`
	Checkpoint       *checkpointView  `json:"checkpoint,omitempty"`
	TilesIntact      bool             `json:"tiles_intact,omitempty"`
	Damage           *damageView      `json:"damage,omitempty"`
	DamagedFiles     []fileView       `json:"damaged_files,omitempty"`
	Rebuild          *fsckRebuildView `json:"rebuild,omitempty"`
}

// fsckRebuildView is what --rebuild did: the files it rewrote and the damage found
// before, or why it refused.
type fsckRebuildView struct {
	Rewritten    []string    `json:"rewritten,omitempty"`
	Damage       *damageView `json:"damage,omitempty"`
	DamagedFiles []fileView  `json:"damaged_files,omitempty"`
	Refused      string      `json:"refused,omitempty"`
}

type checkpointView struct {
	Size uint64 `json:"size"`
	Root []byte `json:"root"`
}

type damageView struct {
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

type fileView struct {
	Path    string `json:"path"`
	First   uint64 `json:"first_leaf,omitempty"`
	Count   uint64 `json:"leaves,omitempty"`
	Missing bool   `json:"missing,omitempty"`
	Reason  string `json:"reason"`
	text    string
}

type fsckExhibitsView struct {
	Checked int                 `json:"checked"`
	Events  int                 `json:"events"`
	Damaged []exhibitDamageView `json:"damaged"`
	Pending []pendingEventView  `json:"pending"`
}

type exhibitDamageView struct {
	EvidenceID string `json:"evidence_id"`
	Seq        uint64 `json:"seq"`
	Digest     string `json:"digest,omitempty"`
	Reason     string `json:"reason"`
}

type pendingEventView struct {
	EvidenceID string `json:"evidence_id"`
	Seq        uint64 `json:"seq"`
}

type fsckLeavesView struct {
	Checked            bool     `json:"checked"`
	Size               uint64   `json:"size"`
	Root               []byte   `json:"root,omitempty"`
	Damage             string   `json:"damage,omitempty"`
	Explained          uint64   `json:"explained"`
	Repeats            uint64   `json:"repeats"`
	Unexplained        uint64   `json:"unexplained"`
	UnexplainedIndexes []uint64 `json:"unexplained_indexes,omitempty"`
}

// logView is the view of a check of the embedded log.
func logView(r *tesseralog.CheckReport) *fsckLogView {
	v := &fsckLogView{Backend: "embedded", Dir: r.Dir, TilesIntact: r.TilesIntact}
	if r.Stored.Note != nil {
		v.StoredCheckpoint = &checkpointView{Size: r.Stored.Size, Root: r.Stored.Hash}
	}
	if r.Found.Note != nil {
		v.Checkpoint = &checkpointView{Size: r.Found.Size, Root: r.Found.Hash}
	}
	if r.Damage != nil {
		v.Damage = &damageView{Kind: r.Damage.Kind, Detail: r.Damage.Detail}
	}
	for _, d := range append(append([]tesseralog.FileDamage{}, r.Tiles...), r.Bundles...) {
		v.DamagedFiles = append(v.DamagedFiles, fileView{Path: d.Path, First: d.First, Count: d.N, Missing: d.Missing, Reason: d.Reason, text: d.String()})
	}
	return v
}

// setExhibits records the report of exhibit.Fsck, and whether everything is intact.
func (res *fsckResult) setExhibits(r exhibit.FsckReport) {
	ex := &fsckExhibitsView{Checked: r.Exhibits, Events: r.Events, Damaged: []exhibitDamageView{}, Pending: []pendingEventView{}}
	for _, d := range r.Damaged {
		ex.Damaged = append(ex.Damaged, exhibitDamageView{EvidenceID: d.EvidenceID, Seq: d.Seq, Digest: d.Digest, Reason: d.Reason})
	}
	for _, p := range r.Pending {
		ex.Pending = append(ex.Pending, pendingEventView{EvidenceID: p.EvidenceID, Seq: p.Seq})
	}
	res.Exhibits = ex
	res.Leaves = &fsckLeavesView{Checked: r.LogChecked, Size: r.LogSize, Root: r.LogRoot, Damage: r.LogDamage,
		Explained: r.Explained, Repeats: r.Repeats, Unexplained: r.Unexplained, UnexplainedIndexes: r.UnexplainedIndexes}
	res.Intact = r.Intact() && (res.Log == nil || res.Log.Damage == nil)
}

// summary says in one line what damage was found, for the error.
func (res *fsckResult) summary() string {
	var found []string
	if l := res.Log; l != nil && l.Damage != nil {
		s := fmt.Sprintf("the embedded log is damaged (%s): %s", l.Damage.Kind, l.Damage.Detail)
		if l.Rebuild != nil && l.Rebuild.Refused != "" {
			s = "the embedded log is damaged and was not rebuilt: " + l.Rebuild.Refused
		}
		found = append(found, s)
	}
	if res.NotChecked != "" && (res.Log == nil || res.Log.Damage == nil) {
		found = append(found, res.NotChecked)
	}
	if ex := res.Exhibits; ex != nil && len(ex.Damaged) > 0 {
		d := ex.Damaged[0]
		found = append(found, fmt.Sprintf("%d custody chains failed verification (%s at event %d: %s)", len(ex.Damaged), d.EvidenceID, d.Seq, d.Reason))
	}
	if lv := res.Leaves; lv != nil && lv.Damage != "" {
		found = append(found, "the log's leaves: "+lv.Damage)
	}
	if lv := res.Leaves; lv != nil && lv.Unexplained > 0 {
		found = append(found, fmt.Sprintf("%d leaves of the log are explained by no stored custody event", lv.Unexplained))
	}
	return "log fsck found damage: " + strings.Join(found, "; ")
}

// printFsck prints the report: JSON with --json, else text.
func (a *app) printFsck(res *fsckResult) error {
	if a.json {
		return a.printJSON(res)
	}
	var b strings.Builder
	writeFsckLog(&b, res.Log)
	if res.NotChecked != "" {
		fmt.Fprintf(&b, "exhibits and leaves: not checked: %s\n", res.NotChecked)
	}
	writeFsckExhibits(&b, res.Exhibits)
	writeFsckLeaves(&b, res.Leaves)
	if res.Intact {
		b.WriteString("RESULT INTACT\n")
	} else {
		b.WriteString("RESULT DAMAGED\n")
	}
	_, err := io.WriteString(a.env.stdout, b.String())
	return err
}

func writeFsckLog(w io.Writer, l *fsckLogView) {
	if l.Backend == "trillian" {
		fmt.Fprintln(w, "log: Trillian (its client checked the stored checkpoints against Trillian's root when it opened)")
		return
	}
	fmt.Fprintf(w, "log: embedded, %s\n", l.Dir)
	fmt.Fprintf(w, "  newest stored checkpoint: %s\n", checkpointText(l.StoredCheckpoint))
	fmt.Fprintf(w, "  log's checkpoint:         %s\n", checkpointText(l.Checkpoint))
	if rb := l.Rebuild; rb != nil && rb.Damage != nil {
		writeLogDamage(w, rb.Damage, rb.DamagedFiles)
		fmt.Fprintf(w, "  rebuilt from the stored custody events: %s\n", strings.Join(rb.Rewritten, ", "))
		fmt.Fprint(w, "  checked again:")
		if l.Damage == nil {
			fmt.Fprint(w, " intact\n")
			return
		}
		fmt.Fprintln(w)
	}
	if l.Damage == nil {
		fmt.Fprintln(w, "  intact")
		return
	}
	writeLogDamage(w, l.Damage, l.DamagedFiles)
	switch {
	case l.Rebuild != nil && l.Rebuild.Refused != "":
		fmt.Fprintf(w, "  not rebuilt: %s\n", l.Rebuild.Refused)
	case l.TilesIntact:
		fmt.Fprintln(w, "  the tiles are intact: 'evidencegw log fsck --rebuild' rewrites the entry bundles from the stored custody events")
	default:
		fmt.Fprintln(w, "  only a backup restores it (docs/log.md, \"Recovering the embedded log\")")
	}
}

func writeLogDamage(w io.Writer, d *damageView, files []fileView) {
	if len(files) == 0 {
		fmt.Fprintf(w, "  DAMAGED (%s): %s\n", d.Kind, d.Detail)
		return
	}
	plural := "s"
	if len(files) == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "  DAMAGED (%s): %d file%s missing or wrong:\n", d.Kind, len(files), plural)
	for _, f := range files {
		fmt.Fprintf(w, "    %s\n", f.text)
	}
}

func checkpointText(cp *checkpointView) string {
	if cp == nil {
		return "none"
	}
	return fmt.Sprintf("size %d, root %s", cp.Size, base64.StdEncoding.EncodeToString(cp.Root))
}

func writeFsckExhibits(w io.Writer, ex *fsckExhibitsView) {
	if ex == nil {
		return
	}
	fmt.Fprintf(w, "exhibits: %d checked, %d stored events\n", ex.Checked, ex.Events)
	for _, d := range ex.Damaged {
		digest := ""
		if d.Digest != "" {
			digest = " (digest " + d.Digest + ")"
		}
		fmt.Fprintf(w, "  DAMAGED %s at event %d%s: %s\n", d.EvidenceID, d.Seq, digest, d.Reason)
	}
	for _, p := range ex.Pending {
		fmt.Fprintf(w, "  pending %s event %d: stored, not yet in the log (the gateway appends it when it next loads the exhibit)\n", p.EvidenceID, p.Seq)
	}
}

func writeFsckLeaves(w io.Writer, lv *fsckLeavesView) {
	if lv == nil {
		return
	}
	if !lv.Checked {
		fmt.Fprintln(w, "leaves: not checked: the log does not serve its leaves")
		return
	}
	fmt.Fprintf(w, "leaves: %d, up to the log's checkpoint of size %d: %d explained by their events, %d repeated, %d unexplained\n",
		lv.Explained+lv.Repeats+lv.Unexplained, lv.Size, lv.Explained, lv.Repeats, lv.Unexplained)
	if lv.Damage != "" {
		fmt.Fprintf(w, "  DAMAGED: %s\n", lv.Damage)
	}
	if lv.Unexplained > 0 {
		idx := make([]string, len(lv.UnexplainedIndexes))
		for i, n := range lv.UnexplainedIndexes {
			idx[i] = fmt.Sprint(n)
		}
		more := ""
		if lv.Unexplained > uint64(len(idx)) {
			more = ", ..."
		}
		fmt.Fprintf(w, "  UNEXPLAINED leaves at log indexes %s%s\n", strings.Join(idx, ", "), more)
	}
}

// fsckProgress returns the progress bar of log fsck: nil (none) unless stderr is a
// terminal and the output is not JSON.
func (a *app) fsckProgress() *countBar {
	if !a.env.terminal || a.json {
		return nil
	}
	return &countBar{w: a.env.stderr, now: a.env.now}
}

// countBar draws the progress of log fsck on one terminal line: the phase, the
// percentage and the count of items, and the time left. A nil *countBar draws nothing.
// It is not safe for concurrent use.
type countBar struct {
	w     io.Writer
	now   func() time.Time
	phase string
	start time.Time
	last  time.Time
	drawn bool
}

// update is an exhibit.ProgressFunc.
func (b *countBar) update(phase string, done, total int64) {
	if b == nil {
		return
	}
	now := b.now()
	if phase != b.phase {
		b.end()
		b.phase, b.start = phase, now
	}
	if done < total && b.drawn && now.Sub(b.last) < progressInterval {
		return
	}
	pct, eta := 100.0, "--:--"
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	switch elapsed := now.Sub(b.start); {
	case done >= total:
		eta = formatDuration(0)
	case done > 0 && elapsed > 0:
		eta = formatDuration(time.Duration(float64(elapsed) / float64(done) * float64(total-done)))
	}
	fmt.Fprintf(b.w, "\rchecking %-8s %5.1f%%  %d / %d  ETA %s\x1b[K", phase, pct, done, total, eta)
	b.last, b.drawn = now, true
	if done >= total {
		b.end()
	}
}

// end ends the line on screen, if any.
func (b *countBar) end() {
	if b != nil && b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}
