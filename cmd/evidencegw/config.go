package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/transparency-dev/tessera"
	"go.yaml.in/yaml/v3"

	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
)

// Config is the gateway's configuration file (YAML, unknown keys rejected). Every
// field is optional: the zero Config is the embedded default. docs/config.md documents
// each field. Only this command reads it: each library takes a small typed config,
// built from this one by the wiring in serve.go and backends.go.
type Config struct {
	// Listen is the HTTPS address, default "127.0.0.1:8443".
	Listen string `yaml:"listen"`
	// PublicURL is the base URL clients use, written into the demo identities;
	// default "https://" + Listen.
	PublicURL string `yaml:"public_url"`
	// LogOrigin names the transparency log in its checkpoints; default
	// "evidencegw.local/custody".
	LogOrigin string `yaml:"log_origin"`
	// MaxUploadBytes caps one evidence upload; default 1 TiB. An upload declaring a
	// larger Content-Length is refused 413 before its body is read.
	MaxUploadBytes int64 `yaml:"max_upload_bytes"`
	// OpsListen is the plain-HTTP address of the operations endpoints (/metrics,
	// /healthz, /readyz), never the API's: default DefaultOpsListen, "" disables
	// it. Set, it must be bindable at start-up; left to the default, a taken port
	// (another gateway on the same machine) is logged and the gateway runs without
	// it. Read it with opsAddr.
	OpsListen *string `yaml:"ops_listen"`
	// Limits bound what one connection or member may hold.
	Limits LimitsConfig `yaml:"limits"`
	// Uploads configures the resumable uploads (docs/config.md#uploads).
	Uploads UploadsConfig `yaml:"uploads"`
	// ChainCache bounds the folded custody chains a gateway keeps
	// (docs/config.md#chain-cache).
	ChainCache ChainCacheConfig `yaml:"chain_cache"`
	// TLS selects the server certificate; default: issued by the development CA.
	TLS TLSConfig `yaml:"tls"`
	// Policies is a directory of .cedar files replacing the shipped policies.
	Policies string `yaml:"policies"`
	// Instruments is a legal instrument table (JSON, docs/exchange.md) replacing the
	// shipped one.
	Instruments string `yaml:"instruments"`
	// Agencies are the agencies and courts whose members may connect. Default: the
	// three demo agencies (agency-nl, agency-us, court-nl) under the development CA.
	Agencies []AgencyConfig `yaml:"agencies"`
	// Backends selects where evidence, keys and the log live; default: all embedded in
	// the data directory.
	Backends BackendsConfig `yaml:"backends"`
	// Witnesses, if set, are the independent witnesses that must cosign every
	// checkpoint of the log before a custody change counts; default: none.
	Witnesses WitnessesConfig `yaml:"witnesses"`
	// Retention says how long each case's evidence is kept (retention.go).
	Retention RetentionConfig `yaml:"retention"`
}

// WitnessesConfig is the gateway's witness policy (docs/config.md#witnesses).
type WitnessesConfig struct {
	// PolicyFile is a witness policy file (Sigsum format, docs/bundle.md#witness-policy)
	// naming each witness's key and URL, and the quorum; Policy is the same text
	// inline. At most one of the two.
	PolicyFile string `yaml:"policy_file"`
	Policy     string `yaml:"policy"`
	// Timeout bounds one round of cosigning; default 5s.
	Timeout time.Duration `yaml:"timeout"`

	// parsed is the policy as a court reads it, group as the logs use it; both nil
	// without witnesses.
	parsed *custody.WitnessPolicy
	group  *tessera.WitnessGroup
}

// DefaultWitnessTimeout bounds one round of cosigning.
const DefaultWitnessTimeout = 5 * time.Second

