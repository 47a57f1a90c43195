-- Up Migration
-- Several backend instances share one database: what one of them must do alone (a token refresh, a health
-- sweep) is leased here, and webhook events wait in an outbox that any instance delivers.

-- One holder per key until `until` (ISO time); a lease that lapsed is taken over.
CREATE TABLE leases (
    key text PRIMARY KEY,
    holder text NOT NULL,
    until text NOT NULL
);

CREATE TABLE webhook_outbox (
    id text PRIMARY KEY,
    account_id text GENERATED ALWAYS AS (doc->>'accountId') STORED,
    state text GENERATED ALWAYS AS (doc->>'state') STORED,
    created_at text GENERATED ALWAYS AS (doc->>'createdAt') STORED,
    next_attempt_at text GENERATED ALWAYS AS (doc->>'nextAttemptAt') STORED,
    claim_until text GENERATED ALWAYS AS (doc->'claim'->>'until') STORED,
    doc jsonb NOT NULL
);
-- What the delivery loop asks every second: the pending events that are due.
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_outbox_account ON webhook_outbox (account_id, created_at DESC, id DESC);
CREATE INDEX webhook_outbox_finished ON webhook_outbox (created_at) WHERE state <> 'pending';

-- Down Migration
DROP TABLE webhook_outbox;
DROP TABLE leases;
