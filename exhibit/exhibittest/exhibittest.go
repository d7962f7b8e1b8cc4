// Package exhibittest builds an exhibit.Service on in-memory fakes for the tests of the
// exhibit and gateway packages: the object store is storage/memstore, the log is
// ledgertest.MemLog, the keys are real local keys (keys.OpenLocal) in a temporary
// directory, the catalog is an SQLite file there too, the policies are the shipped
// ones, and the exchange has four agencies:
//
//	agency-nl  NL  investigator "investigator-nl"  owns what the tests register
//	agency-us  US  investigator "partner-us"       the partner the owner shares with
//	court-nl   NL  court "court-nl"                a court that verifies custody
//	agency-de  DE  investigator "investigator-de"  a stranger, never granted anything
//
// Each agency has a development CA of its own (Env.CAOf), which issues its member's
// client certificate, so that the gateway's tests can present it and the member's acts
// (and receipts) can be signed with its key. The helpers of flows.go sign the acts of
// every change as the client does.
//
// Fault hooks (FailCreate, FailOpen, FailAppend) may be set and cleared at any time,
// also while the service runs concurrently.
package exhibittest

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evidencegw/evidencegw/catalog/sqlcatalog"
	"github.com/evidencegw/evidencegw/catalog/sqlite"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/ledger/ledgertest"
	"github.com/evidencegw/evidencegw/pki"
	"github.com/evidencegw/evidencegw/policy"
	"github.com/evidencegw/evidencegw/storage"
	"github.com/evidencegw/evidencegw/storage/memstore"
)

// Origin is the log origin of the test exchange.
const Origin = "evidencegw.test/custody"

// Agencies of the test exchange.
const (
	AgencyNL = "agency-nl"
	AgencyUS = "agency-us"
	CourtNL  = "court-nl"
	AgencyDE = "agency-de"
)

// Member is one person of an agency, with the client certificate it connects with.
type Member struct {
	// Principal is what the gateway authenticates the member as; its Cert is set.
	Principal exhibit.Principal
	// Subject is the certificate subject as Go renders it, as the gateway maps it.
	Subject string
	// Key is the private key of Principal.Cert, for signing receipts.
	Key *ecdsa.PrivateKey
}

// Options change the Env that New builds.
type Options struct {
	// DataKeys replaces the local keys as the service's data keys (a *KeyManager to
	// rotate them, or one that fails).
	DataKeys keys.DataKeys
	// Rotator is the service's Rotator; none if nil.
	Rotator exhibit.Rotator
	// Logger receives the service's log; discarded if nil.
	Logger *slog.Logger
	// WrapStore, if set, wraps the memory store the service uses (to add a legal
	// hold, say); Env.Store stays the memory store underneath.
	WrapStore func(*memstore.Store) storage.Store
	// WrapLog, if set, wraps the memory log the service uses (to hide its leaves,
	// say); Env.Log stays the memory log underneath.
	WrapLog func(*ledgertest.MemLog) ledger.Log
	// UploadPartSegments is the service's Config.UploadPartSegments (0: its default).
	UploadPartSegments uint32
	// Step is the service's Config.Step.
	Step func(step string)
	// TransferLease is the service's download reservation lease; its default if 0.
	TransferLease time.Duration
	// Retention is the service's retention of each case's evidence; the store checks
	// it against Env.Clock, so a test advances the clock past it.
	Retention exhibit.Retention
	// FoldCacheBytes is the service's Config.FoldCacheBytes (0: its default, -1: no
	// folded state kept).
	FoldCacheBytes int64
	// OrphanGrace is the service's Config.OrphanGrace (0: its default). The memory
	// store stamps objects with Env.Clock, so advancing the clock ages them.
	OrphanGrace time.Duration
}

// Env is an exhibit.Service on in-memory fakes, with the members of the test exchange.
type Env struct {
	Service *exhibit.Service
	Store   *memstore.Store
	Log     *ledgertest.MemLog
	Keys    *keys.Local
	// CAs are the agencies' development CAs, by agency id.
	CAs      map[string]*pki.CA
	Clock    *Clock
	Registry *prometheus.Registry
	// Catalog is the service's catalog, an SQLite file in a temporary directory.
	Catalog *sqlcatalog.Catalog
	// Agencies are the agencies the service knows, with their jurisdictions.
	Agencies []exhibit.Agency

	Investigator Member // agency-nl, the owner
	Partner      Member // agency-us
	Court        Member // court-nl
	Stranger     Member // agency-de

	hooks  hooks
	config exhibit.Config

	// extraKeys are event keys added to the trust root of now (AddTrustedKey).
	extraMu   sync.Mutex
	extraKeys []custody.TrustedKey
}

