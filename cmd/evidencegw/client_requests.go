package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
)

// The exchange's commands: file and answer requests for evidence under a legal
// instrument (docs/exchange.md), and read the inbox and the catalog's listings.

func (a *app) newRequestCmd() *cobra.Command {
	var req api.FileRequest
	var deadline string
	var quiet bool
	cmd := a.clientCommand(&cobra.Command{
		Use: "request --to AGENCY --instrument ID --reference REF --issuing-authority TEXT --sought TEXT " +
			"[--case CASE] [--deadline WHEN] [--emergency] [-q]",
		Short: "Request evidence from another agency under a legal instrument",
		Long: `File a request for evidence with another agency, under a legal instrument of the gateway's
table (an EIO, an MLAT request, a European Production or Preservation Order, a Budapest
Convention Second Protocol order: 'evidencegw requests --instruments' lists them). The
request is a custody subject of its own: a signed, logged chain of events, from filing
to the answer, that verifies offline like an exhibit's. Filing it, like every change of
the request (acknowledge, respond, withdraw), signs your act with your key (--key).

Without --deadline the answer is due after the instrument's time (10 days for an
EPOC); --emergency asks for the instrument's emergency time (8 hours for an EPOC), and
is refused for an instrument without an emergency procedure. --deadline takes a date
(YYYY-MM-DD, the end of that day, UTC), an RFC 3339 time or a duration (12h, 10d, 2w).

With --quiet, only the request id is printed, for a shell to capture.`,
		Example: `  evidencegw request --to agency-nl --instrument epoc --reference "US-2026-117" \
      --issuing-authority "US Attorney, District of Columbia" --sought "images of the seized laptop"
  REQ=$(evidencegw request -q --to agency-nl --instrument epoc --emergency --reference R-9 \
      --issuing-authority "Prosecutor" --sought "subscriber data")`,
		Args: positional(),
		RunE: func(cmd *cobra.Command, args []string) error {
			if deadline != "" {
				d, err := parseExpires(deadline, a.env.now())
				if err != nil {
					return usagef("invalid argument %q for \"--deadline\" flag: %v", deadline, err)
				}
				req.Deadline = &d
			}
			return a.fileRequest(cmd.Context(), req, quiet)
		},
	})
	fs := cmd.Flags()
	fs.StringVar(&req.To, "to", "", "`AGENCY` the request is addressed to (required)")
	fs.StringVar(&req.Instrument, "instrument", "", "legal instrument `ID`: eio, mlat, epoc, epoc-pr, budapest-2ap-art7... (required)")
	fs.StringVar(&req.Reference, "reference", "", "your authority's own reference of the request, as `REF` (required)")
	fs.StringVar(&req.IssuingAuthority, "issuing-authority", "", "`TEXT` naming the authority that issued the order (required)")
	fs.StringVar(&req.Sought, "sought", "", "`TEXT` saying what evidence is sought (required)")
	fs.StringVar(&req.CaseID, "case", "", "your `CASE` the request belongs to")
	fs.StringVar(&deadline, "deadline", "", "`WHEN` the answer is due (default: the instrument's time)")
	fs.BoolVar(&req.Emergency, "emergency", false, "an emergency: due within the instrument's emergency time")
	fs.BoolVarP(&quiet, "quiet", "q", false, "print only the request id")
	for _, f := range []string{"to", "instrument", "reference", "issuing-authority", "sought"} {
		must(cmd.MarkFlagRequired(f))
	}
	must(cmd.RegisterFlagCompletionFunc("instrument", cobra.FixedCompletions([]string{"eio", "mlat", "epoc", "epoc-pr",
		"budapest-2ap-art7", "budapest-2ap-art8", "budapest-2ap-art9", "budapest-2ap-art10"}, cobra.ShellCompDirectiveNoFileComp)))
	cmd.MarkFlagsMutuallyExclusive("quiet", "json")
	return cmd
}

