package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencegw/evidencegw/api"
)

func (a *app) newShareCmd() *cobra.Command {
	var req api.ShareRequest
	var expires string
	cmd := a.clientCommand(&cobra.Command{
		Use:   "share EVIDENCE-ID --to AGENCY --legal-basis TEXT --expires WHEN [--max-downloads N] [--view-only]",
		Short: "Share evidence with a partner agency under a legal basis",
		Long: `Grant a partner agency access to evidence your agency owns, under a legal basis (an MLAT
or EIO reference, a court order), until an expiry, with an optional download limit or
view-only access. The partner accepts the grant before downloading. The grant is a
signed custody event.

--expires takes a date, YYYY-MM-DD (the end of that day, UTC); an RFC 3339 time
(2026-12-31T18:00:00+01:00); or a duration from now: a whole number of hours, days or
weeks, such as 12h, 30d or 2w.`,
		Example: `  evidencegw share $ID --to agency-us --legal-basis "MLAT request 2026/117" --expires 30d --max-downloads 3
  evidencegw share $ID --to court-nl --legal-basis "court order 2026-113" --expires 2026-12-31 --view-only`,
		Args: positional("EVIDENCE-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if req.MaxDownloads < 0 {
				return usagef("invalid argument %q for \"--max-downloads\" flag: must not be negative", strconv.Itoa(req.MaxDownloads))
			}
			exp, err := parseExpires(expires, a.env.now())
			if err != nil {
				return usagef("invalid argument %q for \"--expires\" flag: %v", expires, err)
			}
			req.Expires = exp
			return a.share(cmd.Context(), args[0], req)
		},
	})
	fs := cmd.Flags()
	fs.StringVar(&req.To, "to", "", "partner `AGENCY` to share with (required)")
	fs.StringVar(&req.LegalBasis, "legal-basis", "", "the legal basis of the transfer, such as an MLAT or EIO reference, as `TEXT` (required)")
	fs.StringVar(&expires, "expires", "", "`WHEN` the grant ends: YYYY-MM-DD (end of that day, UTC), RFC 3339, or a duration from now such as 12h, 30d, 2w (required)")
	fs.IntVar(&req.MaxDownloads, "max-downloads", 0, "allow `N` downloads (0: no limit)")
	fs.BoolVar(&req.ViewOnly, "view-only", false, "allow viewing the record only, no download")
	for _, f := range []string{"to", "legal-basis", "expires"} {
		must(cmd.MarkFlagRequired(f))
	}
	must(cmd.RegisterFlagCompletionFunc("expires", cobra.FixedCompletions([]string{"30d", "2w", "12h"}, cobra.ShellCompDirectiveNoFileComp)))
	for _, f := range []string{"to", "legal-basis", "max-downloads"} {
		must(cmd.RegisterFlagCompletionFunc(f, cobra.NoFileCompletions))
	}
	return cmd
}

func (a *app) share(ctx context.Context, id string, req api.ShareRequest) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	r, err := c.Share(ctx, id, req)
	if err != nil {
		return fmt.Errorf("sharing %s with %s: %w", id, req.To, err)
	}
	return a.printGrant(id, "granted", r)
}

// dateOnly is the layout of a bare --expires date.
const dateOnly = "2006-01-02"

// expiryDuration matches an --expires duration: a whole number of hours, days or weeks.
var expiryDuration = regexp.MustCompile(`^([0-9]+)([hdw])$`)

// expiryUnits are the units of an --expires duration.
var expiryUnits = map[string]time.Duration{"h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}

// parseExpires parses an expiry: a date (YYYY-MM-DD) means the last second of that day
// in UTC; a duration (12h, 30d, 2w) that long after now; otherwise an RFC 3339 time. It
// must be after now.
func parseExpires(s string, now time.Time) (time.Time, error) {
	t, err := time.Parse(dateOnly, s)
	if err == nil {
		t = t.Add(24*time.Hour - time.Second)
	} else if m := expiryDuration.FindStringSubmatch(s); m != nil {
		n, err := strconv.ParseUint(m[1], 10, 16)
		if err != nil || n == 0 {
			return time.Time{}, fmt.Errorf("a duration is a whole number of hours, days or weeks, from 1 to 65535")
		}
		t = now.Add(time.Duration(n) * expiryUnits[m[2]])
	} else if t, err = time.Parse(time.RFC3339, s); err != nil {
		return time.Time{}, fmt.Errorf("neither a date (YYYY-MM-DD), an RFC 3339 time (2026-12-31T23:59:59Z) nor a duration (12h, 30d, 2w)")
	}
	t = t.UTC()
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("%s is not in the future", t.Format(time.RFC3339))
	}
	return t, nil
}

