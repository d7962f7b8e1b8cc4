package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/internal/verifycmd"
)

func (a *app) newUploadCmd() *cobra.Command {
	var caseID, description, key string
	var quiet bool
	var forensic forensicFlags
	cmd := a.clientCommand(&cobra.Command{
		Use:   "upload --case CASE-ID [--description TEXT] [forensic metadata flags] [--idempotency-key KEY] [-q] FILE",
		Short: "Register a file as evidence of a case, stored encrypted",
		Long: `Register a file as evidence of a case. The file is hashed (SHA-256) and uploaded; the
gateway checks the digest, stores the bytes encrypted and records a signed register
event in the custody log. The evidence id it prints names the evidence in every other
command.

Each upload carries an idempotency key (a random one unless --idempotency-key gives
it): when the gateway is busy or the connection is lost, the upload is sent again with
the same key, and the gateway registers the evidence once. If the command still fails,
its message names the key; running it again with that key cannot register the file
twice.

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
  evidencegw upload --case CASE-2026-0042 --exhibit-number NL-0042-EX3 \
      --md5 9e107d9d372bb6826bd81d3542a419d6 --sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12 \
      --tool "FTK Imager" --tool-version 4.7.1 --examiner "J. de Vries" \
      --seized-at 2026-03-01T06:30:00Z --seized-place "Rotterdam" --notes "write blocker used" laptop.E01`,
		Args: positional("FILE"),
		// FILE: no completions of our own, so the shell completes file names.
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
		RunE: func(cmd *cobra.Command, args []string) error {
			acq, err := forensic.acquisition()
			if err != nil {
				return err
			}
			return a.upload(cmd.Context(), args[0], caseID, description, key, quiet, acq)
		},
	})
	cmd.Flags().StringVar(&caseID, "case", "", "case `ID` the evidence belongs to (required)")
	cmd.Flags().StringVar(&description, "description", "", "`TEXT` saying what the evidence is, in a few words")
	cmd.Flags().StringVar(&key, "idempotency-key", "", "`KEY` of an earlier upload of the same file that may not have completed (default a new random key)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the evidence id")
	forensic.register(cmd.Flags())
	must(cmd.MarkFlagRequired("case"))
	cmd.MarkFlagsMutuallyExclusive("quiet", "json")
	return cmd
}

func (a *app) upload(ctx context.Context, path, caseID, description, key string, quiet bool, acq *custody.Acquisition) error {
	if key == "" {
		key = rand.Text()
	} else if _, err := api.ParseIdempotencyKey(api.FormatIdempotencyKey(key)); err != nil {
		return usagef("--idempotency-key: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("uploading: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return fmt.Errorf("uploading %s: %w", path, err)
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("uploading %s: not a regular file", path)
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var progress client.ProgressFunc
	if !quiet {
		progress = a.progress()
	}
	r, err := c.Upload(ctx, client.UploadRequest{CaseID: caseID, Description: description, Content: f,
		Progress: progress, IdempotencyKey: key, Acquisition: acq})
	var problem *api.Problem
	if err != nil && !errors.As(err, &problem) && !errors.Is(err, client.ErrContentChanged) {
		// The gateway may have registered the file before the connection was lost.
		return fmt.Errorf("uploading %s: %w (the gateway may have registered it: run the command again with --idempotency-key %s to get its evidence id without registering it twice)", path, err, key)
	}
	if err != nil {
		return fmt.Errorf("uploading %s: %w", path, err)
	}
	switch {
	case quiet:
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

func (a *app) newDownloadCmd() *cobra.Command {
	var out string
	cmd := a.clientCommand(&cobra.Command{
		Use:   "download EVIDENCE-ID -o FILE",
		Short: "Download evidence, checking its bytes against the registered SHA-256",
		Long: `Download the content of evidence shared with your agency (or your own) to a new file.
The bytes are hashed as they arrive and must match both the digest the gateway announces
and the one the evidence was registered with: on a mismatch nothing is kept and the
command exits with status 3. Each download is a custody event and counts against the
grant's download limit.`,
		Example: "  evidencegw download $ID -o received.img",
		Args:    positional("EVIDENCE-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.download(cmd.Context(), args[0], out)
		},
	})
	outputFlag(cmd, &out, "the evidence")
	return cmd
}

func (a *app) download(ctx context.Context, id, out string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	r, err := c.Download(ctx, id, out, a.progress())
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(struct {
			EvidenceID string              `json:"evidence_id"`
			Path       string              `json:"path"`
			SHA256     string              `json:"sha256"`
			Size       int64               `json:"size"`
			Verified   bool                `json:"verified"`
			Custody    *api.CustodyReceipt `json:"custody,omitempty"`
		}{r.Evidence.EvidenceID, r.Path, r.SHA256, r.Size, true, r.Custody})
	}
	a.printf("downloaded %s to %s: %d bytes, SHA-256 %s matches the registered digest\n", r.Evidence.EvidenceID, r.Path, r.Size, r.SHA256)
	a.printCustody(r.Custody)
	return nil
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
	fmt.Fprintln(tw, "SEQ\tTIME\tACTION\tACTOR\tCOUNTERPARTY\tLEGAL BASIS\tLOG INDEX\tDETAIL")
	for _, e := range h.Events {
		basis := e.LegalBasis
		if basis == "" && e.Grant != nil {
			basis = e.Grant.LegalBasis
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", e.Seq, e.Time.UTC().Format(time.RFC3339), e.Action,
			verifycmd.FormatParty(&e.Actor), verifycmd.FormatParty(e.Counterparty), dash(basis), e.LogIndex, dash(e.Detail))
	}
	return tw.Flush()
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