func (a *app) fileRequest(ctx context.Context, req api.FileRequest, quiet bool) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	r, err := c.FileRequest(ctx, req)
	if err != nil {
		return fmt.Errorf("filing a request to %s: %w", req.To, err)
	}
	switch {
	case quiet:
		a.printf("%s\n", r.Request.RequestID)
		return nil
	case a.json:
		return a.printJSON(r)
	}
	a.printf("filed %s to %s under %s, due %s\n", r.Request.RequestID, r.Request.To, r.Request.Instrument,
		r.Request.Deadline.UTC().Format(time.RFC3339))
	a.printCustody(&r.Custody)
	return nil
}

func (a *app) newRespondCmd() *cobra.Command {
	var req api.RespondRequest
	var expires string
	cmd := a.clientCommand(&cobra.Command{
		Use:   "respond REQUEST-ID (--share EVIDENCE-ID[,EVIDENCE-ID...] [--partial] | --refuse --reason TEXT) [--expires WHEN] [--max-downloads N] [--view-only]",
		Short: "Answer a request addressed to your agency: share evidence, or refuse",
		Long: `Answer a request for evidence addressed to your agency. With --share, each exhibit is
shared with the requesting agency under the request's instrument: the grant carries the
instrument as its legal basis and cites the request, and the answer names every exhibit
and grant. --partial leaves the request open for a later answer. With --refuse, the
request is refused with a reason. A request is answered once (partial answers aside).
Your signed act (--key) names the answer: the exhibits, the terms of their grants or the
reason of the refusal; the answer and each share record it.

Grants made in answer last the instrument's grant days unless --expires says (a date,
an RFC 3339 time or a duration such as 30d). Under a preservation order (epoc-pr) the
policies never release content: the requester sees that the evidence is kept.`,
		Example: `  evidencegw respond $REQ --share $ID
  evidencegw respond $REQ --share $ID1,$ID2 --partial --max-downloads 3
  evidencegw respond $REQ --refuse --reason "no dual criminality"`,
		Args: positional("REQUEST-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(req.Share) == 0 && !req.Refuse {
				return usagef("give --share EVIDENCE-ID or --refuse --reason TEXT")
			}
			if req.Refuse && req.Reason == "" {
				return usagef("--refuse needs --reason")
			}
			if req.MaxDownloads < 0 {
				return usagef("invalid argument %q for \"--max-downloads\" flag: must not be negative", fmt.Sprint(req.MaxDownloads))
			}
			if expires != "" {
				e, err := parseExpires(expires, a.env.now())
				if err != nil {
					return usagef("invalid argument %q for \"--expires\" flag: %v", expires, err)
				}
				req.Expires = &e
			}
			return a.respond(cmd.Context(), args[0], req)
		},
	})
	fs := cmd.Flags()
	fs.StringSliceVar(&req.Share, "share", nil, "`EVIDENCE-IDS` to share in answer (comma-separated, or the flag repeated)")
	fs.BoolVar(&req.Partial, "partial", false, "the answer shares part of what was sought: the request stays open")
	fs.BoolVar(&req.Refuse, "refuse", false, "refuse the request (needs --reason)")
	fs.StringVar(&req.Reason, "reason", "", "`TEXT` saying why, recorded in the custody event")
	fs.StringVar(&expires, "expires", "", "`WHEN` the grants end (default: the instrument's grant days)")
	fs.IntVar(&req.MaxDownloads, "max-downloads", 0, "allow `N` downloads per grant (0: no limit)")
	fs.BoolVar(&req.ViewOnly, "view-only", false, "grant viewing the record only, no download")
	cmd.MarkFlagsMutuallyExclusive("share", "refuse")
	cmd.MarkFlagsMutuallyExclusive("partial", "refuse")
	return cmd
}