// fill reads and checks the policy.
func (w *WitnessesConfig) fill() error {
	if w.PolicyFile != "" && w.Policy != "" {
		return errors.New("witnesses: policy_file and policy exclude each other")
	}
	if w.Timeout < 0 {
		return errors.New("witnesses: timeout must be positive")
	}
	if w.Timeout == 0 {
		w.Timeout = DefaultWitnessTimeout
	}
	text := []byte(w.Policy)
	if w.PolicyFile != "" {
		f, err := os.Open(w.PolicyFile)
		if err != nil {
			return fmt.Errorf("witnesses: %w", err)
		}
		defer f.Close()
		// One byte more than the limit, for the parser to refuse.
		if text, err = io.ReadAll(io.LimitReader(f, custody.MaxWitnessPolicySize+1)); err != nil {
			return fmt.Errorf("witnesses: reading %s: %w", w.PolicyFile, err)
		}
	}
	if len(bytes.TrimSpace(text)) == 0 {
		if w.PolicyFile != "" {
			return fmt.Errorf("witnesses: policy file %s is empty", w.PolicyFile)
		}
		return nil
	}
	p, err := custody.ParseWitnessPolicy(text)
	if err != nil {
		return fmt.Errorf("witnesses: %w", err)
	}
	if !p.RequiresWitnesses() {
		return nil // quorum none
	}
	g, err := tessera.NewWitnessGroupFromPolicy(text)
	if err != nil {
		return fmt.Errorf("witnesses: %w (the gateway's policy names every witness's URL)", err)
	}
	w.parsed, w.group = p, &g
	return nil
}

// LimitsConfig bounds what one connection or one member (an agency's person) may
// hold of the gateway (docs/config.md#limits). Every field is optional: zero is
// the default; none may be negative, so none can be switched off.
type LimitsConfig struct {
	// BodyIdleTimeout cuts a request body that moves no byte for this long (408,
	// nothing stored) and a download whose client reads nothing for this long;
	// default 60s, at least 1s. A transfer that moves, however slowly, is never cut.
	BodyIdleTimeout time.Duration `yaml:"body_idle_timeout"`
	// UploadsPerMember caps the uploads one member may have in flight; default 4.
	UploadsPerMember int `yaml:"uploads_per_member"`
	// MaxUploads caps the uploads in flight in this gateway process, whoever sends
	// them: one more waits for a slot (up to 30 s), then gets 503. Default 16. Each
	// upload in flight holds about 4 MiB of buffers on the local store and about
	// 36 MiB on S3 (two part buffers), so this bounds the gateway's memory.
	MaxUploads int `yaml:"max_uploads"`
	// RequestsPerSecond is the sustained request rate of one member, RequestBurst
	// the size of its token bucket; defaults 20 and 40. Beyond: 429 with
	// Retry-After.
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	RequestBurst      int     `yaml:"request_burst"`
}

// BackendsConfig selects the object store, the key manager and the log.
type BackendsConfig struct {
	Storage StorageConfig `yaml:"storage"`
	Keys    KeysConfig    `yaml:"keys"`
	Log     LogConfig     `yaml:"log"`
	Catalog CatalogConfig `yaml:"catalog"`
}

// CatalogConfig selects the catalog's database (docs/catalog.md): "sqlite" (default,
// <data>/catalog.db) or "postgres".
type CatalogConfig struct {
	Type string `yaml:"type"`
	// Path is the SQLite file; default <data>/catalog.db.
	Path string `yaml:"path"`
	// URL is the PostgreSQL connection URL, or URLFile a file holding it (it carries
	// the password).
	URL     string `yaml:"url"`
	URLFile string `yaml:"url_file"`
}

// StorageConfig selects the object store: "local" (default, <data>/store) or "s3".
type StorageConfig struct {
	Type string `yaml:"type"`
	// Endpoint is the S3 host:port; Secure selects HTTPS.
	Endpoint string `yaml:"endpoint"`
	Secure   bool   `yaml:"secure"`
	Region   string `yaml:"region"`
	// AccessKey, or AccessKeyFile holding it.
	AccessKey     string `yaml:"access_key"`
	AccessKeyFile string `yaml:"access_key_file"`
	// SecretKey, or SecretKeyFile holding it.
	SecretKey     string `yaml:"secret_key"`
	SecretKeyFile string `yaml:"secret_key_file"`
	// RetentionMode is the Object Lock mode of every object: COMPLIANCE (production) or
	// GOVERNANCE (tests); RetentionDays the retention every object gets when it is
	// written, which the case's retention (RetentionConfig) extends for evidence.
	// Retention gives it as a period instead (such as 30s, for tests); one of the two.
	RetentionMode string `yaml:"retention_mode"`
	RetentionDays int    `yaml:"retention_days"`
	Retention     string `yaml:"retention"`
	// CustodyBucket holds the custody events and signed checkpoints.
	CustodyBucket string `yaml:"custody_bucket"`
	// Buckets maps each jurisdiction to the bucket holding its agencies' evidence
	// (data residency); every agency's jurisdiction needs one.
	Buckets map[string]string `yaml:"buckets"`
	// Endpoints optionally maps a jurisdiction to its own S3 endpoint.
	Endpoints map[string]string `yaml:"endpoints"`

	// floor is RetentionDays or Retention, as filled.
	floor time.Duration
}