func (a *app) newAcceptCmd() *cobra.Command {
	var grant string
	cmd := a.clientCommand(&cobra.Command{
		Use:   "accept EVIDENCE-ID [--grant GRANT-ID]",
		Short: "Accept a grant of evidence shared with your agency",
		Long: `Accept a grant of evidence shared with your agency, before downloading it. The acceptance
is a custody event, with a receipt signed with your agency's own key. Give --grant
when several grants of the evidence await acceptance.`,
		Example: "  evidencegw accept $ID\n  evidencegw accept $ID --grant gr-abcdefghijklmnop",
		Args:    positional("EVIDENCE-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.accept(cmd.Context(), args[0], grant)
		},
	})
	cmd.Flags().StringVar(&grant, "grant", "", "`GRANT-ID` to accept, needed when several grants await acceptance")
	must(cmd.RegisterFlagCompletionFunc("grant", cobra.NoFileCompletions))
	return cmd
}

func (a *app) accept(ctx context.Context, id, grant string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	r, err := c.AcceptGrant(ctx, id, grant)
	if err != nil {
		return fmt.Errorf("accepting the grant of %s: %w", id, err)
	}
	return a.printGrant(id, "accepted", r)
}

func (a *app) newRevokeCmd() *cobra.Command {
	var grant string
	var req api.RevokeRequest
	cmd := a.clientCommand(&cobra.Command{
		Use:     "revoke EVIDENCE-ID --grant GRANT-ID [--reason TEXT]",
		Short:   "Revoke a grant of your agency's evidence",
		Long:    "Revoke a grant of evidence your agency owns: the partner can no longer view or download it. The revocation, with its reason, is a custody event.",
		Example: `  evidencegw revoke $ID --grant gr-abcdefghijklmnop --reason "request withdrawn"`,
		Args:    positional("EVIDENCE-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.revoke(cmd.Context(), args[0], grant, req)
		},
	})
	cmd.Flags().StringVar(&grant, "grant", "", "`GRANT-ID` to revoke (required)")
	cmd.Flags().StringVar(&req.Reason, "reason", "", "`TEXT` saying why the grant is revoked, for the custody record")
	must(cmd.MarkFlagRequired("grant"))
	must(cmd.RegisterFlagCompletionFunc("grant", cobra.NoFileCompletions))
	return cmd
}

func (a *app) revoke(ctx context.Context, id, grant string, req api.RevokeRequest) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	r, err := c.Revoke(ctx, id, grant, req)
	if err != nil {
		return fmt.Errorf("revoking grant %s of %s: %w", grant, id, err)
	}
	return a.printGrant(id, "revoked", r)
}

// printGrant writes the outcome of a share, accept or revoke.
func (a *app) printGrant(evidenceID, verb string, r *api.GrantResult) error {
	if a.json {
		return a.printJSON(struct {
			EvidenceID string `json:"evidence_id"`
			api.GrantView
			Custody api.CustodyReceipt `json:"custody"`
		}{evidenceID, r.Grant, r.Custody})
	}
	g := r.Grant
	limit := "no download limit"
	if g.MaxDownloads > 0 {
		limit = fmt.Sprintf("%d of %d downloads used", g.Downloads, g.MaxDownloads)
	}
	if g.ViewOnly {
		limit = "view only"
	}
	a.printf("%s grant %s of %s to %s under %q, expires %s (%s), state %s\n", verb, g.GrantID, evidenceID, g.To,
		g.LegalBasis, g.Expires.UTC().Format(time.RFC3339), limit, g.State)
	a.printCustody(&r.Custody)
	return nil
}