func (a *app) respond(ctx context.Context, id string, req api.RespondRequest) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	r, err := c.RespondRequest(ctx, id, req)
	if err != nil {
		return fmt.Errorf("answering %s: %w", id, err)
	}
	if a.json {
		return a.printJSON(r)
	}
	for _, g := range r.Grants {
		a.printf("granted %s to %s under %s (grant %s, expires %s)\n", g.Custody.EvidenceID, g.Grant.To, g.Grant.Instrument,
			g.Grant.GrantID, g.Grant.Expires.UTC().Format(time.RFC3339))
	}
	a.printf("%s is %s\n", r.Request.RequestID, r.Request.State)
	a.printCustody(&r.Custody)
	return nil
}

func (a *app) newAcknowledgeCmd() *cobra.Command {
	var note string
	cmd := a.clientCommand(&cobra.Command{
		Use:     "acknowledge REQUEST-ID [--note TEXT]",
		Short:   "Acknowledge receipt of a request addressed to your agency",
		Long:    "Acknowledge receipt of a request addressed to your agency, as a custody event of the request.",
		Example: "  evidencegw acknowledge $REQ --note \"assigned to the cyber unit\"",
		Args:    positional("REQUEST-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.requestAction(cmd.Context(), args[0], "acknowledging", note, (*client.Client).AcknowledgeRequest)
		},
	})
	cmd.Flags().StringVar(&note, "note", "", "`TEXT` recorded in the custody event")
	return cmd
}

func (a *app) newWithdrawCmd() *cobra.Command {
	var reason string
	cmd := a.clientCommand(&cobra.Command{
		Use:     "withdraw REQUEST-ID [--reason TEXT]",
		Short:   "Withdraw a request your agency filed",
		Long:    "Withdraw a request your agency filed and that is not answered yet, as a custody event of the request.",
		Example: "  evidencegw withdraw $REQ --reason \"the suspect was identified\"",
		Args:    positional("REQUEST-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.requestAction(cmd.Context(), args[0], "withdrawing", reason, (*client.Client).WithdrawRequest)
		},
	})
	cmd.Flags().StringVar(&reason, "reason", "", "`TEXT` saying why, recorded in the custody event")
	return cmd
}

func (a *app) requestAction(ctx context.Context, id, doing, text string,
	f func(*client.Client, context.Context, string, string) (*api.RequestResult, error)) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	r, err := f(c, ctx, id, text)
	if err != nil {
		return fmt.Errorf("%s %s: %w", doing, id, err)
	}
	if a.json {
		return a.printJSON(r)
	}
	a.printf("%s is %s\n", r.Request.RequestID, r.Request.State)
	a.printCustody(&r.Custody)
	return nil
}

func (a *app) newRequestsCmd() *cobra.Command {
	var f client.RequestQuery
	var pg client.Page
	var dueBefore string
	var instruments bool
	cmd := a.clientCommand(&cobra.Command{
		Use:   "requests [REQUEST-ID] [--box inbox|outbox] [--state STATE[,STATE...]] [--counterparty AGENCY] [--instrument ID] [--case CASE] [--due-before WHEN] [--limit N] [--cursor C] [--instruments]",
		Short: "List the requests your agency takes part in, or show one",
		Long: `List the requests for evidence your agency filed or received, the most urgent deadline
first, filtered by --box (inbox: addressed to you; outbox: filed by you), --state (open,
acknowledged, fulfilled, partially-fulfilled, refused, withdrawn, or open-any),
--counterparty, --instrument, --case and --due-before. A page holds --limit requests;
the next page is --cursor with the value printed after it.

With a REQUEST-ID, show that request and its custody history. With --instruments, list
the legal instruments of the gateway's table instead.`,
		Example: `  evidencegw requests --box inbox --state open-any
  evidencegw requests --due-before 7d
  evidencegw requests $REQ
  evidencegw requests --instruments`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("unexpected argument %q", args[1])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if instruments {
				return a.instruments(cmd.Context())
			}
			if len(args) == 1 {
				return a.showRequest(cmd.Context(), args[0])
			}
			if dueBefore != "" {
				t, err := parseExpires(dueBefore, a.env.now())
				if err != nil {
					return usagef("invalid argument %q for \"--due-before\" flag: %v", dueBefore, err)
				}
				f.DueBefore = t.Format(time.RFC3339)
			}
			return a.listRequests(cmd.Context(), f, pg)
		},
	})
	fs := cmd.Flags()
	fs.StringVar(&f.Box, "box", "", "`BOX`: inbox (addressed to your agency) or outbox (filed by it)")
	fs.StringVar(&f.State, "state", "", "`STATES`, comma-separated, or open-any")
	fs.StringVar(&f.Counterparty, "counterparty", "", "the other `AGENCY`")
	fs.StringVar(&f.Instrument, "instrument", "", "legal instrument `ID`")
	fs.StringVar(&f.CaseID, "case", "", "`CASE` the request names")
	fs.StringVar(&dueBefore, "due-before", "", "only requests due before `WHEN` (a date, an RFC 3339 time or a duration)")
	pageFlags(cmd, &pg)
	fs.BoolVar(&instruments, "instruments", false, "list the legal instruments instead")
	return cmd
}

