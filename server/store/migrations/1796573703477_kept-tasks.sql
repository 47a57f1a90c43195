-- Up Migration
-- Call Tasks kept for later (DESIGN.md rule 13): one row per account and call id, the record whole in doc, the
-- looked-up fields generated. The replay asks for the due waiting rows; the status for an account's rows.
CREATE TABLE kept_tasks (
    account_id text NOT NULL,
    call_id text NOT NULL,
    org_id15 text GENERATED ALWAYS AS (left(doc->>'orgId', 15)) STORED,
    state text GENERATED ALWAYS AS (doc->>'state') STORED,
    call_at text GENERATED ALWAYS AS (doc->>'callAt') STORED,
    next_attempt_at text GENERATED ALWAYS AS (doc->>'nextAttemptAt') STORED,
    claim_until text GENERATED ALWAYS AS (doc->'claim'->>'until') STORED,
    doc jsonb NOT NULL,
    PRIMARY KEY (account_id, call_id)
);
CREATE INDEX kept_tasks_due ON kept_tasks (next_attempt_at) WHERE state = 'waiting';
CREATE INDEX kept_tasks_account ON kept_tasks (account_id, call_at);
CREATE INDEX kept_tasks_call_at ON kept_tasks (call_at);

-- Down Migration
DROP TABLE kept_tasks;
