// Package client calls the evidence gateway's HTTP API (docs/api.md) over mutual TLS:
// one method per endpoint, plus the two transfers that need care: Upload streams a
// file after hashing it, Download verifies what it received before it puts it in place.
//
// The JSON shapes of the API are package api's, which the gateway encodes its answers
// with. Error responses (RFC 9457) are returned as *api.Problem.
//
// It may import api, custody and pki; it must not import the server side (gateway,
// exhibit, ledger, storage, keys, policy).
package client

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/pki"
)

// Connection timeouts. None of them bounds a whole request: an upload or download of
// tens of gigabytes takes hours, so only the caller's context ends a transfer.
const (
	// dialTimeout bounds opening the TCP connection to the gateway.
	dialTimeout = 30 * time.Second
	// keepAlive is the TCP keep-alive period, which detects a dead peer during a
	// long transfer.
	keepAlive = 30 * time.Second
	// tlsHandshakeTimeout bounds the TLS handshake, mutual authentication included.
	tlsHandshakeTimeout = 30 * time.Second
	// expectContinueTimeout is how long an upload waits for "100 Continue" before it
	// sends the body anyway. The wait lets the gateway refuse an upload (identity,
	// policy, size) before gigabytes are sent.
	expectContinueTimeout = 10 * time.Second
	// responseHeaderTimeout bounds the wait for the response once the request, body
	// included, is sent. The gateway seals and stores an upload while it streams, so
	// what is left after the last byte (sign, log, prove) takes seconds, not minutes.
	responseHeaderTimeout = 10 * time.Minute
	// idleConnTimeout closes pooled connections nobody used for that long.
	idleConnTimeout = 90 * time.Second
)

// maxJSONResponse bounds a JSON response body (bundles have their own bound).
const maxJSONResponse = 16 << 20

// ProgressFunc receives the progress of a long operation: phase names it ("hashing",
// "uploading", "downloading"), done is the number of bytes processed so far out of
// total. It is called with done 0 first, then after every chunk, and with done equal
// to total when the phase completes. It is called from one goroutine at a time and
// must be fast: throttle any drawing.
type ProgressFunc func(phase string, done, total int64)

// Client calls one gateway as one identity. It is safe for concurrent use.
type Client struct {
	base *url.URL
	http *http.Client
	// signer is the private key of the client certificate, for receipts; nil if the
	// TLS configuration has no certificate.
	signer crypto.Signer
	// acts signs the member's acts: by default the key of the client certificate.
	acts *ActSigner
	now  func() time.Time
}

// New returns a client for the gateway and identity of id.
func New(id pki.Identity) (*Client, error) {
	cfg, err := id.TLSConfig()
	if err != nil {
		return nil, fmt.Errorf("creating gateway client: %w", err)
	}
	return NewFromTLS(id.GatewayURL, cfg)
}