// pageFlags declares --limit and --cursor.
func pageFlags(cmd *cobra.Command, pg *client.Page) {
	cmd.Flags().IntVar(&pg.Limit, "limit", 0, "at most `N` items (default 50, at most 500)")
	cmd.Flags().StringVar(&pg.Cursor, "cursor", "", "continue after the previous page: its `CURSOR`")
}

func (a *app) listRequests(ctx context.Context, f client.RequestQuery, pg client.Page) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	p, err := c.Requests(ctx, f, pg)
	if err != nil {
		return fmt.Errorf("listing requests: %w", err)
	}
	if a.json {
		return a.printJSON(p)
	}
	a.printRequests(p.Requests, a.env.now())
	a.printNext(p.Next)
	return nil
}

func (a *app) printRequests(rs []api.RequestView, now time.Time) {
	if len(rs) == 0 {
		a.printf("no requests\n")
		return
	}
	tw := tabwriter.NewWriter(a.env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REQUEST\tFROM\tTO\tINSTRUMENT\tREFERENCE\tSTATE\tDUE")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.RequestID, r.From, r.To, r.Instrument, r.Reference, requestState(r), due(r.Deadline, now))
	}
	tw.Flush()
}

func requestState(r api.RequestView) string {
	s := r.State
	if r.Emergency {
		s += ", emergency"
	}
	if r.Overdue {
		s += ", OVERDUE"
	}
	return s
}

