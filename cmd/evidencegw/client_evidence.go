package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/internal/verifycmd"
)

func (a *app) newUploadCmd() *cobra.Command {
	var o uploadOptions
	var forensic forensicFlags
	cmd := a.clientCommand(&cobra.Command{
		Use:   "upload --case CASE-ID [--description TEXT] [forensic metadata flags] [--state-dir DIR] [--single-request [--idempotency-key KEY]] [-q] FILE",
		Short: "Register a file as evidence of a case, stored encrypted",
		Long: `Register a file as evidence of a case. The file is sent once, hashed (SHA-256) as it
goes; the gateway stores it encrypted as it arrives, checks the digest once every byte
is there, and records a signed register event in the custody log. The evidence id it
prints names the evidence in every other command.

The upload resumes by itself: when the connection drops, the command asks the gateway
how far it got and sends the rest, retrying with backoff for as long as it takes (stop
it with Ctrl-C). A transfer cut anywhere sends again at most one part (16 MiB by
default). If the command itself stops (a crash, a reboot, Ctrl-C), running it again
with the same file, case and description continues the same upload: its state is a
small file in the state directory (--state-dir, default $EVIDENCEGW_STATE_DIR, else
$XDG_STATE_HOME/evidencegw, else ~/.local/state/evidencegw), removed once the evidence
is registered. An upload left unfinished expires at the gateway (72 hours by default).

--single-request sends the file in one request instead, after hashing it (the file is
read twice), as gateways before resumable uploads take it. It carries an idempotency
key (a random one unless --idempotency-key gives it): running it again with that key
cannot register the file twice.

The forensic metadata flags (--exhibit-number, --md5, --sha1, --sha256, --tool,
--tool-version, --examiner, --seized-at, --seized-place, --notes) record what forensic
practice records of an exhibit in its signed register event: they are your statement,
checked for form. --md5, --sha1 and --sha256 are the digests of the source medium as
the acquisition tool reported them; FILE's own SHA-256 is computed and checked.

The evidence is retained for its case's retention period (the gateway's configuration):
it cannot be disposed of before (see dispose).

With --quiet, only the evidence id is printed, for a shell to capture.`,
		Example: `  evidencegw upload --case CASE-2026-0042 --description "seized laptop" laptop.img
  ID=$(evidencegw upload -q --case CASE-2026-0042 laptop.img)
  evidencegw upload --case CASE-2026-0042 --state-dir /var/tmp/uploads server.img   # run again to resume
  evidencegw upload --case CASE-2026-0042 --exhibit-number NL-0042-EX3 \
      --md5 9e107d9d372bb6826bd81d3542a419d6 --sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12 \
      --tool "FTK Imager" --tool-version 4.7.1 --examiner "J. de Vries" \
      --seized-at 2026-03-01T06:30:00Z --seized-place "Rotterdam" --notes "write blocker used" laptop.E01`,
		Args: positional("FILE"),
		// FILE: no completions of our own, so the shell completes file names.
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.path = args[0]
			var err error
			if o.acquisition, err = forensic.acquisition(); err != nil {
				return err
			}
			return a.upload(cmd.Context(), o)
		},
	})
	cmd.Flags().StringVar(&o.caseID, "case", "", "case `ID` the evidence belongs to (required)")
	cmd.Flags().StringVar(&o.description, "description", "", "`TEXT` saying what the evidence is, in a few words")
	cmd.Flags().StringVar(&o.stateDir, "state-dir", "", "`DIR` keeping the state of unfinished uploads (default $"+stateDirEnv+", $XDG_STATE_HOME/evidencegw or ~/.local/state/evidencegw)")
	cmd.Flags().BoolVar(&o.single, "single-request", false, "send the file in one request, not resumable (reads the file twice)")
	cmd.Flags().StringVar(&o.key, "idempotency-key", "", "with --single-request: `KEY` of an earlier upload of the same file that may not have completed (default a new random key)")
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print only the evidence id")
	forensic.register(cmd.Flags())
	must(cmd.MarkFlagRequired("case"))
	cmd.MarkFlagsMutuallyExclusive("quiet", "json")
	cmd.MarkFlagsMutuallyExclusive("state-dir", "single-request")
	return cmd
}

