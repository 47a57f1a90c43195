-- Up Migration
-- The refresh-token keepalive: when each OAuth link's refresh token was last used for a refresh (never used: when it
-- was issued, the link's linkedAt), so one instance finds the links whose token would idle out at Salesforce.
ALTER TABLE links ADD COLUMN last_refreshed_at text GENERATED ALWAYS AS (COALESCE(doc->>'lastRefreshedAt', doc->>'linkedAt')) STORED;
CREATE INDEX links_due_for_keepalive ON links (last_refreshed_at) WHERE method = 'oauth' AND status = 'linked';

-- Down Migration
DROP INDEX links_due_for_keepalive;
ALTER TABLE links DROP COLUMN last_refreshed_at;
