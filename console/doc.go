// Package console is the member's console: a local HTTP proxy on the loopback that
// serves a web interface (assets/, embedded) and holds the member's identity the way
// `kubectl proxy` does. The browser needs no client certificate; the proxy calls the
// gateway over mutual TLS with package client, which signs every change of custody
// with the member's own act key and, after a download it has checked, sends the
// member's signed receipt. docs/console.md describes the pages, the routes and the
// security model.
//
// The proxy answers only its own page on its own origin: it listens on a loopback
// address only; it requires, on every request, the session cookie set from a one-time
// login URL it prints; it refuses a Host that is not its own address (DNS rebinding)
// and an Origin or Sec-Fetch-Site that is not its own origin (CSRF, other local sites);
// it sends no CORS header and a strict Content-Security-Policy.
//
// The in-browser verifier of the custody timeline is cmd/custody-verify-wasm, the same
// as web/'s: `go generate ./console` builds it into verifier/, where it is embedded;
// a binary built without it shows the timeline from the gateway and says that the
// verifier is not built in.
//
// It may import api, custody, client, pki and internal/report; it must not import the
// server side (gateway, exhibit, ledger, storage, keys, policy).
package console

//go:generate env GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s -o verifier/custody-verify.wasm ../cmd/custody-verify-wasm
//go:generate sh -c "cp \"$(go env GOROOT)/lib/wasm/wasm_exec.js\" verifier/wasm_exec.js"