// KeysConfig selects the key manager: "local" (default, <data>/keys) or "vault".
type KeysConfig struct {
	Type    string `yaml:"type"`
	Address string `yaml:"address"`
	// TokenFile holds the Vault token.
	TokenFile    string `yaml:"token_file"`
	TransitMount string `yaml:"transit_mount"`
	// KEKs maps a jurisdiction to its key-encryption key; default "evidence-<jj>".
	KEKs map[string]string `yaml:"keks"`
	// EventKey (ecdsa-p256) signs custody events; CheckpointKey (ed25519) signs
	// checkpoints. Defaults "custody-events", "custody-checkpoints".
	EventKey      string `yaml:"event_key"`
	CheckpointKey string `yaml:"checkpoint_key"`
}

// LogConfig selects the transparency log: "tessera" (default, <data>/log) or "trillian".
type LogConfig struct {
	Type string `yaml:"type"`
	// Address is the Trillian log server's gRPC host:port; TreeID its log tree.
	Address string `yaml:"address"`
	TreeID  int64  `yaml:"tree_id"`
}

// TLSConfig names the server certificate and key files (PEM).
type TLSConfig struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// AgencyConfig is one agency or court.
type AgencyConfig struct {
	// ID is the agency's identifier, such as "agency-nl".
	ID string `yaml:"id"`
	// Jurisdiction is the ISO 3166-1 alpha-2 country code, such as "NL".
	Jurisdiction string `yaml:"jurisdiction"`
	// ClientCA is a PEM file with the CA certificate(s) that issue this agency's client
	// certificates; "" means the gateway's development CA.
	ClientCA string `yaml:"client_ca"`
	// Members maps certificate subjects to people.
	Members []MemberConfig `yaml:"members"`
}

// MemberConfig maps one client certificate subject to a person and role.
type MemberConfig struct {
	// Subject is the certificate subject as Go renders it (RFC 4514 order), such as
	// "CN=investigator-nl,O=agency-nl,C=NL".
	Subject string `yaml:"subject"`
	Person  string `yaml:"person"`
	// Role is "investigator" or "court".
	Role string `yaml:"role"`
}

// ChainCacheConfig bounds the folded states of custody chains the gateway keeps, so
// that a request reads only the events stored since. Every field is optional.
type ChainCacheConfig struct {
	// MaxBytes bounds the kept states by their estimated size; default 64 MiB. -1
	// keeps none: every request then reads and folds the whole chain.
	MaxBytes int64 `yaml:"max_bytes"`
	// Recheck is how long a kept state serves before the whole chain is read and
	// verified again; default 5m, at least 1s.
	Recheck time.Duration `yaml:"recheck"`
}

func (c *ChainCacheConfig) fill() error {
	if c.MaxBytes < -1 {
		return errors.New("max_bytes must be positive, or -1 to keep nothing")
	}
	if c.Recheck == 0 {
		c.Recheck = exhibit.DefaultChainRecheck
	}
	if c.Recheck < time.Second {
		return fmt.Errorf("recheck %s: want a duration of at least 1s, such as 5m", c.Recheck)
	}
	return nil
}

// UploadsConfig configures the resumable uploads (tus, /v1/uploads). Every field is
// optional.
type UploadsConfig struct {
	// Expiry is how long an upload may stay unfinished before it is removed with its
	// parts; default 72h, at least 1m.
	Expiry time.Duration `yaml:"expiry"`
	// PartMiB is the size of a part in MiB of ciphertext (segments of 1 MiB): the
	// most a transfer cut anywhere sends again, and the memory an upload in flight
	// holds on S3 (two parts). Default 16, 5 (S3's smallest part) to 512.
	PartMiB int `yaml:"part_mib"`
	// OrphanGrace is how old content stored without a register event must be before
	// the start-up sweep quarantines it: younger, it may be an upload in flight on
	// another gateway sharing the store. Default 1h; any positive duration.
	OrphanGrace time.Duration `yaml:"orphan_grace"`
}

