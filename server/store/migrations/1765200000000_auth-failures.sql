-- Up Migration
-- Wrong API keys per client address, counted by every instance together (server/http/failedAuthTally.ts): one row
-- per address (IPv4, or an IPv6 /64) while its window or its block lasts. Times are epoch milliseconds.
CREATE TABLE auth_failures (
    address text PRIMARY KEY,
    failures integer NOT NULL,
    window_start bigint NOT NULL,
    blocked_until bigint NOT NULL
);
-- The prune finds the rows whose window is over, and the oldest ones past the bound, by it.
CREATE INDEX auth_failures_window_start ON auth_failures (window_start);

-- Down Migration
DROP TABLE auth_failures;