// due shows a deadline with the time left.
func due(t, now time.Time) string {
	left := t.Sub(now).Round(time.Minute)
	if left < 0 {
		return fmt.Sprintf("%s (passed)", t.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("%s (in %s)", t.UTC().Format(time.RFC3339), left)
}

func (a *app) printNext(next string) {
	if next != "" {
		a.printf("more: --cursor %s\n", next)
	}
}

func (a *app) showRequest(ctx context.Context, id string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	r, err := c.Request(ctx, id)
	if err != nil {
		return fmt.Errorf("showing %s: %w", id, err)
	}
	h, err := c.RequestHistory(ctx, id)
	if err != nil {
		return fmt.Errorf("showing %s: %w", id, err)
	}
	if a.json {
		return a.printJSON(struct {
			api.RequestView
			Events []api.HistoryEvent `json:"events"`
		}{*r, h.Events})
	}
	tw := tabwriter.NewWriter(a.env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Request\t%s\n", r.RequestID)
	fmt.Fprintf(tw, "From\t%s\nTo\t%s\n", r.From, r.To)
	fmt.Fprintf(tw, "Instrument\t%s (%s)\n", r.Instrument, r.InstrumentName)
	fmt.Fprintf(tw, "Reference\t%s\nIssuing authority\t%s\nSought\t%s\n", r.Reference, r.IssuingAuthority, r.Sought)
	if r.CaseID != "" {
		fmt.Fprintf(tw, "Case\t%s\n", r.CaseID)
	}
	fmt.Fprintf(tw, "State\t%s\nDue\t%s\n", requestState(*r), due(r.Deadline, a.env.now()))
	if r.Reason != "" {
		fmt.Fprintf(tw, "Reason\t%s\n", r.Reason)
	}
	for _, sh := range r.Shares {
		fmt.Fprintf(tw, "Shared\t%s (grant %s)\n", sh.EvidenceID, sh.GrantID)
	}
	tw.Flush()
	a.printf("\n")
	fmt.Fprintln(tw, "SEQ\tTIME\tACTION\tACTOR\tDETAIL")
	for _, e := range h.Events {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.UTC().Format(time.RFC3339), e.Action, e.Actor.Agency, e.Detail)
	}
	return tw.Flush()
}

func (a *app) instruments(ctx context.Context) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	ins, err := c.Instruments(ctx)
	if err != nil {
		return fmt.Errorf("listing instruments: %w", err)
	}
	if a.json {
		return a.printJSON(ins)
	}
	tw := tabwriter.NewWriter(a.env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tINSTRUMENT\tDEADLINE\tEMERGENCY\tDOWNLOAD")
	for _, in := range ins {
		em := "none"
		if in.EmergencyDeadlineSeconds > 0 {
			em = (time.Duration(in.EmergencyDeadlineSeconds) * time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", in.ID, in.Name, time.Duration(in.DeadlineSeconds)*time.Second, em, yesNo(in.AllowsDownload))
	}
	return tw.Flush()
}

func (a *app) newInboxCmd() *cobra.Command {
	var limit int
	cmd := a.clientCommand(&cobra.Command{
		Use:   "inbox [--limit N]",
		Short: "Show what awaits your agency: requests, grants to accept, active grants, deadlines",
		Long: `Show what awaits your agency: the open requests addressed to it, the grants to it
awaiting acceptance, its active accepted grants, and the deadlines of every open request
it takes part in, most urgent first. Each part shows --limit items; 'evidencegw requests'
and the --json output's next cursors continue them.`,
		Example: "  evidencegw inbox\n  evidencegw inbox --json | jq '.requests.requests[].request_id'",
		Args:    positional(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.inbox(cmd.Context(), limit)
		},
	})
	cmd.Flags().IntVar(&limit, "limit", 0, "at most `N` items per part (default 20, at most 500)")
	return cmd
}

func (a *app) inbox(ctx context.Context, limit int) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	in, err := c.Inbox(ctx, limit)
	if err != nil {
		return fmt.Errorf("reading the inbox: %w", err)
	}
	if a.json {
		return a.printJSON(in)
	}
	now := a.env.now()
	a.printf("Requests to %s to answer:\n", in.Agency)
	a.printRequests(in.Requests.Requests, now)
	a.printf("\nGrants to accept:\n")
	a.printGrants(in.AwaitingAcceptance.Grants)
	a.printf("\nActive grants:\n")
	a.printGrants(in.ActiveGrants.Grants)
	a.printf("\nDeadlines:\n")
	a.printRequests(in.Deadlines.Requests, now)
	return nil
}

func (a *app) printGrants(gs []api.GrantListing) {
	if len(gs) == 0 {
		a.printf("no grants\n")
		return
	}
	tw := tabwriter.NewWriter(a.env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EVIDENCE\tCASE\tOWNER\tGRANT\tLEGAL BASIS\tEXPIRES\tDOWNLOADS")
	for _, g := range gs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.EvidenceID, g.CaseID, g.Owner, g.GrantID, legalBasisText(g.GrantView),
			g.Expires.UTC().Format(time.RFC3339), downloads(g.GrantView))
	}
	tw.Flush()
}

// legalBasisText shows a grant's legal basis, saying whether it rests on a request's
// instrument or on free text.
func legalBasisText(g api.GrantView) string {
	if g.LegalBasisKind == api.LegalBasisInstrument {
		return fmt.Sprintf("%s (instrument %s, request %s)", g.LegalBasis, g.Instrument, g.RequestID)
	}
	return g.LegalBasis + " (free text)"
}

func (a *app) newCasesCmd() *cobra.Command {
	var pg client.Page
	cmd := a.clientCommand(&cobra.Command{
		Use:     "cases [--limit N] [--cursor C]",
		Short:   "List the cases that hold evidence you may see",
		Long:    "List, by id, the cases that hold evidence your agency may see: its own, and what was shared with it.",
		Example: "  evidencegw cases\n  evidencegw cases --json | jq -r '.cases[]'",
		Args:    positional(),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.cases(cmd.Context(), pg)
		},
	})
	pageFlags(cmd, &pg)
	return cmd
}

func (a *app) cases(ctx context.Context, pg client.Page) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	p, err := c.Cases(ctx, pg)
	if err != nil {
		return fmt.Errorf("listing cases: %w", err)
	}
	if a.json {
		return a.printJSON(p)
	}
	if len(p.Cases) == 0 {
		a.printf("no cases\n")
	}
	for _, id := range p.Cases {
		a.printf("%s\n", id)
	}
	a.printNext(p.Next)
	return nil
}

