package verifycmd

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/internal/report"
)

// Options are the inputs of a verification.
type Options struct {
	// BundlePath is the court bundle to verify.
	BundlePath string
	// TrustRootPath is the pinned trust root.
	TrustRootPath string
	// TrustRootChainPath, if set, is a trust root chain (docs/bundle.md): the bundles
	// are verified against the latest version it leads to from the pinned trust root.
	TrustRootChainPath string
	// WitnessPolicyPath, if set, is the court's own witness policy (Sigsum format,
	// docs/bundle.md): every checkpoint of every bundle must meet it.
	WitnessPolicyPath string
	// EvidencePath, if set, is the evidence file whose SHA-256 must be the exhibit's.
	EvidencePath string
	// JSON selects the JSON report instead of the text one.
	JSON bool
	// HTMLPath, if set, is where to write the HTML report as well, whether the bundle
	// verifies or not.
	HTMLPath string
	// OtherBundles are further bundles of the same log: each must verify, and all
	// checkpoints must agree (CrossCheck).
	OtherBundles []string
	// LogSnapshotPath, if set, is a log snapshot against which the bundles' completeness
	// and the consistency of all their checkpoints are checked.
	LogSnapshotPath string
	// WrapContent, if set, wraps the evidence file as it is read (to show progress);
	// size is the file's length.
	WrapContent func(r io.Reader, size int64) io.Reader
}

// Register declares the input flags (--trust-root, --evidence, --log-snapshot) and
// --html on fs. The output flag --json is left to the caller, whose other commands may
// share it.
func (o *Options) Register(fs *pflag.FlagSet) {
	fs.StringVar(&o.TrustRootPath, "trust-root", "", "pinned trust root `FILE` (required)")
	fs.StringVar(&o.TrustRootChainPath, "trust-root-chain", "", "follow the pinned trust root to its latest version through the logged changes in `FILE` (evidencegw trust-root --chain)")
	fs.StringVar(&o.WitnessPolicyPath, "witness-policy", "", "the court's own witness policy `FILE`: every checkpoint must be cosigned as it requires")
	fs.StringVar(&o.EvidencePath, "evidence", "", "evidence `FILE` to check against the exhibit's SHA-256")
	fs.StringVar(&o.HTMLPath, "html", "", "also write a self-contained HTML report for the court to `FILE`")
	fs.StringVar(&o.LogSnapshotPath, "log-snapshot", "", "check completeness and log consistency against the log snapshot `FILE` (evidencegw log snapshot)")
}

// Synopsis is the command line of the verify command after its name.
const Synopsis = "BUNDLE [BUNDLE...] --trust-root FILE [--trust-root-chain FILE] [--witness-policy FILE] [--evidence FILE] [--log-snapshot FILE] [--html FILE] [--json]"

// Description says what verify does, for its help.
const Description = `Verify custody bundles offline against a pinned trust root: every event's signature,
the hash chain linking the events, and each event's inclusion in the transparency log
under a signed checkpoint. With --witness-policy, every checkpoint must also be
cosigned by the witnesses the court chose, whatever the trust root says. With
--trust-root-chain, the pinned trust root is followed to its latest version through its
logged changes, each of which must be in the log of the version before. With --evidence, the file's SHA-256 must be the exhibit's.
Further bundles of the same log are verified too, and all their checkpoints must agree;
with --log-snapshot, each bundle must list every event of its exhibit.

No identity and no network are needed: everything is checked against the trust root.`

// ExitStatus documents the exit statuses of verify, for its help.
const ExitStatus = `Exit status:
  0  verified
  1  could not verify: an input is missing, unreadable or cannot be parsed
  2  usage error: unknown flag, missing argument, invalid flag value
  3  verification failed: the custody or the evidence is proven bad`

// program is the name custody-verify reports itself under.
const program = "custody-verify"

