package exhibit

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/evidencegw/evidencegw/catalog"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/keys"
	"github.com/evidencegw/evidencegw/ledger"
	"github.com/evidencegw/evidencegw/policy"
	"github.com/evidencegw/evidencegw/storage"
)

// Roles of members.
const (
	RoleInvestigator = "investigator"
	RoleCourt        = "court"
)

// Principal is an authenticated caller.
type Principal struct {
	Agency       string
	Jurisdiction string
	Person       string
	Role         string
	// Cert is the caller's verified client certificate: receipts are checked against
	// its key, and acts must be signed with a certificate of the same subject.
	Cert *x509.Certificate
	// Act is the act the caller signed for this request (the Custody-Act header), nil
	// if it sent none. Every change of custody requires one (acts.go).
	Act *custody.SignedAct
}

// LogValue names the caller in logs.
func (p Principal) LogValue() slog.Value {
	return slog.GroupValue(slog.String("agency", p.Agency), slog.String("person", p.Person), slog.String("role", p.Role))
}

func (p Principal) party() custody.Party {
	return custody.Party{Agency: p.Agency, Jurisdiction: p.Jurisdiction, Person: p.Person, Role: p.Role}
}

func (p Principal) policy() policy.Principal {
	return policy.Principal{Agency: p.Agency, Jurisdiction: p.Jurisdiction, Person: p.Person, Role: p.Role}
}

// Agency is one agency or court of the exchange.
type Agency struct {
	ID           string
	Jurisdiction string
	// CAs issue the certificates of the agency's members: their acts are checked
	// against them.
	CAs []*x509.Certificate
}

// Authorizer decides whether a principal may do an action on an exhibit; it does no
// I/O. *policy.Engine implements it.
type Authorizer interface {
	Decide(p policy.Principal, a policy.Action, ev policy.Evidence, now time.Time) policy.Decision
	// DecideGrant decides an action on one named grant (accepting it).
	DecideGrant(p policy.Principal, a policy.Action, ev policy.Evidence, grantID string, now time.Time) policy.Decision
	// DecideRequest decides an action on a request for evidence.
	DecideRequest(p policy.Principal, a policy.Action, r policy.Request, now time.Time) policy.Decision
	// DecideDisposal decides a disposal under the authority it names.
	DecideDisposal(p policy.Principal, ev policy.Evidence, authority string, now time.Time) policy.Decision
}

// Rotator rotates a jurisdiction's key-encryption key and rewraps data keys to its
// latest version (Vault Transit rotate and rewrap). Safe for concurrent use.
type Rotator interface {
	Rotate(ctx context.Context, jurisdiction string) error
	Rewrap(ctx context.Context, keyRef string, wrapped, aad []byte) ([]byte, error)
}

// Config wires a Service.
type Config struct {
	// Store keeps the sealed content, the data keys, the custody events and the
	// signed checkpoints, under the names of names.go.
	Store storage.Store
	// Keys makes and unwraps the data keys of sealed content.
	Keys keys.DataKeys
	// Log is the transparency log; Signer signs custody events.
	Log    ledger.Log
	Signer ledger.Signer
	// Policy decides every action.
	Policy Authorizer
	// Instruments are the legal instruments requests may rest on; the shipped table
	// if nil.
	Instruments *policy.Instruments
	// Catalog is the derived, queryable view of cases, exhibits, grants and requests
	// (catalog.go); every custody event recorded updates it. Without one, the
	// listings answer ErrNoCatalog and nothing else changes.
	Catalog catalog.Catalog
	// Agencies are the agencies and courts a share may name.
	Agencies []Agency
	// Retention is how long each case's evidence is kept (retention.go).
	Retention Retention
	// TrustRoot returns the trust root now (event keys may rotate while the gateway
	// runs).
	TrustRoot func(ctx context.Context) (*custody.TrustRoot, error)
	// Rotator rotates key-encryption keys; nil where the key manager cannot.
	Rotator Rotator
	Logger  *slog.Logger
	// Registry receives the custody metrics; none are exported if nil.
	Registry prometheus.Registerer
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
	// Step, if set, is called as a use case passes each of its steps (steps.go), for
	// fault-injection tests; nil in production.
	Step func(step string)
	// UploadExpiry is how long a resumable upload session may stay unfinished before
	// ExpireUploads removes it; 0 means DefaultUploadExpiry.
	UploadExpiry time.Duration
	// OrphanGrace is how old content without a register event must be before Sweep
	// quarantines it as an orphan: younger, it may be an upload in flight on another
	// gateway sharing the store. 0 means DefaultOrphanGrace; negative means none
	// (every such content is an orphan at once: a single gateway's tests).
	OrphanGrace time.Duration
	// UploadPartSegments is the number of 1 MiB segments in a part of a resumable
	// upload, the most a cut transfer sends again; 0 means DefaultUploadPartSegments.
	// On S3 a part must be at least 5 MiB (so 5 segments or more).
	UploadPartSegments uint32
	// FoldCacheBytes bounds the folded states of exhibits the Service keeps
	// (folds.go), by their estimated size; 0 means DefaultFoldCacheBytes, a negative
	// value keeps none (every request then reads the whole chain).
	FoldCacheBytes int64
	// ChainRecheck is how long a kept folded state serves before the whole chain is
	// read and verified again; 0 means DefaultChainRecheck.
	ChainRecheck time.Duration
	// TransferLease is how long a download transfer's reservation holds after the
	// request that opened or last renewed it (transfers.go); 0 means 30 minutes.
	TransferLease time.Duration
}

// Service runs the use cases. It keeps no state of its own but per-exhibit locks and
// the folded states of chains it verified (folds.go), always checked against the store
// before use: the store and the log hold everything, so several Services (gateway
// replicas) may share them. It is safe for concurrent use.
type Service struct {
	cfg     Config
	sealer  *storage.Sealer
	ledger  *ledger.Ledger
	metrics *metrics
	locks   keyedMutex
	folds   *foldCache
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keys == nil || cfg.Log == nil || cfg.Policy == nil || cfg.TrustRoot == nil {
		return nil, errors.New("exhibit: store, keys, log, policy and trust root are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Instruments == nil {
		ins, err := policy.LoadInstruments("")
		if err != nil {
			return nil, err
		}
		cfg.Instruments = ins
	}
	if cfg.ChainRecheck <= 0 {
		cfg.ChainRecheck = DefaultChainRecheck
	}
	led, err := ledger.New(ledger.Config{Records: NewRecords(cfg.Store), Log: cfg.Log, Signer: cfg.Signer,
		TrustRoot: cfg.TrustRoot, Step: cfg.Step, Logger: cfg.Logger, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, sealer: &storage.Sealer{Store: cfg.Store, Keys: cfg.Keys}, ledger: led, metrics: m,
		folds: newFoldCache(cfg.FoldCacheBytes)}, nil
}

// agency returns the configured agency with the given id.
func (s *Service) agency(id string) (Agency, bool) {
	for _, a := range s.cfg.Agencies {
		if a.ID == id {
			return a, true
		}
	}
	return Agency{}, false
}
