package main

import (
	"context"
	"fmt"
	"time"

	"github.com/evidencegw/evidencegw/api"
)

func runShare(ctx context.Context, inv *invocation, args []string) error {
	to := inv.fs.String("to", "", "partner `AGENCY` to share with (required)")
	basis := inv.fs.String("legal-basis", "", "legal basis of the transfer, such as an MLAT or EIO reference (required)")
	expires := inv.fs.String("expires", "", "`DATE` the grant ends: YYYY-MM-DD (end of that day, UTC) or RFC 3339 (required)")
	maxDownloads := inv.fs.Int("max-downloads", 0, "number of downloads allowed (0: no limit)")
	viewOnly := inv.fs.Bool("view-only", false, "allow viewing the record only, no download")
	pos, err := inv.parse(args, 1, "EVIDENCE-ID")
	if err != nil {
		return err
	}
	switch {
	case *to == "":
		return inv.usagef("--to is required")
	case *basis == "":
		return inv.usagef("--legal-basis is required")
	case *expires == "":
		return inv.usagef("--expires is required")
	case *maxDownloads < 0:
		return inv.usagef("--max-downloads must not be negative")
	}
	exp, err := parseExpires(*expires, inv.env.now())
	if err != nil {
		return inv.usagef("--expires: %v", err)
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	r, err := c.Share(ctx, pos[0], api.ShareRequest{To: *to, LegalBasis: *basis, Expires: exp, MaxDownloads: *maxDownloads, ViewOnly: *viewOnly})
	if err != nil {
		return fmt.Errorf("sharing %s with %s: %w", pos[0], *to, err)
	}
	return inv.printGrant(pos[0], "granted", r)
}

// dateOnly is the layout of a bare --expires date.
const dateOnly = "2006-01-02"

// parseExpires parses an expiry: a date (YYYY-MM-DD) means the last second of that day
// in UTC; otherwise an RFC 3339 time. It must be after now.
func parseExpires(s string, now time.Time) (time.Time, error) {
	t, err := time.Parse(dateOnly, s)
	if err == nil {
		t = t.Add(24*time.Hour - time.Second)
	} else if t, err = time.Parse(time.RFC3339, s); err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (YYYY-MM-DD) nor an RFC 3339 time (2026-12-31T23:59:59Z)", s)
	}
	t = t.UTC()
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("%s is not in the future", t.Format(time.RFC3339))
	}
	return t, nil
}

func runAccept(ctx context.Context, inv *invocation, args []string) error {
	grant := inv.fs.String("grant", "", "`GRANT-ID` to accept, needed when several grants await acceptance")
	pos, err := inv.parse(args, 1, "EVIDENCE-ID")
	if err != nil {
		return err
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	r, err := c.AcceptGrant(ctx, pos[0], *grant)
	if err != nil {
		return err
	}
	return inv.printGrant(pos[0], "accepted", r)
}

func runRevoke(ctx context.Context, inv *invocation, args []string) error {
	grant := inv.fs.String("grant", "", "`GRANT-ID` to revoke (required)")
	reason := inv.fs.String("reason", "", "why the grant is revoked, for the custody record")
	pos, err := inv.parse(args, 1, "EVIDENCE-ID")
	if err != nil {
		return err
	}
	if *grant == "" {
		return inv.usagef("--grant is required")
	}
	c, err := inv.client()
	if err != nil {
		return err
	}
	r, err := c.Revoke(ctx, pos[0], *grant, api.RevokeRequest{Reason: *reason})
	if err != nil {
		return fmt.Errorf("revoking grant %s of %s: %w", *grant, pos[0], err)
	}
	return inv.printGrant(pos[0], "revoked", r)
}

// printGrant writes the outcome of a share, accept or revoke.
func (inv *invocation) printGrant(evidenceID, verb string, r *api.GrantResult) error {
	if inv.json {
		return inv.printJSON(struct {
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
	inv.printf("%s grant %s of %s to %s under %q, expires %s (%s), state %s\n", verb, g.GrantID, evidenceID, g.To,
		g.LegalBasis, g.Expires.UTC().Format(time.RFC3339), limit, g.State)
	inv.printCustody(&r.Custody)
	return nil
}