// NewFromTLS returns a client for the gateway at baseURL (an https URL) that
// authenticates with the first certificate of tlsConfig, which it clones. No proxy is
// used.
func NewFromTLS(baseURL string, tlsConfig *tls.Config) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("creating gateway client: parsing gateway URL: %w", err)
	}
	if u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("creating gateway client: gateway URL %q is not an https URL with a host", baseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	tlsConfig = tlsConfig.Clone()
	c := &Client{base: u, now: time.Now}
	if len(tlsConfig.Certificates) > 0 {
		c.signer, _ = tlsConfig.Certificates[0].PrivateKey.(crypto.Signer)
		c.acts, _ = tlsActSigner(tlsConfig.Certificates[0])
	}
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: keepAlive}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ExpectContinueTimeout: expectContinueTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		IdleConnTimeout:       idleConnTimeout,
		ForceAttemptHTTP2:     true,
		HTTP2:                 http2Config(),
		// Evidence travels as is: no transparent gzip that would hide the length.
		DisableCompression: true,
	}
	c.http = &http.Client{
		Transport: transport,
		// A redirect would replay a request, body and all, somewhere else: refuse.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// http2Config returns the client's HTTP/2 settings. A download stream can have no more
// bytes in flight than the client's receive window for it: Go's default of 4 MiB holds
// a download over a 100 ms link between countries to about 40 MB/s
// (BenchmarkDownloadOverLatency). The client holds 16 MiB per stream at most, for one
// transfer at a time.
func http2Config() *http.HTTP2Config {
	return &http.HTTP2Config{MaxReceiveBufferPerStream: 16 << 20, MaxReceiveBufferPerConnection: 32 << 20}
}

// CloseIdleConnections closes the client's idle connections.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// endpoint returns the URL of path (which starts with /v1/) with an optional query.
func (c *Client) endpoint(path string, query url.Values) string {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	return u.String()
}

// evidencePath returns /v1/evidence/{id} followed by suffix, refusing ids that are not
// well-formed evidence ids.
func evidencePath(id, suffix string) (string, error) {
	if !custody.ValidEvidenceID(id) {
		return "", fmt.Errorf("invalid evidence id %q: want ev- and 26 letters or digits 2-7", id)
	}
	return "/v1/evidence/" + id + suffix, nil
}

// send sends req and returns the response if its status is one of want; otherwise the
// response is closed and an *api.Problem (or a transport error) returned.
//
// A 429 or 503 answer with Retry-After (a per-member limit, a gateway busy with
// uploads) is retried after the time it says, up to maxBusyRetries times, if the request
// can be sent again (no body, or a body with GetBody): the gateway refused it before
// acting on it. A witness-quorum 503 came after the change was recorded: it is retried
// only for a request that is safe to repeat. A lost connection is retried, with exponential backoff, only for a
// request that is safe to repeat (retrySafe).
func (c *Client) send(req *http.Request, want ...int) (*http.Response, error) {
	op := req.Method + " " + req.URL.Path
	tries := 0
	return backoff.Retry(req.Context(), func() (*http.Response, error) {
		if tries++; tries > 1 {
			if err := rewind(req); err != nil {
				return nil, backoff.Permanent(fmt.Errorf("%s: %w", op, err))
			}
		}
		resp, err := c.http.Do(req)
		if err != nil {
			if ctxErr := req.Context().Err(); ctxErr != nil {
				return nil, backoff.Permanent(fmt.Errorf("%s: %w", op, ctxErr))
			}
			terr := transportError(op, err)
			if retrySafe(req) && replayable(req) && tries <= maxBusyRetries && !errors.Is(err, ErrContentChanged) {
				return nil, terr
			}
			return nil, backoff.Permanent(terr)
		}
		if slices.Contains(want, resp.StatusCode) {
			return resp, nil
		}
		defer resp.Body.Close()
		prob := readProblem(resp)
		perr := fmt.Errorf("%s: %w", op, prob)
		if wait, ok := retryAfter(resp); ok && replayable(req) && tries <= maxBusyRetries && (retrySafe(req) || !acted(prob)) {
			return nil, &backoff.RetryAfterError{Duration: wait}
		}
		return nil, backoff.Permanent(perr)
	}, backoff.WithMaxElapsedTime(0))
}

// acted reports whether a refusal came after the gateway acted on the request: a
// change the witnesses did not cosign was recorded, and only counts once they do, so
// sending it again would record it twice (unless the request is retrySafe).
func acted(err error) bool {
	var p *api.Problem
	return errors.As(err, &p) && p.Kind() == api.ProblemWitnessQuorum
}

// maxBusyRetries bounds the retries of a request the gateway was too busy for, and
// maxRetryAfter the wait before one.
const (
	maxBusyRetries = 5
	maxRetryAfter  = time.Minute
)

// retryAfter returns how long a 429 or 503 answer asks to wait (RFC 9110 10.2.3).
func retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	v := resp.Header.Get("Retry-After")
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return min(time.Duration(secs)*time.Second, maxRetryAfter), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), maxRetryAfter), true
	}
	return 0, false
}

