-- Up Migration
-- Each row keeps its record whole in `doc` (sealed values as they are); the columns the domain
-- looks rows up by are generated from it, so no write can leave them out of step.

CREATE TABLE accounts (
    id text PRIMARY KEY,
    -- The org's key and the platform's key: a request finds its account by either hash.
    api_key_hash text GENERATED ALWAYS AS (doc->>'apiKeyHash') STORED,
    platform_key_hash text GENERATED ALWAYS AS (doc->>'platformKeyHash') STORED,
    doc jsonb NOT NULL
);
CREATE UNIQUE INDEX accounts_api_key_hash ON accounts (api_key_hash);
CREATE UNIQUE INDEX accounts_platform_key_hash ON accounts (platform_key_hash) WHERE platform_key_hash IS NOT NULL;

CREATE TABLE links (
    account_id text PRIMARY KEY,
    method text GENERATED ALWAYS AS (doc->>'method') STORED,
    status text GENERATED ALWAYS AS (doc->>'status') STORED,
    -- Salesforce ids compare on 15 characters: the five-account rule looks users up in that form.
    org_id15 text GENERATED ALWAYS AS (left(doc->>'orgId', 15)) STORED,
    user_id15 text GENERATED ALWAYS AS (left(doc->>'userId', 15)) STORED,
    last_verified_at text GENERATED ALWAYS AS (doc->>'lastVerifiedAt') STORED,
    doc jsonb NOT NULL
);
CREATE INDEX links_api_user ON links (org_id15, user_id15) WHERE method = 'oauth';
CREATE INDEX links_due_for_check ON links (last_verified_at NULLS FIRST) WHERE method = 'oauth' AND status = 'linked';
CREATE INDEX links_status ON links (status);

CREATE TABLE link_sessions (
    id text PRIMARY KEY,
    account_id text GENERATED ALWAYS AS (doc->>'accountId') STORED,
    state text GENERATED ALWAYS AS (doc->>'state') STORED,
    state_hash text GENERATED ALWAYS AS (doc->'attempt'->>'stateHash') STORED,
    expires_at text GENERATED ALWAYS AS (doc->>'expiresAt') STORED,
    doc jsonb NOT NULL
);
-- A state is consumed once: one session per state hash.
CREATE UNIQUE INDEX link_sessions_state_hash ON link_sessions (state_hash) WHERE state_hash IS NOT NULL;
CREATE INDEX link_sessions_pending ON link_sessions (account_id, expires_at) WHERE state = 'pending';
CREATE INDEX link_sessions_expires_at ON link_sessions (expires_at);

CREATE TABLE audit (
    seq bigserial PRIMARY KEY,
    account_id text GENERATED ALWAYS AS (doc->>'accountId') STORED,
    at text GENERATED ALWAYS AS (doc->>'at') STORED,
    doc jsonb NOT NULL
);
CREATE INDEX audit_account ON audit (account_id, seq DESC);
CREATE INDEX audit_at ON audit (at);

-- One row per call: the key is claimed once (INSERT … ON CONFLICT DO NOTHING).
CREATE TABLE task_ledger (
    key text PRIMARY KEY,
    state text NOT NULL CHECK (state IN ('pending', 'created')),
    task_id text,
    at text NOT NULL,
    claimed_by text
);
CREATE INDEX task_ledger_at ON task_ledger (at);

CREATE TABLE store_meta (
    key text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO store_meta (key, value) VALUES ('ledger_started_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));

-- Down Migration
DROP TABLE store_meta;
DROP TABLE task_ledger;
DROP TABLE audit;
DROP TABLE link_sessions;
DROP TABLE links;
DROP TABLE accounts;
