-- Up Migration
-- The health sweep checks legacy links too (a SOAP login about once a day): their own partial index, beside the OAuth one.
CREATE INDEX links_legacy_due_for_check ON links (last_verified_at NULLS FIRST) WHERE method = 'legacy' AND status = 'legacy';

-- Down Migration
DROP INDEX links_legacy_due_for_check;