// Main runs the command line args (everything after the program name) of
// custody-verify: it parses the flags, verifies and prints the report to stdout. It
// returns nil when everything verified or help was asked for (printed to stdout),
// otherwise an error for ExitCode.
func Main(args []string, stdout, stderr io.Writer) error {
	_, err := parseAndRun(args, stdout)
	return err
}

// Command runs the command line args of custody-verify like Main, prints its error on
// stderr and returns the exit status: the error as one line "custody-verify: message"
// (with a hint to --help after a usage error) or, under --json, as an ErrorJSON.
func Command(args []string, stdout, stderr io.Writer) int {
	jsonOut, err := parseAndRun(args, stdout)
	code := ExitCode(err)
	if code == ExitOK {
		return code
	}
	if jsonOut {
		ErrorJSON{Error: ErrorDetail{Message: err.Error(), ExitCode: code}}.Write(stderr)
		return code
	}
	fmt.Fprintf(stderr, "%s: %s\n", program, OneLine(err.Error()))
	if code == ExitUsage {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", program)
	}
	return code
}

// parseAndRun parses args and verifies. It returns whether --json was given, as far as
// the command line was parsed.
func parseAndRun(args []string, stdout io.Writer) (jsonOut bool, err error) {
	fs := pflag.NewFlagSet(program, pflag.ContinueOnError)
	var o Options
	o.Register(fs)
	fs.BoolVar(&o.JSON, "json", false, "print the report as JSON")
	fs.SortFlags = false
	// pflag calls Usage only for -h or --help: the help goes to stdout.
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: %s %s\n\n%s\n\nFlags:\n%s\n%s\n", program, Synopsis, Description, fs.FlagUsages(), ExitStatus)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return false, nil
		}
		return o.JSON, &UsageError{Msg: err.Error()}
	}
	if fs.NArg() == 0 {
		return o.JSON, Usagef("missing BUNDLE")
	}
	o.BundlePath, o.OtherBundles = fs.Arg(0), fs.Args()[1:]
	return o.JSON, Run(o, stdout)
}

// Run verifies the bundle of o and writes the report to stdout, and with o.HTMLPath
// the HTML report to that file. It returns a non-nil error, after writing the reports,
// if anything fails to verify: the error then wraps custody.ErrVerification. An input
// that cannot be read or parsed is a *CannotVerifyError; the text report is then
// written only if a bundle was verified before (the error says why, once).
func Run(o Options, stdout io.Writer) error {
	if o.TrustRootPath == "" {
		return Usagef("--trust-root is required")
	}
	meta := report.Meta{Generated: time.Now(), Tool: report.ToolVersion(), EvidenceName: o.EvidencePath}
	r, verr := verify(o, &meta)
	var lc *LogCheck
	if verr == nil && (len(o.OtherBundles) > 0 || o.LogSnapshotPath != "") {
		lc, verr = checkLog(o, r)
		meta.LogChecks, meta.LogCheckStatus = lc.sentences(verr)
	}
	if verr != nil && !IsVerificationFailure(verr) {
		verr = &CannotVerifyError{Err: verr}
	}
	var werr error
	switch {
	case o.JSON:
		werr = WriteJSON(stdout, r, verr, lc)
	case r != nil:
		werr = WriteText(stdout, r, verr, lc)
	}
	if o.HTMLPath != "" {
		werr = errors.Join(werr, writeHTMLFile(o.HTMLPath, r, verr, meta))
	}
	if verr != nil {
		return verr
	}
	return werr
}

