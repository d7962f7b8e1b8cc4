package verifycmd

import (
	"fmt"
	"io"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/internal/report"
)

// LogCheck is what the checks across bundles and against a log snapshot established.
type LogCheck struct {
	// OtherBundles are the further bundles, all verified.
	OtherBundles []OtherBundle `json:"other_bundles,omitempty"`
	// CheckpointSizes are the distinct tree sizes of all bundles' checkpoints, which
	// agree wherever they share a size and wherever a carried consistency proof joins
	// two of them.
	CheckpointSizes []uint64 `json:"checkpoint_sizes"`
	// Completeness is the completeness of each bundle, with a log snapshot.
	Completeness []BundleCompleteness `json:"completeness,omitempty"`
	// Unchecked says what could not be checked without a log snapshot.
	Unchecked string `json:"unchecked,omitempty"`
}

// OtherBundle is one further verified bundle.
type OtherBundle struct {
	Path       string `json:"path"`
	EvidenceID string `json:"evidence_id"`
	Events     int    `json:"events"`
}

// BundleCompleteness is the completeness of one bundle against the log snapshot.
type BundleCompleteness struct {
	Path        string `json:"path"`
	EvidenceID  string `json:"evidence_id"`
	LogSize     uint64 `json:"log_size"`
	BundleSize  uint64 `json:"bundle_size"`
	LaterEvents int    `json:"later_events"`
	Republished int    `json:"republished"`
}

// checkLog verifies the other bundles, checks that all checkpoints agree and, with a
// log snapshot, that each bundle is complete and every checkpoint a prefix of the log.
func checkLog(o Options, primary *custody.Report) (*LogCheck, error) {
	tr, err := readTrustRootFollowed(o, &report.Meta{})
	if err != nil {
		return nil, err
	}
	policy, err := readWitnessPolicy(o.WitnessPolicyPath, &report.Meta{})
	if err != nil {
		return nil, err
	}
	lc := &LogCheck{}
	reports, paths := []*custody.Report{primary}, []string{o.BundlePath}
	for _, path := range o.OtherBundles {
		b, err := readBundle(path, &report.Meta{})
		if err != nil {
			return lc, err
		}
		r, err := custody.Verify(b, tr, custody.VerifyOptions{WitnessPolicy: policy})
		if err != nil {
			return lc, fmt.Errorf("verifying %s: %w", path, err)
		}
		reports, paths = append(reports, r), append(paths, path)
		lc.OtherBundles = append(lc.OtherBundles, OtherBundle{Path: path, EvidenceID: r.EvidenceID, Events: len(r.Events)})
	}
	var unjoined []uint64
	if lc.CheckpointSizes, unjoined, err = custody.CrossCheck(reports); err != nil {
		return lc, err
	}
	if o.LogSnapshotPath == "" {
		if len(unjoined) > 0 {
			lc.Unchecked = fmt.Sprintf("checkpoints of sizes %v were not joined to the latest by a consistency proof: export the newer bundle with --consistent-with the older ones, or give --log-snapshot FILE", unjoined)
		}
		return lc, nil
	}
	data, err := readFileMax(o.LogSnapshotPath, custody.MaxLogSnapshotSize)
	if err != nil {
		return lc, fmt.Errorf("reading log snapshot: %w", err)
	}
	snap, err := custody.ParseLogSnapshot(data)
	if err != nil {
		return lc, err
	}
	for i, r := range reports {
		c, err := custody.CheckCompleteness(r, snap, tr)
		if err != nil {
			return lc, fmt.Errorf("completeness of %s: %w", paths[i], err)
		}
		lc.Completeness = append(lc.Completeness, BundleCompleteness{Path: paths[i], EvidenceID: r.EvidenceID,
			LogSize: c.LogSize, BundleSize: c.BundleSize, LaterEvents: c.LaterEvents, Republished: c.Republished})
	}
	return lc, nil
}

// writeText writes the log checks as lines of tab-separated columns.
func (lc *LogCheck) writeText(w io.Writer) {
	for _, b := range lc.OtherBundles {
		fmt.Fprintf(w, "Also verified\t%s: %s, %d events\n", b.Path, b.EvidenceID, b.Events)
	}
	if len(lc.CheckpointSizes) > 0 {
		fmt.Fprintf(w, "Checkpoints\ttree sizes %v agree\n", lc.CheckpointSizes)
	}
	for _, c := range lc.Completeness {
		fmt.Fprintf(w, "Complete\t%s lists every event of %s up to tree size %d (log snapshot of size %d; %d later events, %d re-published)\n",
			c.Path, c.EvidenceID, c.BundleSize, c.LogSize, c.LaterEvents, c.Republished)
	}
	if lc.Unchecked != "" {
		fmt.Fprintf(w, "Not checked\t%s\n", lc.Unchecked)
	}
}

// sentences renders the log checks for the HTML report, with their status.
func (lc *LogCheck) sentences(err error) ([]string, string) {
	var out []string
	for _, b := range lc.OtherBundles {
		out = append(out, fmt.Sprintf("Also verified: %s (%s, %d events).", b.Path, b.EvidenceID, b.Events))
	}
	if len(lc.CheckpointSizes) > 0 {
		out = append(out, fmt.Sprintf("The checkpoints of tree sizes %v agree.", lc.CheckpointSizes))
	}
	for _, c := range lc.Completeness {
		out = append(out, fmt.Sprintf("%s lists every event of %s up to tree size %d (log snapshot of size %d; %d later events).",
			c.Path, c.EvidenceID, c.BundleSize, c.LogSize, c.LaterEvents))
	}
	status := "ok"
	if lc.Unchecked != "" {
		out, status = append(out, "Not checked: "+lc.Unchecked), "warn"
	}
	if err != nil {
		out, status = append(out, "FAILED: "+err.Error()), "fail"
	}
	return out, status
}
