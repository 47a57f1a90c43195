-- Up Migration
-- The per-account limit on audited writes, counted once for every instance on the database: one fixed window per key.
CREATE TABLE rate_windows (
    key text PRIMARY KEY,
    window_start bigint NOT NULL,
    count integer NOT NULL
);
CREATE INDEX rate_windows_window_start ON rate_windows (window_start);

-- Down Migration
DROP TABLE rate_windows;
