package e2e

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/client"
	"github.com/evidencegw/evidencegw/custody"
)

// actTransport signs, as the CLI does, the member's act of a register or share request
// that carries none, so that the tests of raw HTTP behaviour (bad digests, malformed
// bodies, cut uploads, benchmarks) reach the checks they are about. A request that
// already has a Custody-Act header goes as it is.
type actTransport struct {
	base   http.RoundTripper
	signer *client.ActSigner
}

// newActTransport is actTransport over base, signing with the key of base's client
// certificate.
func newActTransport(base *http.Transport) (*actTransport, error) {
	cert := base.TLSClientConfig.Certificates[0]
	s, err := signature.LoadSigner(cert.PrivateKey, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	var chain []*x509.Certificate
	for _, der := range cert.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		chain = append(chain, c)
	}
	signer, err := client.NewActSigner(s, chain)
	if err != nil {
		return nil, err
	}
	return &actTransport{base: base, signer: signer}, nil
}

func (a *actTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || r.Header.Get(api.HeaderCustodyAct) != "" {
		return a.base.RoundTrip(r)
	}
	var (
		id, sha string
		act     custody.Act
	)
	switch p := r.URL.Path; {
	case p == "/v1/evidence":
		d, err := api.ParseDigest(r.Header.Values(api.HeaderContentDigest)...)
		if err != nil {
			return a.base.RoundTrip(r)
		}
		sha = hex.EncodeToString(d)
		act = custody.Act{Action: custody.ActionRegister, CaseID: r.URL.Query().Get("case_id"), Description: r.URL.Query().Get("description")}
	case strings.HasPrefix(p, "/v1/evidence/") && strings.HasSuffix(p, "/grants") && r.Body != nil:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		var terms custody.GrantTerms
		if len(body) > 64<<10 || json.Unmarshal(body, &terms) != nil {
			// Refused for its size or form before any act is looked at.
			return a.base.RoundTrip(r)
		}
		id = strings.TrimSuffix(strings.TrimPrefix(p, "/v1/evidence/"), "/grants")
		sha = a.registered(r, id)
		act = custody.Act{Action: custody.ActionShare, Terms: &terms}
	default:
		return a.base.RoundTrip(r)
	}
	act.Time = time.Now()
	sa, err := a.signer.Sign(r.Context(), id, sha, act)
	if err != nil {
		return nil, err
	}
	v, err := api.FormatAct(sa)
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.Header.Set(api.HeaderCustodyAct, v)
	return a.base.RoundTrip(r)
}

// registered returns the registered SHA-256 of evidence id, zeros if the member cannot
// read it (the request is then refused for that, as it would be anyway).
func (a *actTransport) registered(r *http.Request, id string) string {
	zero := strings.Repeat("0", 64)
	u := *r.URL
	u.Path = "/v1/evidence/" + id
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		return zero
	}
	resp, err := a.base.RoundTrip(req)
	if err != nil {
		return zero
	}
	defer resp.Body.Close()
	var v api.EvidenceView
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&v) != nil {
		return zero
	}
	return v.SHA256
}