// uploadOptions are the arguments of the upload command.
type uploadOptions struct {
	path, caseID, description string
	stateDir, key             string
	single, quiet             bool
	acquisition               *custody.Acquisition
}

func (a *app) upload(ctx context.Context, o uploadOptions) error {
	if o.key != "" && !o.single {
		return usagef("--idempotency-key goes with --single-request: a resumable upload resumes by itself")
	}
	if o.key != "" {
		if _, err := api.ParseIdempotencyKey(api.FormatIdempotencyKey(o.key)); err != nil {
			return usagef("--idempotency-key: %v", err)
		}
	}
	f, err := os.Open(o.path)
	if err != nil {
		return fmt.Errorf("uploading: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("uploading %s: %w", o.path, err)
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("uploading %s: not a regular file", o.path)
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var progress client.ProgressFunc
	if !o.quiet {
		progress = a.progress()
	}
	var r *api.UploadResult
	if o.single {
		r, err = a.uploadSingle(ctx, c, f, o, progress)
	} else {
		r, err = a.uploadResumable(ctx, c, f, fi, o, progress)
	}
	if err != nil {
		return err
	}
	switch {
	case o.quiet:
		a.printf("%s\n", r.Evidence.EvidenceID)
		return nil
	case a.json:
		return a.printJSON(struct {
			api.EvidenceView
			Custody api.CustodyReceipt `json:"custody"`
		}{r.Evidence, r.Custody})
	}
	a.printf("registered %s for case %s: %d bytes, SHA-256 %s\n", r.Evidence.EvidenceID, r.Evidence.CaseID, r.Evidence.Size, r.Evidence.SHA256)
	a.printCustody(&r.Custody)
	return nil
}

// uploadResumable uploads over tus, keeping its state in the state directory.
func (a *app) uploadResumable(ctx context.Context, c *client.Client, f *os.File, fi os.FileInfo, o uploadOptions, progress client.ProgressFunc) (*api.UploadResult, error) {
	dir, err := a.stateDir(o.stateDir)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(o.path)
	if err != nil {
		return nil, fmt.Errorf("uploading %s: %w", o.path, err)
	}
	state := newUploadStateFile(dir, a.identity, abs, fi, o.caseID, o.description)
	r, err := c.UploadResumable(ctx, client.ResumableUpload{CaseID: o.caseID, Description: o.description, Acquisition: o.acquisition,
		Content: f, Size: fi.Size(), Progress: progress, State: state})
	if err != nil {
		var problem *api.Problem
		if !errors.As(err, &problem) && ctx.Err() != nil {
			return nil, fmt.Errorf("uploading %s: %w (run the same command again to continue the upload)", o.path, err)
		}
		return nil, fmt.Errorf("uploading %s: %w", o.path, err)
	}
	return r, nil
}

// uploadSingle uploads in one request, with an idempotency key.
func (a *app) uploadSingle(ctx context.Context, c *client.Client, f *os.File, o uploadOptions, progress client.ProgressFunc) (*api.UploadResult, error) {
	key := o.key
	if key == "" {
		key = rand.Text()
	}
	r, err := c.Upload(ctx, client.UploadRequest{CaseID: o.caseID, Description: o.description, Acquisition: o.acquisition, Content: f,
		Progress: progress, IdempotencyKey: key})
	var problem *api.Problem
	if err != nil && !errors.As(err, &problem) && !errors.Is(err, client.ErrContentChanged) {
		// The gateway may have registered the file before the connection was lost.
		return nil, fmt.Errorf("uploading %s: %w (the gateway may have registered it: run the command again with --idempotency-key %s to get its evidence id without registering it twice)", o.path, err, key)
	}
	if err != nil {
		return nil, fmt.Errorf("uploading %s: %w", o.path, err)
	}
	return r, nil
}

func (a *app) newDownloadCmd() *cobra.Command {
	var (
		out  string
		opts client.DownloadOptions
	)
	cmd := a.clientCommand(&cobra.Command{
		Use:   "download EVIDENCE-ID -o FILE",
		Short: "Download evidence, checking its bytes against the registered SHA-256",
		Long: `Download the content of evidence shared with your agency (or your own) to a new file.
The bytes are hashed as they arrive and must match both the digest the gateway announces
and the one the evidence was registered with: on a mismatch nothing is kept and the
command exits with status 3.

A transfer that breaks off is resumed where it stopped (up to --retries times in a row
without progress). If it cannot finish, the bytes received stay in .FILE.part beside
FILE and the command exits with status 1: run it again to resume; it hashes what is on
disk, then asks only for the rest. A download counts against the grant's download limit
once it is delivered, however many times it was resumed; an abandoned one costs
nothing. Once the file is in place, your signed receipt of the digest and size received
is sent and recorded as a received event (if that fails, the command says so and exits
with status 1: the record shows the download as not received).`,
		Example: "  evidencegw download $ID -o received.img\n  evidencegw download $ID -o received.img --restart",
		Args:    positional("EVIDENCE-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Retries < 0 {
				return usagef("invalid argument %q for \"--retries\" flag: must not be negative", strconv.Itoa(opts.Retries))
			}
			if opts.Retries == 0 && cmd.Flags().Changed("retries") {
				opts.Retries = -1 // none
			}
			return a.download(cmd.Context(), args[0], out, opts)
		},
	})
	outputFlag(cmd, &out, "the evidence")
	cmd.Flags().BoolVar(&opts.Restart, "restart", false, "discard the bytes an interrupted download left beside FILE and start over")
	cmd.Flags().IntVar(&opts.Retries, "retries", client.DefaultRetries, "resume a transfer that breaks off up to `N` times in a row without progress (0: never)")
	return cmd
}

func (a *app) download(ctx context.Context, id, out string, opts client.DownloadOptions) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	r, err := c.Download(ctx, id, out, opts, a.progress())
	var receiptErr *client.ReceiptError
	if err != nil && !errors.As(err, &receiptErr) {
		return err
	}
	if a.json {
		if perr := a.printJSON(struct {
			EvidenceID string              `json:"evidence_id"`
			Path       string              `json:"path"`
			SHA256     string              `json:"sha256"`
			Size       int64               `json:"size"`
			Verified   bool                `json:"verified"`
			Resumed    int64               `json:"resumed_from"`
			Requests   int                 `json:"requests"`
			TransferID string              `json:"transfer_id,omitempty"`
			Custody    *api.CustodyReceipt `json:"custody,omitempty"`
			Received   *api.CustodyReceipt `json:"received,omitempty"`
		}{r.Evidence.EvidenceID, r.Path, r.SHA256, r.Size, true, r.Resumed, r.Requests, r.TransferID, r.Custody, r.Received}); perr != nil {
			return perr
		}
		return err
	}
	if r.Resumed > 0 {
		a.printf("resumed at byte %d of %d\n", r.Resumed, r.Size)
	}
	a.printf("downloaded %s to %s: %d bytes, SHA-256 %s matches the registered digest\n", r.Evidence.EvidenceID, r.Path, r.Size, r.SHA256)
	a.printCustody(r.Custody)
	if r.Received != nil {
		a.printf("your signed receipt of it is recorded: ")
		a.printCustody(r.Received)
	}
	return err
}