// Bounds of UploadsConfig.
const (
	minUploadExpiry = time.Minute
	minPartMiB      = 5
	maxPartMiB      = 512
)

func (u *UploadsConfig) fill() error {
	if u.Expiry == 0 {
		u.Expiry = exhibit.DefaultUploadExpiry
	}
	if u.Expiry < minUploadExpiry {
		return fmt.Errorf("expiry %s: want at least %s", u.Expiry, minUploadExpiry)
	}
	if u.PartMiB == 0 {
		u.PartMiB = exhibit.DefaultUploadPartSegments
	}
	if u.PartMiB < minPartMiB || u.PartMiB > maxPartMiB {
		return fmt.Errorf("part_mib %d: want %d to %d", u.PartMiB, minPartMiB, maxPartMiB)
	}
	if u.OrphanGrace == 0 {
		u.OrphanGrace = exhibit.DefaultOrphanGrace
	}
	if u.OrphanGrace < 0 {
		return fmt.Errorf("orphan_grace %s: want a positive duration, such as 1h", u.OrphanGrace)
	}
	return nil
}

// Defaults of the embedded configuration.
const (
	DefaultListen         = "127.0.0.1:8443"
	DefaultLogOrigin      = "evidencegw.local/custody"
	DefaultMaxUploadBytes = 1 << 40
	// DefaultOpsListen is loopback: only the machine's own probes and scraper
	// reach it unless the operator says otherwise. 9464 is the default port of
	// OpenTelemetry's Prometheus exporter.
	DefaultOpsListen = "127.0.0.1:9464"
)

// Default limits (docs/config.md#limits says why these values).
const (
	// DefaultBodyIdleTimeout: a minute without a byte is no network hiccup (TCP
	// retransmits give up on a dead path well before), and it bounds the time a
	// stalled upload holds its connection, buffers and temporary file.
	DefaultBodyIdleTimeout = time.Minute
	// DefaultUploadsPerMember: the CLI uploads one file at a time; four leaves room
	// for a script running a few at once, while one member alone cannot hold more
	// than four uploads' memory and temporary files.
	DefaultUploadsPerMember = 4
	// DefaultMaxUploads: 16 uploads in flight hold about 64 MiB of buffers on the
	// local store and about 600 MiB on S3, within the 1 GiB the Kubernetes
	// manifest gives a replica; uploads of tens of GB are few at a time.
	DefaultMaxUploads = 16
	// DefaultRequestsPerSecond and DefaultRequestBurst: a person's client makes one
	// request at a time, each a TLS round trip and usually a log append (about
	// 100 ms); 20 per second sustained with a burst of 40 is far above that and
	// far below what would crowd out other members.
	DefaultRequestsPerSecond = 20
	DefaultRequestBurst      = 40
	// minBodyIdleTimeout refuses an idle timeout that would cut ordinary network
	// pauses.
	minBodyIdleTimeout = time.Second
)

// demoAgencies are the agencies of the embedded default, each with one member whose
// identity the gateway writes under <data>/identities/<name>.
func demoAgencies() []AgencyConfig {
	return []AgencyConfig{
		{ID: "agency-nl", Jurisdiction: "NL", Members: []MemberConfig{{Subject: "CN=investigator-nl,O=agency-nl,C=NL", Person: "investigator-nl", Role: exhibit.RoleInvestigator}}},
		{ID: "agency-us", Jurisdiction: "US", Members: []MemberConfig{{Subject: "CN=partner-us,O=agency-us,C=US", Person: "partner-us", Role: exhibit.RoleInvestigator}}},
		{ID: "court-nl", Jurisdiction: "NL", Members: []MemberConfig{{Subject: "CN=court-nl,O=court-nl,C=NL", Person: "court-nl", Role: exhibit.RoleCourt}}},
	}
}

var (
	agencyIDRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	jurisdictionRe = regexp.MustCompile(`^[A-Z]{2}$`)
)

