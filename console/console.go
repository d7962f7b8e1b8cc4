package console

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/evidencegw/evidencegw/client"
)

// DefaultMaxUploadSize bounds a file the browser gives the console to upload: the
// gateway's default upload limit (docs/config.md, limits).
const DefaultMaxUploadSize = 1 << 40

// readHeaderTimeout bounds the arrival of a request's headers from the browser.
const readHeaderTimeout = 10 * time.Second

// Config is what a console needs.
type Config struct {
	// Client calls the gateway as the member. Its act signer signs every change of
	// custody the console makes; it must have one.
	Client *client.Client
	// Listen is the address to listen on: a loopback IP literal and a port, such as
	// "127.0.0.1:0" (a free port) or "[::1]:8100". Anything else is refused.
	Listen string
	// WorkDir is where the console keeps, while it runs, the files the browser gives
	// it to upload and the verified downloads it serves back: a private directory
	// created in it and removed by Close. "" means os.TempDir().
	WorkDir string
	// MaxUploadSize bounds one file to upload; 0 means DefaultMaxUploadSize.
	MaxUploadSize int64
	// Verifier, if not nil, holds custody-verify.wasm and wasm_exec.js in its root,
	// instead of the ones built in (verifier/).
	Verifier fs.FS
	// Gateway is the gateway's URL, shown in the page.
	Gateway string
	// Logger receives the console's log; nil discards it. Requests are logged by
	// method and route, never with their bodies, tokens or cookies.
	Logger *slog.Logger
}

// Console is a running console proxy.
type Console struct {
	cfg     Config
	log     *slog.Logger
	ln      net.Listener
	srv     *http.Server
	host    string // the only Host header accepted: the listener's address
	origin  string // http://host
	cookie  string // the session cookie's name
	session string // the session cookie's value
	work    string
	assets  *assets
	jobs    *jobs
	ctx     context.Context
	cancel  context.CancelFunc

	mu    sync.Mutex
	login string // the one-time login token; "" once used
}

// Listen checks cfg, listens on its loopback address and returns the console, ready
// to Serve. Its URL is the one-time login URL to open in the browser.
func Listen(cfg Config) (*Console, error) {
	if cfg.Client == nil || cfg.Client.ActSigner() == nil {
		return nil, errors.New("starting the console: no key to sign the member's acts with")
	}
	if err := CheckListen(cfg.Listen); err != nil {
		return nil, fmt.Errorf("starting the console: %w", err)
	}
	if cfg.MaxUploadSize <= 0 {
		cfg.MaxUploadSize = DefaultMaxUploadSize
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a, err := loadAssets(cfg.Verifier)
	if err != nil {
		return nil, fmt.Errorf("starting the console: %w", err)
	}
	dir := cfg.WorkDir
	if dir == "" {
		dir = os.TempDir()
	}
	work, err := os.MkdirTemp(dir, "evidencegw-console-")
	if err != nil {
		return nil, fmt.Errorf("starting the console: creating its working directory: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		os.RemoveAll(work)
		return nil, fmt.Errorf("starting the console: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Console{cfg: cfg, log: log, ln: ln, host: ln.Addr().String(), work: work, assets: a,
		login: rand.Text(), session: rand.Text(), ctx: ctx, cancel: cancel}
	c.origin = "http://" + c.host
	c.cookie = fmt.Sprintf("evidencegw-console-%d", ln.Addr().(*net.TCPAddr).Port)
	c.jobs = newJobs(c)
	c.srv = &http.Server{Handler: c.Handler(), ReadHeaderTimeout: readHeaderTimeout,
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	return c, nil
}

// CheckListen accepts only a loopback IP literal with a port: a name could resolve
// to another address, and the console must never be reachable from another machine.
func CheckListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want a loopback IP address and a port: %w", err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() || ip.Zone() != "" {
		return fmt.Errorf("the console listens only on a loopback IP address and a port, such as 127.0.0.1:0 or [::1]:8100")
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("want a loopback IP address and a port: %w", err)
	}
	return nil
}

// URL returns the one-time login URL: opening it sets the session cookie and shows the
// console. It holds the login token: print it only to the member.
func (c *Console) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.origin + "/login?" + url.Values{"token": {c.login}}.Encode()
}

// Addr returns the address the console listens on.
func (c *Console) Addr() string { return c.host }

// Serve serves the console until Close; it returns http.ErrServerClosed then.
func (c *Console) Serve() error { return c.srv.Serve(c.ln) }

// Close stops the console: it ends the uploads and downloads under way, closes the
// listener and removes the working directory with the files it held.
func (c *Console) Close() error {
	c.cancel()
	err := c.srv.Close()
	c.ln.Close() // if Serve was never called
	c.jobs.wait()
	if rerr := os.RemoveAll(c.work); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}
