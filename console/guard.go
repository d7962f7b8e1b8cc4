package console

import (
	"crypto/subtle"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
)

// Handler returns the console's handler: every request passes guard first.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	c.routes(mux)
	return c.guard(mux)
}

// guard admits a request only from the console's own page, in the browser that
// logged in (docs/console.md, "Security model"):
//
//  1. the Host header is the console's own address: a page of another name that
//     resolves to the loopback (DNS rebinding) is refused;
//  2. Sec-Fetch-Site, when the browser sends it, is same-origin or none (the member
//     typed or opened the URL): other sites, other local ports included, are refused;
//  3. Origin, when sent, is the console's own origin; a request that is not a GET or
//     HEAD must send it (browsers do): a form or a script of another origin cannot act;
//  4. /login with the one-time token sets the session cookie; every other request
//     must carry that cookie. The token is the secret there, so /login is taken from
//     any site (the page that opens the browser is a local file).
//
// Every answer carries the console's security headers; none allows another origin to
// read it (no CORS header).
func (c *Console) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.securityHeaders(w.Header())
		if r.Host != c.host {
			c.refuse(w, r, http.StatusForbidden, problemHost, "this console answers only at "+c.origin)
			return
		}
		login := r.URL.Path == "/login"
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" && !login {
			c.refuse(w, r, http.StatusForbidden, problemOrigin, "the console answers only its own page, not another site's")
			return
		}
		origin := r.Header.Get("Origin")
		safe := r.Method == http.MethodGet || r.Method == http.MethodHead
		if origin != "" && origin != c.origin || origin == "" && !safe {
			c.refuse(w, r, http.StatusForbidden, problemOrigin, "the console takes changes only from its own page")
			return
		}
		if login && safe {
			c.handleLogin(w, r)
			return
		}
		if !c.hasSession(r) {
			c.refuse(w, r, http.StatusUnauthorized, problemSession,
				"no console session: open the login URL the evidencegw console command printed (it works once), or start the console again")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders are sent with every answer.
func (c *Console) securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", c.assets.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// handleLogin takes the one-time login token, once: it sets the session cookie and
// sends the browser to the console's first page. The token cannot be used again, so
// a login URL left in a terminal's scrollback or a shell history opens nothing.
func (c *Console) handleLogin(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	c.mu.Lock()
	ok := c.login != "" && subtle.ConstantTimeCompare([]byte(token), []byte(c.login)) == 1
	if ok {
		c.login = ""
	}
	c.mu.Unlock()
	if !ok {
		c.refuse(w, r, http.StatusUnauthorized, problemSession,
			"this login URL is not valid or was already used: start the console again for a new one")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: c.cookie, Value: c.session, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
	c.log.InfoContext(r.Context(), "console session opened")
	// Not a redirect: a redirect would keep the login's initiator, which may be another
	// site (a local file), and the strict cookie would not be sent. The page goes on by
	// itself (a same-origin navigation) and says where to go.
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	io.WriteString(w, loginPage)
}

// loginPage sends the browser on to the console after the login.
const loginPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=/">
<title>Evidence console</title></head>
<body><p><a href="/">Open the evidence console</a></p></body></html>
`

// OpenerFile writes, in the console's private working directory, an HTML page that
// sends a browser to the login URL, and returns its path: opening that file rather
// than the URL keeps the login token off command lines, which other users of the
// machine can read.
func (c *Console) OpenerFile() (string, error) {
	u := html.EscapeString(c.URL())
	page := `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=` + u + `">
<title>Evidence console</title></head>
<body><p><a href="` + u + `">Open the evidence console</a></p></body></html>
`
	path := filepath.Join(c.work, "open.html")
	if err := os.WriteFile(path, []byte(page), 0o600); err != nil {
		return "", fmt.Errorf("writing the page that opens the console: %w", err)
	}
	return path, nil
}

// hasSession reports whether r carries the session cookie.
func (c *Console) hasSession(r *http.Request) bool {
	ck, err := r.Cookie(c.cookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(c.session)) == 1
}

// refuse answers a request the guard does not admit, and logs it without its
// cookies or query.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request, status int, kind, detail string) {
	c.log.WarnContext(r.Context(), "console request refused", "method", r.Method, "path", r.URL.Path,
		"status", status, "problem", kind)
	writeProblem(w, consoleProblem(kind, status, detail))
}