// retrySafe reports whether sending req twice does what sending it once does: a
// read, or a change with an idempotency key (docs/api.md).
func retrySafe(req *http.Request) bool {
	return req.Method == http.MethodGet || req.Method == http.MethodHead ||
		req.Header.Get(api.HeaderIdempotencyKey) != ""
}

// replayable reports whether req can be sent again.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// rewind gives req a fresh body to send again.
func rewind(req *http.Request) error {
	if req.GetBody == nil {
		return nil
	}
	body, err := req.GetBody()
	if err != nil {
		return fmt.Errorf("rewinding the request body: %w", err)
	}
	req.Body = body
	return nil
}

// doJSON sends in (if not nil) as JSON and decodes a want-status response into out.
func (c *Client) doJSON(ctx context.Context, method, path string, in any, want int, out any) error {
	return c.doJSONWith(ctx, method, path, in, want, out, nil)
}

// doJSONWith is doJSON with extra request headers.
func (c *Client) doJSONWith(ctx context.Context, method, path string, in any, want int, out any, hdr http.Header) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encoding request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path, nil), body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", api.JSONMediaType)
	if in != nil {
		req.Header.Set("Content-Type", api.JSONMediaType)
	}
	resp, err := c.send(req, want)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeJSON(resp, method+" "+path, out)
}

// decodeJSON decodes a bounded JSON response body into out.
func decodeJSON(resp *http.Response, op string, out any) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONResponse+1))
	if err != nil {
		return fmt.Errorf("%s: reading response: %w", op, err)
	}
	if len(b) > maxJSONResponse {
		return fmt.Errorf("%s: response larger than %d bytes", op, maxJSONResponse)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: decoding response: %w", op, err)
	}
	return nil
}

// custodyHeader decodes the Custody-Event header of resp, nil if there is none.
func custodyHeader(resp *http.Response) (*api.CustodyReceipt, error) {
	v := resp.Header.Get(api.HeaderCustodyEvent)
	if v == "" {
		return nil, nil
	}
	return api.ParseCustodyEvent(v)
}

