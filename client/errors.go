package client

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/evidencegw/evidencegw/api"
)

// ErrCertificateRefused is returned when the gateway ends the TLS handshake because it
// does not accept the client certificate.
var ErrCertificateRefused = errors.New("the gateway refused this identity's certificate: expired, revoked or not issued by a CA it trusts")

// ErrGatewayUntrusted is returned when the gateway's server certificate does not verify
// against the identity's CA certificates or does not match the gateway address.
var ErrGatewayUntrusted = errors.New("the gateway's certificate is not trusted by this identity (ca.pem) or does not match the gateway address")

// maxProblemSize bounds the error body read from the gateway.
const maxProblemSize = 64 << 10

// readProblem turns an error response into an *api.Problem. A body that is not problem+json
// (a proxy's HTML page, say) becomes the detail, shortened.
func readProblem(resp *http.Response) *api.Problem {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxProblemSize))
	p := &api.Problem{Status: resp.StatusCode}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == api.ProblemMediaType || mt == api.JSONMediaType {
		if json.Unmarshal(body, p) == nil {
			p.Status = resp.StatusCode
			return p
		}
	}
	p.Title = http.StatusText(resp.StatusCode)
	p.Detail = shorten(strings.TrimSpace(string(body)), 200)
	return p
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// refusalAlerts are the TLS alerts a server sends when it will not accept the client
// certificate (RFC 8446 section 6.2).
var refusalAlerts = map[tls.AlertError]bool{
	42:  true, // bad_certificate
	43:  true, // unsupported_certificate
	44:  true, // certificate_revoked
	45:  true, // certificate_expired
	46:  true, // certificate_unknown
	48:  true, // unknown_ca
	116: true, // certificate_required
}

// transportError explains a failure to exchange a request with the gateway; op says
// what was being done ("GET /v1/whoami").
func transportError(op string, err error) error {
	var alert tls.AlertError
	if errors.As(err, &alert) && refusalAlerts[alert] {
		return fmt.Errorf("%s: %w (TLS alert %q)", op, ErrCertificateRefused, alert.Error())
	}
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		return fmt.Errorf("%s: %w: %v", op, ErrGatewayUntrusted, verr.Err)
	}
	// Some paths through net/http flatten the alert into text.
	if s := err.Error(); strings.Contains(s, "remote error: tls: ") && strings.Contains(s, "certificate") {
		return fmt.Errorf("%s: %w (%v)", op, ErrCertificateRefused, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