// loadConfig reads a YAML configuration file, rejecting unknown keys, and validates it.
func loadConfig(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("reading config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // an empty file is the default
		return c, fmt.Errorf("parsing config %s: %w", path, err)
	}
	if err := c.fill(); err != nil {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// defaultConfig is the embedded default configuration.
func defaultConfig() Config {
	var c Config
	if err := c.fill(); err != nil {
		panic(err) // the defaults are valid by construction
	}
	return c
}

// fill sets defaults and validates.
func (c *Config) fill() error {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("listen %q: %w", c.Listen, err)
	}
	if c.PublicURL == "" {
		c.PublicURL = "https://" + c.Listen
	}
	if c.LogOrigin == "" {
		c.LogOrigin = DefaultLogOrigin
	}
	if c.MaxUploadBytes == 0 {
		c.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if c.MaxUploadBytes < 0 {
		return fmt.Errorf("max_upload_bytes must be positive")
	}
	if addr, explicit := c.opsAddr(); explicit && addr != "" {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("ops_listen %q: %w", addr, err)
		}
		if addr == c.Listen {
			return fmt.Errorf("ops_listen %q: must not be the API's address: the operations endpoints are plain HTTP and unauthenticated", addr)
		}
	}
	if err := c.Limits.fill(); err != nil {
		return fmt.Errorf("limits: %w", err)
	}
	if err := c.Uploads.fill(); err != nil {
		return fmt.Errorf("uploads: %w", err)
	}
	if err := c.ChainCache.fill(); err != nil {
		return fmt.Errorf("chain_cache: %w", err)
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		return fmt.Errorf("tls: cert and key go together")
	}
	if len(c.Agencies) == 0 {
		c.Agencies = demoAgencies()
	}
	if err := c.checkAgencies(); err != nil {
		return err
	}
	if err := c.Witnesses.fill(); err != nil {
		return err
	}
	if err := c.Retention.fill(); err != nil {
		return err
	}
	return c.Backends.fill(c.Agencies)
}

// opsAddr returns the operations listener's address ("" when disabled) and whether
// the configuration set it.
func (c *Config) opsAddr() (addr string, explicit bool) {
	if c.OpsListen == nil {
		return DefaultOpsListen, false
	}
	return *c.OpsListen, true
}

func (l *LimitsConfig) fill() error {
	if l.BodyIdleTimeout < 0 || l.UploadsPerMember < 0 || l.MaxUploads < 0 || l.RequestsPerSecond < 0 || l.RequestBurst < 0 {
		return errors.New("no limit may be negative")
	}
	if l.BodyIdleTimeout == 0 {
		l.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	if l.BodyIdleTimeout < minBodyIdleTimeout {
		return fmt.Errorf("body_idle_timeout %s: want a duration of at least %s, such as 60s", l.BodyIdleTimeout, minBodyIdleTimeout)
	}
	if l.UploadsPerMember == 0 {
		l.UploadsPerMember = DefaultUploadsPerMember
	}
	if l.MaxUploads == 0 {
		l.MaxUploads = DefaultMaxUploads
	}
	if l.RequestsPerSecond == 0 {
		l.RequestsPerSecond = DefaultRequestsPerSecond
	}
	if l.RequestBurst == 0 {
		l.RequestBurst = max(DefaultRequestBurst, int(math.Ceil(l.RequestsPerSecond)))
	}
	return nil
}

func (b *BackendsConfig) fill(agencies []AgencyConfig) error {
	st := &b.Storage
	switch st.Type {
	case "", "local":
		st.Type = "local"
	case "s3":
		if st.Endpoint == "" || (st.AccessKey == "") == (st.AccessKeyFile == "") || (st.SecretKey == "") == (st.SecretKeyFile == "") {
			return fmt.Errorf("backends.storage: s3 needs endpoint, one of access_key, access_key_file and one of secret_key, secret_key_file")
		}
		if st.RetentionMode != "COMPLIANCE" && st.RetentionMode != "GOVERNANCE" {
			return fmt.Errorf("backends.storage: retention_mode must be COMPLIANCE or GOVERNANCE")
		}
		if err := st.fillRetention(); err != nil {
			return err
		}
		if st.CustodyBucket == "" {
			st.CustodyBucket = "evidence-custody"
		}
		for _, a := range agencies {
			if st.Buckets[a.Jurisdiction] == "" {
				return fmt.Errorf("backends.storage: no bucket for jurisdiction %s (agency %s): evidence must stay in its jurisdiction", a.Jurisdiction, a.ID)
			}
		}
	default:
		return fmt.Errorf("backends.storage: type %q is not local or s3", st.Type)
	}
	k := &b.Keys
	switch k.Type {
	case "", "local":
		k.Type = "local"
	case "vault":
		if k.Address == "" || k.TokenFile == "" {
			return fmt.Errorf("backends.keys: vault needs address and token_file")
		}
		if k.TransitMount == "" {
			k.TransitMount = "transit"
		}
		if k.KEKs == nil {
			k.KEKs = map[string]string{}
		}
		for _, a := range agencies {
			if k.KEKs[a.Jurisdiction] == "" {
				k.KEKs[a.Jurisdiction] = "evidence-" + strings.ToLower(a.Jurisdiction)
			}
		}
		if k.EventKey == "" {
			k.EventKey = "custody-events"
		}
		if k.CheckpointKey == "" {
			k.CheckpointKey = "custody-checkpoints"
		}
	default:
		return fmt.Errorf("backends.keys: type %q is not local or vault", k.Type)
	}
	if err := b.Catalog.fill(); err != nil {
		return err
	}
	l := &b.Log
	switch l.Type {
	case "", "tessera":
		l.Type = "tessera"
	case "trillian":
		if l.Address == "" || l.TreeID == 0 {
			return fmt.Errorf("backends.log: trillian needs address and tree_id")
		}
	default:
		return fmt.Errorf("backends.log: type %q is not tessera or trillian", l.Type)
	}
	return nil
}

func (c *CatalogConfig) fill() error {
	switch c.Type {
	case "", "sqlite":
		c.Type = "sqlite"
		if c.URL != "" || c.URLFile != "" {
			return fmt.Errorf("backends.catalog: url and url_file are for type postgres")
		}
	case "postgres":
		if (c.URL == "") == (c.URLFile == "") {
			return fmt.Errorf("backends.catalog: postgres needs one of url, url_file")
		}
		if c.Path != "" {
			return fmt.Errorf("backends.catalog: path is for type sqlite")
		}
	default:
		return fmt.Errorf("backends.catalog: type %q is not sqlite or postgres", c.Type)
	}
	return nil
}

// fillRetention sets the retention S3 gives every object written, from retention_days
// or retention (one of them).
func (st *StorageConfig) fillRetention() error {
	switch {
	case st.Retention != "" && st.RetentionDays != 0:
		return fmt.Errorf("backends.storage: retention_days and retention are two ways to say the same: give one")
	case st.Retention != "":
		d, err := parsePeriod(st.Retention)
		if err != nil {
			return fmt.Errorf("backends.storage: retention: %w", err)
		}
		st.floor = d
	case st.RetentionDays <= 0 || st.RetentionDays > 36500:
		return fmt.Errorf("backends.storage: retention_days must be 1 to 36500")
	default:
		st.floor = time.Duration(st.RetentionDays) * 24 * time.Hour
	}
	return nil
}

func (c *Config) checkAgencies() error {
	seenAgency := map[string]bool{}
	seenSubject := map[string]bool{}
	for _, a := range c.Agencies {
		if !agencyIDRe.MatchString(a.ID) {
			return fmt.Errorf("agency id %q: want lowercase letters, digits and '-'", a.ID)
		}
		if seenAgency[a.ID] {
			return fmt.Errorf("agency %q listed twice", a.ID)
		}
		seenAgency[a.ID] = true
		if !jurisdictionRe.MatchString(a.Jurisdiction) {
			return fmt.Errorf("agency %q: jurisdiction %q is not a two-letter country code", a.ID, a.Jurisdiction)
		}
		for _, m := range a.Members {
			if m.Subject == "" || m.Person == "" {
				return fmt.Errorf("agency %q: a member needs a subject and a person", a.ID)
			}
			if m.Role != exhibit.RoleInvestigator && m.Role != exhibit.RoleCourt {
				return fmt.Errorf("agency %q member %q: role %q is not %q or %q", a.ID, m.Person, m.Role, exhibit.RoleInvestigator, exhibit.RoleCourt)
			}
			key := a.ClientCA + "\x00" + m.Subject
			if seenSubject[key] {
				return fmt.Errorf("subject %q listed twice under the same CA", m.Subject)
			}
			seenSubject[key] = true
		}
	}
	return nil
}