// evidenceJSON sends in (if not nil) to /v1/evidence/{id}<suffix> and decodes the
// want-status JSON answer as a T.
func evidenceJSON[T any](ctx context.Context, c *Client, method, evidenceID, suffix string, in any, want int) (*T, error) {
	path, err := evidencePath(evidenceID, suffix)
	if err != nil {
		return nil, err
	}
	var out T
	if err := c.doJSON(ctx, method, path, in, want, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// signedJSON is evidenceJSON for a change of custody: it signs the act a about the
// evidence (with its registered digest, read from the gateway) and sends it in the
// Custody-Act header.
func signedJSON[T any](ctx context.Context, c *Client, evidenceID, suffix string, a custody.Act, in any, want int) (*T, error) {
	path, err := evidencePath(evidenceID, suffix)
	if err != nil {
		return nil, err
	}
	hdr, err := c.actHeader(ctx, evidenceID, "", a)
	if err != nil {
		return nil, err
	}
	var out T
	if err := c.doJSONWith(ctx, http.MethodPost, path, in, want, &out, hdr); err != nil {
		return nil, err
	}
	return &out, nil
}

// Whoami returns the principal the gateway authenticated this identity as.
func (c *Client) Whoami(ctx context.Context) (*custody.Party, error) {
	var p custody.Party
	if err := c.doJSON(ctx, http.MethodGet, "/v1/whoami", nil, http.StatusOK, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Evidence returns what the gateway reports about an evidence item.
func (c *Client) Evidence(ctx context.Context, evidenceID string) (*api.EvidenceView, error) {
	return evidenceJSON[api.EvidenceView](ctx, c, http.MethodGet, evidenceID, "", nil, http.StatusOK)
}

// api.History returns the custody events of an evidence item.
func (c *Client) History(ctx context.Context, evidenceID string) (*api.History, error) {
	return evidenceJSON[api.History](ctx, c, http.MethodGet, evidenceID, "/events", nil, http.StatusOK)
}

// Share grants a partner agency access to an evidence item.
func (c *Client) Share(ctx context.Context, evidenceID string, req api.ShareRequest) (*api.GrantResult, error) {
	a := custody.Act{Action: custody.ActionShare, Terms: &custody.GrantTerms{To: req.To, LegalBasis: req.LegalBasis,
		Expires: req.Expires, MaxDownloads: req.MaxDownloads, ViewOnly: req.ViewOnly}}
	return signedJSON[api.GrantResult](ctx, c, evidenceID, "/grants", a, req, http.StatusCreated)
}

// Revoke ends a grant.
func (c *Client) Revoke(ctx context.Context, evidenceID, grantID string, req api.RevokeRequest) (*api.GrantResult, error) {
	if !custody.ValidGrantID(grantID) {
		return nil, fmt.Errorf("revoking grant: invalid grant id %q: want gr- and 16 letters or digits 2-7", grantID)
	}
	a := custody.Act{Action: custody.ActionRevoke, GrantID: grantID, Reason: req.Reason}
	return signedJSON[api.GrantResult](ctx, c, evidenceID, "/grants/"+grantID+"/revoke", a, req, http.StatusOK)
}

// Accept accepts a grant with the member's signed accept act (and the receipt of
// req, if any: see AcceptGrant).
func (c *Client) Accept(ctx context.Context, evidenceID string, req api.AcceptRequest) (*api.GrantResult, error) {
	a := custody.Act{Action: custody.ActionAccept, GrantID: req.GrantID}
	return signedJSON[api.GrantResult](ctx, c, evidenceID, "/accept", a, req, http.StatusOK)
}

// TrustRoot fetches the gateway's trust root and checks that it parses. It returns the
// parsed trust root and the exact bytes received, which a court pins.
func (c *Client) TrustRoot(ctx context.Context) (*custody.TrustRoot, []byte, error) {
	const path = "/v1/trust-root"
	raw, err := c.getBounded(ctx, path, custody.MaxTrustRootSize)
	if err != nil {
		return nil, nil, err
	}
	tr, err := custody.ParseTrustRoot(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return tr, raw, nil
}

// TrustRootChain fetches the logged changes of the trust root (docs/bundle.md), as
// sent; it is checked by the verifier that follows it from a pinned version.
func (c *Client) TrustRootChain(ctx context.Context) (*custody.TrustRootChain, []byte, error) {
	const path = "/v1/trust-root/chain"
	raw, err := c.getBounded(ctx, path, custody.MaxTrustRootChainSize)
	if err != nil {
		return nil, nil, err
	}
	chain, err := custody.ParseTrustRootChain(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return chain, raw, nil
}

// getBounded GETs path and returns its body, refused past limit bytes.
func (c *Client) getBounded(ctx context.Context, path string, limit int64) ([]byte, error) {
	op := "GET " + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(path, nil), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	resp, err := c.send(req, http.StatusOK)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := readBounded(resp.Body, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return raw, nil
}

// BundleResult is an exported court bundle.
type BundleResult struct {
	Bundle *custody.Bundle
	// Raw is the bundle exactly as received.
	Raw []byte
	// Custody is the bundle-export event the export recorded, if the gateway sent it.
	Custody *api.CustodyReceipt
}

// Bundle exports the court bundle of an evidence item. The export is itself a custody
// event. consistencyFrom lists tree sizes of checkpoints the caller already holds (in
// other bundles): the bundle then carries consistency proofs from them to its own.
func (c *Client) Bundle(ctx context.Context, evidenceID string, consistencyFrom ...uint64) (*BundleResult, error) {
	path, err := evidencePath(evidenceID, "/bundle")
	if err != nil {
		return nil, err
	}
	var q url.Values
	if len(consistencyFrom) > 0 {
		sizes := make([]string, len(consistencyFrom))
		for i, s := range consistencyFrom {
			sizes[i] = strconv.FormatUint(s, 10)
		}
		q = url.Values{"consistency_from": {strings.Join(sizes, ",")}}
	}
	return c.exportBundle(ctx, path, q)
}

// exportBundle asks for the bundle of the custody subject at path (POST, query q) and
// reads it back, bounded and parsed.
func (c *Client) exportBundle(ctx context.Context, path string, q url.Values) (*BundleResult, error) {
	op := "POST " + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(path, q), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Accept", custody.BundleMediaType)
	resp, err := c.send(req, http.StatusOK)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	r := &BundleResult{}
	if r.Custody, err = custodyHeader(resp); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if r.Raw, err = readBounded(resp.Body, custody.MaxBundleSize); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if r.Bundle, err = custody.ParseBundle(r.Raw); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return r, nil
}

// readBounded reads r to the end, failing if it holds more than limit bytes.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("response larger than %d bytes", limit)
	}
	return b, nil
}

// LogCheckpoint returns the custody log's latest signed checkpoint.
func (c *Client) LogCheckpoint(ctx context.Context) ([]byte, error) {
	const op = "GET /v1/log/checkpoint"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint("/v1/log/checkpoint", nil), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	resp, err := c.send(req, http.StatusOK)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := readBounded(resp.Body, 64<<10)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return b, nil
}

// LogConsistency returns the consistency proof between two tree sizes of the log.
func (c *Client) LogConsistency(ctx context.Context, from, to uint64) ([][]byte, error) {
	var p api.ConsistencyProof
	path := fmt.Sprintf("/v1/log/consistency?from=%d&to=%d", from, to)
	if err := c.getJSON(ctx, path, &p); err != nil {
		return nil, err
	}
	return p.Hashes, nil
}

// LogLeaves returns up to count leaves of the log from start, in the tree of size size.
func (c *Client) LogLeaves(ctx context.Context, start, count, size uint64) ([][]byte, error) {
	var p api.LeafPage
	path := fmt.Sprintf("/v1/log/leaves?start=%d&count=%d&size=%d", start, count, size)
	if err := c.getJSON(ctx, path, &p); err != nil {
		return nil, err
	}
	if p.Start != start || len(p.Leaves) == 0 || uint64(len(p.Leaves)) > count {
		return nil, fmt.Errorf("GET /v1/log/leaves: got %d leaves from %d, asked %d from %d", len(p.Leaves), p.Start, count, start)
	}
	return p.Leaves, nil
}

// getJSON GETs a path that may carry a query and decodes the JSON answer.
func (c *Client) getJSON(ctx context.Context, pathQuery string, out any) error {
	path, query, _ := strings.Cut(pathQuery, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(path, q), nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	req.Header.Set("Accept", api.JSONMediaType)
	resp, err := c.send(req, http.StatusOK)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeJSON(resp, "GET "+path, out)
}

// Hold puts an evidence item's content under legal hold (on) or releases it; either is a
// custody event.
func (c *Client) Hold(ctx context.Context, evidenceID string, on bool, reason string) (*api.CustodyReceipt, error) {
	suffix := "/hold"
	if !on {
		suffix = "/release"
	}
	a := custody.Act{Action: custody.ActionLegalHold, Reason: reason}
	if !on {
		a.Action = custody.ActionLegalHoldRelease
	}
	return signedJSON[api.CustodyReceipt](ctx, c, evidenceID, suffix, a, api.HoldRequest{Reason: reason}, http.StatusOK)
}

// Dispose disposes of evidence under the authority it names (POST
// /v1/evidence/{id}/dispose): the gateway destroys its content and every version of its
// data key and records a dispose event, with the member's signed act. A repeated call
// answers with the same event.
func (c *Client) Dispose(ctx context.Context, evidenceID, authority string) (*api.DisposalResult, error) {
	return signedJSON[api.DisposalResult](ctx, c, evidenceID, "/dispose", custody.Act{Action: custody.ActionDispose, Authority: authority},
		api.DisposeRequest{Authority: authority}, http.StatusOK)
}
