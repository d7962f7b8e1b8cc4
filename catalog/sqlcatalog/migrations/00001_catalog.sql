-- The catalog's first schema (docs/catalog.md). Portable SQL that SQLite and
-- PostgreSQL both run: times are BIGINT Unix nanoseconds (UTC), booleans INTEGER 0/1.
-- Every row is derived from the custody chains; `evidencegw catalog rebuild`
-- recomputes them all.

-- +goose Up
CREATE TABLE subjects (
	id  TEXT PRIMARY KEY,
	seq BIGINT NOT NULL
);

CREATE TABLE exhibits (
	evidence_id   TEXT PRIMARY KEY,
	case_id       TEXT NOT NULL,
	owner         TEXT NOT NULL,
	jurisdiction  TEXT NOT NULL,
	description   TEXT NOT NULL,
	sha256        TEXT NOT NULL,
	size          BIGINT NOT NULL,
	registered_at BIGINT NOT NULL,
	events        BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL,
	held          INTEGER NOT NULL,
	damaged       INTEGER NOT NULL
);
CREATE INDEX exhibits_owner ON exhibits (owner, registered_at, evidence_id);
CREATE INDEX exhibits_case ON exhibits (case_id, registered_at, evidence_id);

CREATE TABLE grants (
	grant_id      TEXT PRIMARY KEY,
	evidence_id   TEXT NOT NULL,
	ord           INTEGER NOT NULL,
	case_id       TEXT NOT NULL,
	owner         TEXT NOT NULL,
	grantee       TEXT NOT NULL,
	legal_basis   TEXT NOT NULL,
	instrument    TEXT NOT NULL,
	request_id    TEXT NOT NULL,
	granted_at    BIGINT NOT NULL,
	expires       BIGINT NOT NULL,
	max_downloads BIGINT NOT NULL,
	downloads     BIGINT NOT NULL,
	view_only     INTEGER NOT NULL,
	accepted      INTEGER NOT NULL,
	revoked       INTEGER NOT NULL
);
CREATE INDEX grants_evidence ON grants (evidence_id, ord);
CREATE INDEX grants_grantee ON grants (grantee, expires, grant_id);
CREATE INDEX grants_owner ON grants (owner, expires, grant_id);
CREATE INDEX grants_request ON grants (request_id);

CREATE TABLE requests (
	request_id        TEXT PRIMARY KEY,
	case_id           TEXT NOT NULL,
	requester         TEXT NOT NULL,
	addressee         TEXT NOT NULL,
	instrument        TEXT NOT NULL,
	reference         TEXT NOT NULL,
	issuing_authority TEXT NOT NULL,
	sought            TEXT NOT NULL,
	deadline          BIGINT NOT NULL,
	emergency         INTEGER NOT NULL,
	state             TEXT NOT NULL,
	overdue           INTEGER NOT NULL,
	filed_at          BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL,
	reason            TEXT NOT NULL,
	events            BIGINT NOT NULL,
	damaged           INTEGER NOT NULL
);
CREATE INDEX requests_addressee ON requests (addressee, deadline, request_id);
CREATE INDEX requests_requester ON requests (requester, deadline, request_id);

CREATE TABLE request_shares (
	request_id  TEXT NOT NULL,
	ord         INTEGER NOT NULL,
	evidence_id TEXT NOT NULL,
	grant_id    TEXT NOT NULL,
	PRIMARY KEY (request_id, ord)
);

CREATE TABLE intents (
	id    TEXT PRIMARY KEY,
	seq   BIGINT NOT NULL,
	since BIGINT NOT NULL
);

-- +goose Down
DROP TABLE intents;
DROP TABLE request_shares;
DROP TABLE requests;
DROP TABLE grants;
DROP TABLE exhibits;
DROP TABLE subjects;