func (a *app) newCaseCmd() *cobra.Command {
	var pg client.Page
	cmd := a.clientCommand(&cobra.Command{
		Use:   "case CASE-ID [--limit N] [--cursor C]",
		Short: "Show a case and list its exhibits you may see",
		Long: `Show what your agency may see of a case: how many of its exhibits, whose, the requests
naming it, and a page of its exhibits (oldest first) with the grants you may see.`,
		Example: "  evidencegw case CASE-2026-0042\n  evidencegw case CASE-2026-0042 --json | jq -r '.exhibits[].evidence_id'",
		Args:    positional("CASE-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.showCase(cmd.Context(), args[0], pg)
		},
	})
	pageFlags(cmd, &pg)
	return cmd
}

func (a *app) showCase(ctx context.Context, id string, pg client.Page) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	v, err := c.Case(ctx, id)
	if err != nil {
		return fmt.Errorf("showing case %s: %w", id, err)
	}
	p, err := c.CaseExhibits(ctx, id, pg)
	if err != nil {
		return fmt.Errorf("listing the exhibits of case %s: %w", id, err)
	}
	if a.json {
		return a.printJSON(struct {
			api.CaseView
			ExhibitList []api.ExhibitListing `json:"exhibit_list"`
			Next        string               `json:"next,omitempty"`
		}{*v, p.Exhibits, p.Next})
	}
	a.printf("Case %s: %d exhibits of %s, %d requests\n\n", v.CaseID, v.Exhibits, strings.Join(v.Owners, ", "), v.Requests)
	tw := tabwriter.NewWriter(a.env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EVIDENCE\tOWNER\tSIZE\tREGISTERED\tSTATE\tGRANTS\tDESCRIPTION")
	for _, e := range p.Exhibits {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%s\n", e.EvidenceID, e.Owner, e.Size, e.RegisteredAt.UTC().Format(time.RFC3339),
			exhibitState(e), len(e.Grants), e.Description)
	}
	tw.Flush()
	a.printNext(p.Next)
	return nil
}

// exhibitState names the state of a listed exhibit in a word: disposed of, frozen by a
// damaged chain, under legal hold, or kept.
func exhibitState(e api.ExhibitListing) string {
	switch {
	case e.Disposed:
		return "disposed"
	case e.Damaged:
		return "damaged"
	case e.Held:
		return "held"
	}
	return "kept"
}