func (a *app) newShowCmd() *cobra.Command {
	return a.clientCommand(&cobra.Command{
		Use:   "show EVIDENCE-ID",
		Short: "Show an evidence record and its grants",
		Long: `Show an evidence record: case, description, SHA-256, size, owner, registration time,
number of custody events, its forensic metadata, when its retention ends, whether it is
under legal hold or was disposed of, and the grants that share it.`,
		Example: "  evidencegw show $ID\n  evidencegw show $ID --json | jq .grants",
		Args:    positional("EVIDENCE-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.show(cmd.Context(), args[0])
		},
	})
}

func (a *app) show(ctx context.Context, id string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	ev, err := c.Evidence(ctx, id)
	if err != nil {
		return fmt.Errorf("showing %s: %w", id, err)
	}
	if a.json {
		return a.printJSON(ev)
	}
	tw := tabwriter.NewWriter(a.env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Evidence\t%s\n", ev.EvidenceID)
	fmt.Fprintf(tw, "Case\t%s\n", ev.CaseID)
	if ev.Description != "" {
		fmt.Fprintf(tw, "Description\t%s\n", ev.Description)
	}
	fmt.Fprintf(tw, "SHA-256\t%s\n", ev.SHA256)
	fmt.Fprintf(tw, "Size\t%d bytes\n", ev.Size)
	fmt.Fprintf(tw, "Owner\t%s (%s)\n", ev.Owner, ev.Jurisdiction)
	fmt.Fprintf(tw, "Registered\t%s\n", ev.RegisteredAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(tw, "Events\t%d\n", ev.EventCount)
	printEvidenceFacts(tw, ev)
	tw.Flush()
	if len(ev.Grants) == 0 {
		a.printf("\nno grants\n")
		return nil
	}
	a.printf("\n")
	fmt.Fprintln(tw, "GRANT\tTO\tLEGAL BASIS\tEXPIRES\tDOWNLOADS\tACCEPTED\tSTATE")
	for _, g := range ev.Grants {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.GrantID, g.To, g.LegalBasis,
			g.Expires.UTC().Format(time.RFC3339), downloads(g), yesNo(g.Accepted), grantState(g))
	}
	return tw.Flush()
}

func downloads(g api.GrantView) string {
	if g.MaxDownloads == 0 {
		return fmt.Sprintf("%d", g.Downloads)
	}
	return fmt.Sprintf("%d/%d", g.Downloads, g.MaxDownloads)
}

func grantState(g api.GrantView) string {
	if g.ViewOnly {
		return g.State + " (view only)"
	}
	return g.State
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (a *app) newHistoryCmd() *cobra.Command {
	return a.clientCommand(&cobra.Command{
		Use:   "history EVIDENCE-ID",
		Short: "Show the custody history of evidence",
		Long: `Show the custody history of evidence: every event (register, share, accept, download,
revoke, hold, release, export...) with its time, actor, counterparty, legal basis and
log index. A partner agency sees its own part of the history; the owner and courts see
all of it.`,
		Example: "  evidencegw history $ID",
		Args:    positional("EVIDENCE-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.history(cmd.Context(), args[0])
		},
	})
}

func (a *app) history(ctx context.Context, id string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	h, err := c.History(ctx, id)
	if err != nil {
		return fmt.Errorf("reading history of %s: %w", id, err)
	}
	if a.json {
		return a.printJSON(h)
	}
	if h.Partial {
		a.printf("your agency's part of the custody history of %s (the owner and courts see all of it)\n", h.EvidenceID)
	}
	tw := tabwriter.NewWriter(a.env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTION\tACTOR\tSIGNED BY\tCOUNTERPARTY\tLEGAL BASIS\tLOG INDEX\tDETAIL")
	for _, e := range h.Events {
		basis := e.LegalBasis
		if basis == "" && e.Grant != nil {
			basis = e.Grant.LegalBasis
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.Seq, e.Time.UTC().Format(time.RFC3339), e.Action,
			verifycmd.FormatParty(&e.Actor), dash(e.Signer), verifycmd.FormatParty(e.Counterparty), dash(basis), e.LogIndex, dash(historyDetail(e)))
	}
	return tw.Flush()
}

// historyDetail is an event's detail, with whether a delivered download's receipt
// arrived and which download a received event acknowledges.
func historyDetail(e api.HistoryEvent) string {
	var note string
	switch {
	case (e.Action == "download" || e.Action == "download-deliver") && e.ReceivedIn != nil:
		note = fmt.Sprintf("received (event %d)", *e.ReceivedIn)
	case e.Action == "download" || e.Action == "download-deliver":
		note = "NOT RECEIVED: no signed receipt"
	case e.Acknowledges != nil:
		note = fmt.Sprintf("of download %d", *e.Acknowledges)
	}
	switch {
	case note == "":
		return e.Detail
	case e.Detail == "":
		return note
	}
	return e.Detail + "; " + note
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (a *app) newWhoamiCmd() *cobra.Command {
	return a.clientCommand(&cobra.Command{
		Use:     "whoami",
		Short:   "Show who the gateway takes your identity for",
		Long:    "Show the agency, jurisdiction, person and role the gateway maps your identity's client certificate to.",
		Example: "  evidencegw whoami --identity evidencegw-data/identities/court-nl",
		Args:    positional(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.whoami(cmd.Context())
		},
	})
}

func (a *app) whoami(ctx context.Context) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	p, err := c.Whoami(ctx)
	if err != nil {
		return fmt.Errorf("asking the gateway who you are: %w", err)
	}
	if a.json {
		return a.printJSON(p)
	}
	a.printf("%s\n", verifycmd.FormatParty(p))
	return nil
}
