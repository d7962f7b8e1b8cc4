package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/internal/verifycmd"
)

func runUpload(ctx context.Context, inv *invocation, args []string) error {
	caseID := inv.fs.String("case", "", "case `ID` the evidence belongs to (required)")
	description := inv.fs.String("description", "", "what the evidence is, in a few words")
	pos, err := inv.parse(args, 1, "FILE")
	if err != nil {
		return err
	}
	if *caseID == "" {
		return inv.usagef("--case is required")
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	path := pos[0]
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
	r, err := c.Upload(ctx, client.UploadRequest{CaseID: *caseID, Description: *description, Content: f, Progress: inv.progress()})
	if err != nil {
		return fmt.Errorf("uploading %s: %w", path, err)
	}
	if inv.json {
		return inv.printJSON(struct {
			api.EvidenceView
			Custody api.CustodyReceipt `json:"custody"`
		}{r.Evidence, r.Custody})
	}
	inv.printf("registered %s for case %s: %d bytes, SHA-256 %s\n", r.Evidence.EvidenceID, r.Evidence.CaseID, r.Evidence.Size, r.Evidence.SHA256)
	inv.printCustody(&r.Custody)
	return nil
}

func runDownload(ctx context.Context, inv *invocation, args []string) error {
	var out string
	inv.fs.StringVar(&out, "o", "", "write the evidence to `FILE`, which must not exist (required)")
	inv.fs.StringVar(&out, "output", "", "same as -o")
	pos, err := inv.parse(args, 1, "EVIDENCE-ID")
	if err != nil {
		return err
	}
	if out == "" {
		return inv.usagef("-o FILE is required")
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	r, err := c.Download(ctx, pos[0], out, inv.progress())
	if err != nil {
		return err
	}
	if inv.json {
		return inv.printJSON(struct {
			EvidenceID string              `json:"evidence_id"`
			Path       string              `json:"path"`
			SHA256     string              `json:"sha256"`
			Size       int64               `json:"size"`
			Verified   bool                `json:"verified"`
			Custody    *api.CustodyReceipt `json:"custody,omitempty"`
		}{r.Evidence.EvidenceID, r.Path, r.SHA256, r.Size, true, r.Custody})
	}
	inv.printf("downloaded %s to %s: %d bytes, SHA-256 %s matches the registered digest\n", r.Evidence.EvidenceID, r.Path, r.Size, r.SHA256)
	inv.printCustody(r.Custody)
	return nil
}

func runShow(ctx context.Context, inv *invocation, args []string) error {
	pos, err := inv.parse(args, 1, "EVIDENCE-ID")
	if err != nil {
		return err
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	ev, err := c.Evidence(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("showing %s: %w", pos[0], err)
	}
	if inv.json {
		return inv.printJSON(ev)
	}
	tw := tabwriter.NewWriter(inv.stdout, 0, 0, 2, ' ', 0)
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
	tw.Flush()
	if len(ev.Grants) == 0 {
		inv.printf("\nno grants\n")
		return nil
	}
	inv.printf("\n")
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

func runHistory(ctx context.Context, inv *invocation, args []string) error {
	pos, err := inv.parse(args, 1, "EVIDENCE-ID")
	if err != nil {
		return err
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	h, err := c.History(ctx, pos[0])
	if err != nil {
		return fmt.Errorf("reading history of %s: %w", pos[0], err)
	}
	if inv.json {
		return inv.printJSON(h)
	}
	if h.Partial {
		inv.printf("your agency's part of the custody history of %s (the owner and courts see all of it)\n", h.EvidenceID)
	}
	tw := tabwriter.NewWriter(inv.stdout, 0, 0, 2, ' ', 0)
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

func runWhoami(ctx context.Context, inv *invocation, args []string) error {
	if _, err := inv.parse(args, 0, ""); err != nil {
		return err
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	p, err := c.Whoami(ctx)
	if err != nil {
		return err
	}
	if inv.json {
		return inv.printJSON(p)
	}
	inv.printf("%s\n", verifycmd.FormatParty(p))
	return nil
}