// AddTrustedKey adds k to the event keys of the trust root of now, as a rotation does:
// the next trust root version lists it.
func (e *Env) AddTrustedKey(k custody.TrustedKey) {
	e.extraMu.Lock()
	defer e.extraMu.Unlock()
	e.extraKeys = append(e.extraKeys, k)
}

// hooks are the fault hooks, behind a lock so that tests may change them while the
// service runs.
type hooks struct {
	mu     sync.Mutex
	create func(name string) error
	open   func(name string) error
	append func(leaf []byte) error
}

// New builds an Env whose temporary files t removes.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	dir := t.TempDir()
	km, err := keys.OpenLocal(filepath.Join(dir, "keys"), Origin)
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Store: memstore.New(), Log: ledgertest.NewMemLog(km.CheckpointSigner()), Keys: km, CAs: map[string]*pki.CA{},
		Clock: NewClock(time.Now()), Registry: prometheus.NewRegistry(),
		Agencies: []exhibit.Agency{{ID: AgencyNL, Jurisdiction: "NL"}, {ID: AgencyUS, Jurisdiction: "US"},
			{ID: CourtNL, Jurisdiction: "NL"}, {ID: AgencyDE, Jurisdiction: "DE"}}}
	e.Store.Now = e.Clock.Now
	for i, a := range e.Agencies {
		ca, err := pki.OpenAgencyDevCA(filepath.Join(dir, "ca", a.ID), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		e.CAs[a.ID] = ca
		e.Agencies[i].CAs = []*x509.Certificate{ca.Cert()}
	}
	e.Store.Now = e.Clock.Now // the store's retention runs on the service's clock
	e.Store.BeforeCreate = func(name string) error { return e.hook(&e.hooks.create, name) }
	e.Store.BeforeOpen = func(name string) error { return e.hook(&e.hooks.open, name) }
	e.Log.FailAppend = func(leaf []byte) error {
		e.hooks.mu.Lock()
		f := e.hooks.append
		e.hooks.mu.Unlock()
		if f == nil {
			return nil
		}
		return f(leaf)
	}
	e.Investigator = e.member(t, AgencyNL, "NL", "investigator-nl", exhibit.RoleInvestigator)
	e.Partner = e.member(t, AgencyUS, "US", "partner-us", exhibit.RoleInvestigator)
	e.Court = e.member(t, CourtNL, "NL", "court-nl", exhibit.RoleCourt)
	e.Stranger = e.member(t, AgencyDE, "DE", "investigator-de", exhibit.RoleInvestigator)

	eventKeys, err := km.EventKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(policy.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dataKeys := opts.DataKeys
	if dataKeys == nil {
		dataKeys = km
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var store storage.Store = e.Store
	if opts.WrapStore != nil {
		store = opts.WrapStore(e.Store)
	}
	var log ledger.Log = e.Log
	if opts.WrapLog != nil {
		log = opts.WrapLog(e.Log)
	}
	if e.Catalog, err = sqlite.Open(t.Context(), filepath.Join(dir, "catalog.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Catalog.Close() })
	e.config = exhibit.Config{Store: store, Keys: dataKeys, Log: log, Catalog: e.Catalog,
		Signer: ledger.Signer{SignerVerifier: km.EventSigner(), KeyID: eventKeys[0].KeyID}, Policy: pol,
		Agencies: e.Agencies, Retention: opts.Retention, TrustRoot: e.trustRoot, Rotator: opts.Rotator, Logger: logger,
		Registry: e.Registry, Now: e.Clock.Now, UploadPartSegments: opts.UploadPartSegments, Step: opts.Step,
		TransferLease: opts.TransferLease, FoldCacheBytes: opts.FoldCacheBytes, OrphanGrace: opts.OrphanGrace}
	if e.Service, err = exhibit.New(e.config); err != nil {
		t.Fatal(err)
	}
	return e
}

// Replica returns another Service on the same store, keys and log, as a second gateway
// replica runs: it shares no lock with Env.Service.
func (e *Env) Replica(t testing.TB) *exhibit.Service {
	t.Helper()
	return e.ReplicaWith(t, nil)
}

// ReplicaWith is Replica with its configuration changed by edit first (another
// catalog, no folded states kept, say); edit may be nil.
func (e *Env) ReplicaWith(t testing.TB, edit func(*exhibit.Config)) *exhibit.Service {
	t.Helper()
	cfg := e.config
	cfg.Registry = prometheus.NewRegistry()
	if edit != nil {
		edit(&cfg)
	}
	s, err := exhibit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *Env) hook(f *func(string) error, name string) error {
	e.hooks.mu.Lock()
	h := *f
	e.hooks.mu.Unlock()
	if h == nil {
		return nil
	}
	return h(name)
}

// FailCreate makes every Create of the store call f first (nil clears it): an error
// fails the Create and stores nothing.
func (e *Env) FailCreate(f func(name string) error) {
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	e.hooks.create = f
}

// FailOpen makes every Open of the store call f first (nil clears it): an error fails
// the Open. f may tamper with the object (Store.Corrupt) before it is read.
func (e *Env) FailOpen(f func(name string) error) {
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	e.hooks.open = f
}

// FailAppend makes every Append to the log call f first (nil clears it): an error
// fails the Append and adds nothing.
func (e *Env) FailAppend(f func(leaf []byte) error) {
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	e.hooks.append = f
}

// member issues the client certificate of a member, valid for a day.
func (e *Env) member(t testing.TB, agency, jurisdiction, person, role string) Member {
	t.Helper()
	subject := pkix.Name{CommonName: person, Organization: []string{agency}, Country: []string{jurisdiction}}
	// Long enough for tests that move the clock past a retention period.
	certPEM, keyPEM, err := e.CAs[agency].IssueClient(subject, 5*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, key := parseIdentity(t, certPEM, keyPEM)
	return Member{Principal: exhibit.Principal{Agency: agency, Jurisdiction: jurisdiction, Person: person, Role: role, Cert: cert},
		Subject: cert.Subject.String(), Key: key}
}

func parseIdentity(t testing.TB, certPEM, keyPEM []byte) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		t.Fatal("the CA issued an identity that is not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("the CA issued a %T key, want ECDSA", k)
	}
	return cert, key
}

// CAOf returns the development CA of an agency of the exchange.
func (e *Env) CAOf(agency string) *pki.CA { return e.CAs[agency] }

// Members returns the four members, owner first.
func (e *Env) Members() []Member {
	return []Member{e.Investigator, e.Partner, e.Court, e.Stranger}
}

// trustRoot is the trust root a court pins, built as cmd/evidencegw builds it: the
// event key, the log origin and its checkpoint key, parsed back.
func (e *Env) trustRoot(ctx context.Context) (*custody.TrustRoot, error) {
	eventKeys, err := e.Keys.EventKeys(ctx)
	if err != nil {
		return nil, err
	}
	e.extraMu.Lock()
	eventKeys = append(eventKeys, e.extraKeys...)
	e.extraMu.Unlock()
	tr := &custody.TrustRoot{MediaType: custody.TrustRootMediaType, EventKeys: eventKeys,
		Log: custody.TrustedLog{Origin: Origin, VerifierKey: e.Keys.CheckpointVerifierKey()}, Witnesses: custody.Witnesses{Keys: []string{}}}
	for _, a := range e.Agencies {
		tr.Agencies = append(tr.Agencies, custody.NewTrustedAgency(a.ID, a.Jurisdiction, a.CAs))
	}
	raw, err := tr.Marshal()
	if err != nil {
		return nil, err
	}
	return custody.ParseTrustRoot(raw)
}

// TrustRoot returns the trust root the service serves.
func (e *Env) TrustRoot(t testing.TB) *custody.TrustRoot {
	t.Helper()
	tr, err := e.trustRoot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// DigestHex returns the hex SHA-256 of content.
func DigestHex(content []byte) string { return hex.EncodeToString(Digest(content)) }

// Digest returns the SHA-256 of content.
func Digest(content []byte) []byte {
	sum := sha256.Sum256(content)
	return sum[:]
}

// ErrLostRace, returned by a FailCreate hook, makes the store answer as if another
// writer had stored that name first with other bytes (storage.ErrExists).
var ErrLostRace = fmt.Errorf("another writer stored it first: %w", storage.ErrExists)

// HideLeaves is a WrapLog for a log that cannot serve its leaves (no
// ledger.LeafReader), as some log backends cannot.
func HideLeaves(l *ledgertest.MemLog) ledger.Log { return struct{ ledger.Log }{l} }