// writeHTMLFile writes the HTML report to path.
func writeHTMLFile(path string, r *custody.Report, verr error, meta report.Meta) error {
	var buf bytes.Buffer
	if err := report.WriteHTML(&buf, r, verr, meta); err != nil {
		return err
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	return nil
}

// verify reads the inputs and runs custody.Verify. It records in meta the trust root
// and the names and SHA-256 of the files it read, for the HTML report.
func verify(o Options, meta *report.Meta) (*custody.Report, error) {
	meta.BundleName = o.BundlePath
	tr, err := readTrustRootFollowed(o, meta)
	if err != nil {
		return nil, err
	}
	b, err := readBundle(o.BundlePath, meta)
	if err != nil {
		return nil, err
	}
	var opts custody.VerifyOptions
	if opts.WitnessPolicy, err = readWitnessPolicy(o.WitnessPolicyPath, meta); err != nil {
		return nil, err
	}
	if o.EvidencePath != "" {
		f, err := os.Open(o.EvidencePath)
		if err != nil {
			return nil, fmt.Errorf("opening evidence file: %w", err)
		}
		defer f.Close()
		opts.Content = f
		if o.WrapContent != nil {
			if fi, err := f.Stat(); err == nil {
				opts.Content = o.WrapContent(f, fi.Size())
			}
		}
	}
	r, err := custody.Verify(b, tr, opts)
	if err != nil {
		return r, fmt.Errorf("verifying %s: %w", o.BundlePath, err)
	}
	return r, nil
}

// readTrustRootFollowed reads the pinned trust root and, with a trust root chain,
// follows it to the latest version the chain proves.
func readTrustRootFollowed(o Options, meta *report.Meta) (*custody.TrustRoot, error) {
	if o.TrustRootChainPath == "" {
		return readTrustRoot(o.TrustRootPath, meta)
	}
	pinned, err := readFileMax(o.TrustRootPath, custody.MaxTrustRootSize)
	if err != nil {
		return nil, fmt.Errorf("reading trust root: %w", err)
	}
	meta.TrustRootSHA256 = sha256Hex(pinned)
	data, err := readFileMax(o.TrustRootChainPath, custody.MaxTrustRootChainSize)
	if err != nil {
		return nil, fmt.Errorf("reading trust root chain: %w", err)
	}
	chain, err := custody.ParseTrustRootChain(data)
	if err != nil {
		return nil, fmt.Errorf("reading trust root chain %s: %w", o.TrustRootChainPath, err)
	}
	policy, err := readWitnessPolicy(o.WitnessPolicyPath, &report.Meta{})
	if err != nil {
		return nil, err
	}
	tr, _, err := custody.FollowTrustRootChain(pinned, chain, policy)
	if err != nil {
		if tr == nil {
			return nil, fmt.Errorf("reading trust root %s: %w", o.TrustRootPath, err)
		}
		return nil, fmt.Errorf("following trust root chain %s: %w", o.TrustRootChainPath, err)
	}
	meta.TrustRoot = tr
	return tr, nil
}

func readTrustRoot(path string, meta *report.Meta) (*custody.TrustRoot, error) {
	data, err := readFileMax(path, custody.MaxTrustRootSize)
	if err != nil {
		return nil, fmt.Errorf("reading trust root: %w", err)
	}
	meta.TrustRootSHA256 = sha256Hex(data)
	tr, err := custody.ParseTrustRoot(data)
	if err != nil {
		return nil, fmt.Errorf("reading trust root %s: %w", path, err)
	}
	meta.TrustRoot = tr
	return tr, nil
}

// readWitnessPolicy reads the court's witness policy; nil if path is "".
func readWitnessPolicy(path string, meta *report.Meta) (*custody.WitnessPolicy, error) {
	if path == "" {
		return nil, nil
	}
	data, err := readFileMax(path, custody.MaxWitnessPolicySize)
	if err != nil {
		return nil, fmt.Errorf("reading witness policy: %w", err)
	}
	p, err := custody.ParseWitnessPolicy(data)
	if err != nil {
		return nil, fmt.Errorf("reading witness policy %s: %w", path, err)
	}
	meta.WitnessPolicy, meta.WitnessPolicySHA256 = p, sha256Hex(data)
	return p, nil
}

func readBundle(path string, meta *report.Meta) (*custody.Bundle, error) {
	data, err := readFileMax(path, custody.MaxBundleSize)
	if err != nil {
		return nil, fmt.Errorf("reading bundle: %w", err)
	}
	meta.BundleSHA256 = sha256Hex(data)
	b, err := custody.ParseBundle(data)
	if err != nil {
		return nil, fmt.Errorf("reading bundle %s: %w", path, err)
	}
	return b, nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// readFileMax reads a file of at most limit bytes.
func readFileMax(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

// JSONReport is the JSON form of a verification report.
type JSONReport struct {
	// Verified is true only if every check passed.
	Verified bool `json:"verified"`
	// Error is the reason verification failed.
	Error          string `json:"error,omitempty"`
	EvidenceID     string `json:"evidence_id,omitempty"`
	CaseID         string `json:"case_id,omitempty"`
	SHA256         string `json:"sha256,omitempty"`
	Size           int64  `json:"size"`
	LogOrigin      string `json:"log_origin,omitempty"`
	ContentChecked bool   `json:"content_checked"`
	// CompletenessChecked is set when a log snapshot showed that no event of the
	// exhibit was left out of the bundle.
	CompletenessChecked bool        `json:"completeness_checked"`
	Events              []JSONEvent `json:"events"`
	// Unreceived lists the download events no signed receipt acknowledges.
	Unreceived []uint64 `json:"unreceived_downloads,omitempty"`
	// Log holds the checks across bundles and against a log snapshot, if asked for.
	Log *LogCheck `json:"log,omitempty"`
	// Acquisition is the forensic metadata of the verified register event, if any;
	// RetainUntil the end of the retention period it records.
	Acquisition *custody.Acquisition `json:"acquisition,omitempty"`
	RetainUntil *time.Time           `json:"retain_until,omitempty"`
	// Disposal is the first verified dispose event: the content and its data keys are
	// destroyed from then on.
	Disposal *JSONDisposal `json:"disposal,omitempty"`
}

// JSONDisposal is the disposal of a JSONReport.
type JSONDisposal struct {
	Seq       uint64        `json:"seq"`
	Time      time.Time     `json:"time"`
	Actor     custody.Party `json:"actor"`
	Authority string        `json:"authority"`
}

// JSONEvent is one verified event of a JSONReport.
type JSONEvent struct {
	Seq          uint64         `json:"seq"`
	Time         time.Time      `json:"time"`
	Action       custody.Action `json:"action"`
	Actor        custody.Party  `json:"actor"`
	Counterparty *custody.Party `json:"counterparty,omitempty"`
	LegalBasis   string         `json:"legal_basis,omitempty"`
	GrantID      string         `json:"grant_id,omitempty"`
	Detail       string         `json:"detail,omitempty"`
	Digest       string         `json:"digest"`
	KeyID        string         `json:"key_id"`
	LogIndex     uint64         `json:"log_index"`
	TreeSize     uint64         `json:"tree_size"`
	Verified     bool           `json:"verified"`
	// Checks lists what was verified about the event; Failure the check it failed.
	Checks  []string `json:"checks"`
	Failure string   `json:"failure,omitempty"`
	// SignedBy is the certificate subject of the member who signed the event's act,
	// verified against its agency's CA; absent if the event carries no act.
	SignedBy string `json:"signed_by,omitempty"`
	// ReceivedIn, on a download, is the seq of the received event acknowledging it;
	// absent if no signed receipt arrived.
	ReceivedIn *uint64 `json:"received_in,omitempty"`
}

// NewJSONReport builds the JSON report of a verification that returned r and err
// (r may be nil when an input could not be read; otherwise it lists every event of
// the bundle, each marked verified or failed).
func NewJSONReport(r *custody.Report, err error) JSONReport {
	out := JSONReport{Verified: err == nil && r != nil, Events: []JSONEvent{}}
	if err != nil {
		out.Error = err.Error()
	}
	if r == nil {
		return out
	}
	out.EvidenceID, out.CaseID, out.SHA256, out.Size = r.EvidenceID, r.CaseID, r.SHA256, r.Size
	out.LogOrigin, out.ContentChecked = r.Origin, r.ContentChecked
	f := report.FactsOf(r)
	out.Acquisition, out.RetainUntil = f.Acquisition, f.RetainUntil
	if d := f.Disposal; d != nil {
		out.Disposal = &JSONDisposal{Seq: d.Seq, Time: d.Time, Actor: d.Actor, Authority: d.Authority}
	}
	for _, ve := range r.Events {
		ev := ve.Event
		je := JSONEvent{Seq: ev.Seq, Time: ev.Time, Action: ev.Action, Actor: ev.Actor,
			Counterparty: ev.Counterparty, LegalBasis: legalBasis(ev), Detail: ev.Detail,
			Digest: ve.Digest, KeyID: ve.KeyID, LogIndex: ve.LogIndex, TreeSize: ve.TreeSize,
			Verified: ve.Verified(), Checks: ve.Checks, Failure: ve.Failure}
		if ev.Grant != nil {
			je.GrantID = ev.Grant.ID
		}
		if ve.Act != nil {
			je.SignedBy = ve.Act.Subject
		}
		if ve.Received != nil {
			seq := ve.Received.Seq
			je.ReceivedIn = &seq
		}
		out.Events = append(out.Events, je)
	}
	out.Unreceived = r.Unreceived()
	return out
}

// WriteJSON writes the JSON report of a verification that returned r and err.
func WriteJSON(w io.Writer, r *custody.Report, err error, lc *LogCheck) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	out := NewJSONReport(r, err)
	out.Log = lc
	out.CompletenessChecked = lc != nil && len(lc.Completeness) > 0 && err == nil
	if werr := enc.Encode(out); werr != nil {
		return fmt.Errorf("writing report: %w", werr)
	}
	return nil
}

// completenessUnchecked says, under a verified bundle, what verifying a bundle alone
// cannot show.
const completenessUnchecked = "not checked: events logged after the bundle's last one could have been left out (give --log-snapshot FILE to check)"

// WriteText writes the readable report of a verification that returned r and err.
// It lists every event, marked verified or FAILED with the reason, then the result:
// VERIFIED, FAILED (custody proven bad) or COULD NOT VERIFY (a *CannotVerifyError);
// then the log checks lc, if any.
func WriteText(w io.Writer, r *custody.Report, err error, lc *LogCheck) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if r != nil && r.EvidenceID != "" {
		if rq := r.Request; rq != nil {
			// The chain of a request for evidence, not of an exhibit.
			fmt.Fprintf(tw, "Request\t%s\n", r.EvidenceID)
			fmt.Fprintf(tw, "From\t%s\nTo\t%s\n", rq.From, rq.To)
			fmt.Fprintf(tw, "Instrument\t%s\nReference\t%s\n", rq.Instrument, OneLine(rq.Reference))
			fmt.Fprintf(tw, "Deadline\t%s\n", rq.Deadline.UTC().Format(time.RFC3339))
			fmt.Fprintf(tw, "Request digest\t%s\n", r.SHA256)
		} else {
			fmt.Fprintf(tw, "Exhibit\t%s\n", r.EvidenceID)
			fmt.Fprintf(tw, "Case\t%s\n", r.CaseID)
			fmt.Fprintf(tw, "SHA-256\t%s\n", r.SHA256)
			fmt.Fprintf(tw, "Size\t%d bytes\n", r.Size)
		}
		fmt.Fprintf(tw, "Log\t%s\n", r.Origin)
		writeFacts(tw, report.FactsOf(r))
		tw.Flush()
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "SEQ\tTIME\tACTION\tACTOR\tCOUNTERPARTY\tLEGAL BASIS\tLOG INDEX\tCHECK")
		for _, ve := range r.Events {
			ev := ve.Event
			check := "verified"
			if !ve.Verified() {
				check = "FAILED: " + OneLine(ve.Failure)
			} else if ve.Act != nil {
				check += ", signed by " + ve.Act.Subject
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", ev.Seq, ev.Time.UTC().Format(time.RFC3339),
				ev.Action, FormatParty(&ev.Actor), FormatParty(ev.Counterparty), orDash(legalBasis(ev)), ve.LogIndex, check)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	var cv *CannotVerifyError
	switch {
	case errors.As(err, &cv):
		fmt.Fprintf(tw, "RESULT\tCOULD NOT VERIFY: %s\n", OneLine(cv.Err.Error()))
	case err != nil:
		fmt.Fprintf(tw, "RESULT\tFAILED: %s\n", OneLine(err.Error()))
	case r.ContentChecked:
		fmt.Fprintf(tw, "Content\tthe evidence file matches the exhibit's SHA-256\n")
	default:
		fmt.Fprintf(tw, "Content\tnot checked (give --evidence FILE to check the exhibit's bytes)\n")
	}
	if u := r.Unreceived(); err == nil && len(u) > 0 {
		fmt.Fprintf(tw, "Receipts	NOT RECEIVED: no signed receipt acknowledges download event(s) %v\n", u)
	}
	if err == nil && (lc == nil || len(lc.Completeness) == 0) {
		fmt.Fprintf(tw, "Completeness\t%s\n", completenessUnchecked)
	}
	if err == nil {
		fmt.Fprintf(tw, "RESULT\tVERIFIED: %d events; signatures, hash chain and log inclusion check out\n", len(r.Events))
	}
	if lc != nil {
		lc.writeText(tw)
	}
	if ferr := tw.Flush(); ferr != nil {
		return fmt.Errorf("writing report: %w", ferr)
	}
	return nil
}

// FormatParty renders a party as "agency (jurisdiction) person, role", "-" for nil.
func FormatParty(p *custody.Party) string {
	if p == nil {
		return "-"
	}
	var b strings.Builder
	b.WriteString(p.Agency)
	if p.Jurisdiction != "" {
		fmt.Fprintf(&b, " (%s)", p.Jurisdiction)
	}
	if p.Person != "" {
		b.WriteString(" " + p.Person)
	}
	if p.Role != "" {
		b.WriteString(", " + p.Role)
	}
	return b.String()
}

// legalBasis is the legal basis an event states or acts under.
func legalBasis(ev custody.Event) string {
	if ev.LegalBasis != "" {
		return ev.LegalBasis
	}
	if ev.Grant != nil {
		return ev.Grant.LegalBasis
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// IsVerificationFailure reports whether err means the bundle must not be trusted, as
// opposed to an input that could not be read.
func IsVerificationFailure(err error) bool { return errors.Is(err, custody.ErrVerification) }

// writeFacts writes the forensic metadata, retention and disposal of a verified chain
// as rows of the text report.
func writeFacts(tw *tabwriter.Writer, f report.Facts) {
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, OneLine(v))
		}
	}
	if a := f.Acquisition; a != nil {
		row("Exhibit number", a.ExhibitNumber)
		row("Source MD5", a.SourceHashes["md5"])
		row("Source SHA-1", a.SourceHashes["sha1"])
		row("Source SHA-256", a.SourceHashes["sha256"])
		row("Tool", strings.TrimSpace(a.Tool+" "+a.ToolVersion))
		row("Examiner", a.Examiner)
		if a.SeizedAt != nil {
			row("Seized at", a.SeizedAt.UTC().Format(time.RFC3339))
		}
		row("Seized in", a.SeizedPlace)
		row("Notes", a.Notes)
	}
	if f.RetainUntil != nil {
		row("Retained until", f.RetainUntil.UTC().Format(time.RFC3339))
	}
	if d := f.Disposal; d != nil {
		row("DISPOSED", fmt.Sprintf("%s by %s under %q (event %d): the content and its data keys are destroyed",
			d.Time.UTC().Format(time.RFC3339), FormatParty(&d.Actor), d.Authority, d.Seq))
	}
}
