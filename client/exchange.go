package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
)

// The exchange: requests for evidence under a legal instrument, the inbox and the
// catalog's listings (docs/api.md, "Requests" and "Listings").

// requestPath returns /v1/requests/{id} followed by suffix, refusing ids that are not
// well-formed request ids.
func requestPath(id, suffix string) (string, error) {
	if !custody.ValidRequestID(id) {
		return "", fmt.Errorf("invalid request id %q: want rq- and 26 letters or digits 2-7", id)
	}
	return "/v1/requests/" + id + suffix, nil
}

// get GETs path with query and decodes the JSON answer as a T.
func get[T any](ctx context.Context, c *Client, path string, q url.Values) (*T, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(path, q), nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	req.Header.Set("Accept", api.JSONMediaType)
	resp, err := c.send(req, http.StatusOK)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out T
	if err := decodeJSON(resp, "GET "+path, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Page asks for one page of a listing: Cursor is the Next of the previous page.
type Page struct {
	Cursor string
	Limit  int
}

func (p Page) values() url.Values {
	q := url.Values{}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	return q
}

// Instruments returns the legal instruments of the gateway's table.
func (c *Client) Instruments(ctx context.Context) ([]api.InstrumentView, error) {
	out, err := get[[]api.InstrumentView](ctx, c, "/v1/instruments", nil)
	if err != nil {
		return nil, err
	}
	return *out, nil
}

// Inbox returns what awaits the caller's agency, limit items per part (0: the
// gateway's default).
func (c *Client) Inbox(ctx context.Context, limit int) (*api.Inbox, error) {
	return get[api.Inbox](ctx, c, "/v1/inbox", Page{Limit: limit}.values())
}

// Cases returns a page of the cases the caller may see.
func (c *Client) Cases(ctx context.Context, p Page) (*api.CasePage, error) {
	return get[api.CasePage](ctx, c, "/v1/cases", p.values())
}

// Case returns what the caller may see of a case.
func (c *Client) Case(ctx context.Context, caseID string) (*api.CaseView, error) {
	if !custody.ValidCaseID(caseID) {
		return nil, fmt.Errorf("invalid case id %q", caseID)
	}
	return get[api.CaseView](ctx, c, "/v1/cases/"+caseID, nil)
}

// CaseExhibits returns a page of the exhibits of a case the caller may view.
func (c *Client) CaseExhibits(ctx context.Context, caseID string, p Page) (*api.ExhibitPage, error) {
	if !custody.ValidCaseID(caseID) {
		return nil, fmt.Errorf("invalid case id %q", caseID)
	}
	return get[api.ExhibitPage](ctx, c, "/v1/cases/"+caseID+"/exhibits", p.values())
}

// RequestQuery filters GET /v1/requests; empty fields filter nothing.
type RequestQuery struct {
	Box, Counterparty, State, CaseID, Instrument string
	// DueBefore and DueAfter are RFC 3339 times.
	DueBefore, DueAfter string
}

// Requests returns a page of the requests the caller's agency takes part in.
func (c *Client) Requests(ctx context.Context, f RequestQuery, p Page) (*api.RequestPage, error) {
	q := p.values()
	for k, v := range map[string]string{"box": f.Box, "counterparty": f.Counterparty, "state": f.State, "case": f.CaseID,
		"instrument": f.Instrument, "due_before": f.DueBefore, "due_after": f.DueAfter} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return get[api.RequestPage](ctx, c, "/v1/requests", q)
}

// GrantQuery filters GET /v1/grants; empty fields filter nothing.
type GrantQuery struct {
	Box, Counterparty, State, CaseID, Instrument, RequestID string
}

// Grants returns a page of the grants the caller may see.
func (c *Client) Grants(ctx context.Context, f GrantQuery, p Page) (*api.GrantPage, error) {
	q := p.values()
	for k, v := range map[string]string{"box": f.Box, "counterparty": f.Counterparty, "state": f.State, "case": f.CaseID,
		"instrument": f.Instrument, "request": f.RequestID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return get[api.GrantPage](ctx, c, "/v1/grants", q)
}

// FileRequest files a request for evidence under a legal instrument, with the
// member's signed act filing it.
func (c *Client) FileRequest(ctx context.Context, req api.FileRequest) (*api.RequestResult, error) {
	a := req.Act()
	hdr, err := c.actHeader(ctx, "", custody.FilingDigest(a.CaseID, *a.Request), a)
	if err != nil {
		return nil, err
	}
	var out api.RequestResult
	if err := c.doJSONWith(ctx, http.MethodPost, "/v1/requests", req, http.StatusCreated, &out, hdr); err != nil {
		return nil, err
	}
	return &out, nil
}

// signedRequestJSON POSTs in to /v1/requests/{id}<suffix> with the member's signed act
// a about the request, whose digest it reads from the gateway first.
func signedRequestJSON[T any](ctx context.Context, c *Client, id, suffix string, a custody.Act, in any) (*T, error) {
	path, err := requestPath(id, suffix)
	if err != nil {
		return nil, err
	}
	if c.acts == nil {
		return nil, ErrNoActSigner
	}
	rq, err := c.Request(ctx, id)
	if err != nil {
		return nil, err
	}
	if rq.Digest == "" {
		return nil, fmt.Errorf("GET %s: the gateway gives no digest of the request to sign the act with", path)
	}
	hdr, err := c.actHeader(ctx, id, rq.Digest, a)
	if err != nil {
		return nil, err
	}
	var out T
	if err := c.doJSONWith(ctx, http.MethodPost, path, in, http.StatusOK, &out, hdr); err != nil {
		return nil, err
	}
	return &out, nil
}

func requestJSON[T any](ctx context.Context, c *Client, method, id, suffix string, in any) (*T, error) {
	path, err := requestPath(id, suffix)
	if err != nil {
		return nil, err
	}
	var out T
	if err := c.doJSON(ctx, method, path, in, http.StatusOK, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Request returns a request the caller's agency takes part in.
func (c *Client) Request(ctx context.Context, id string) (*api.RequestView, error) {
	return requestJSON[api.RequestView](ctx, c, http.MethodGet, id, "", nil)
}

// RequestHistory returns the custody events of a request.
func (c *Client) RequestHistory(ctx context.Context, id string) (*api.RequestHistory, error) {
	return requestJSON[api.RequestHistory](ctx, c, http.MethodGet, id, "/events", nil)
}

// AcknowledgeRequest acknowledges receipt of a request, as its addressee. Like every
// change of a request, it signs the member's act.
func (c *Client) AcknowledgeRequest(ctx context.Context, id, note string) (*api.RequestResult, error) {
	return signedRequestJSON[api.RequestResult](ctx, c, id, "/acknowledge",
		custody.Act{Action: custody.ActionRequestAcknowledged, Reason: note}, api.RequestAction{Reason: note})
}

// RespondRequest answers a request, as its addressee: shares exhibits or refuses.
func (c *Client) RespondRequest(ctx context.Context, id string, req api.RespondRequest) (*api.RequestResult, error) {
	return signedRequestJSON[api.RequestResult](ctx, c, id, "/respond", req.Act(), req)
}

// WithdrawRequest withdraws a request, as its requester.
func (c *Client) WithdrawRequest(ctx context.Context, id, reason string) (*api.RequestResult, error) {
	return signedRequestJSON[api.RequestResult](ctx, c, id, "/withdraw",
		custody.Act{Action: custody.ActionRequestWithdrawn, Reason: reason}, api.RequestAction{Reason: reason})
}

// RequestBundle exports the custody bundle of a request (itself a custody event).
func (c *Client) RequestBundle(ctx context.Context, id string) (*BundleResult, error) {
	path, err := requestPath(id, "/bundle")
	if err != nil {
		return nil, err
	}
	return c.exportBundle(ctx, path, nil)
}
