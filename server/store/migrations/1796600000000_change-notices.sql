-- Up Migration
-- Every instance caches the link status and the API key lookups; a write to what they show tells every instance at
-- its COMMIT (NOTIFY on the channel ccl_changes, store/pgChanges.ts listens). The payload names the account, and for a
-- link that was added, removed or moved to another API user, the API users (org_id15|user_id15) whose count of
-- linked accounts moved. A statement that changes more than 100 rows (a seed, a move) says `all` instead.

CREATE FUNCTION ccl_tell(payloads text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    payload text;
BEGIN
    IF cardinality(payloads) > 100 THEN
        PERFORM pg_notify('ccl_changes', '{"all":true}');
        RETURN;
    END IF;
    FOREACH payload IN ARRAY payloads LOOP
        PERFORM pg_notify('ccl_changes', payload);
    END LOOP;
END $$;

CREATE FUNCTION ccl_link_change(account text, before text, after text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN before IS NOT DISTINCT FROM after THEN json_build_object('accountId', account)
        ELSE json_build_object('accountId', account, 'apiUsers', array_remove(ARRAY[before, after], NULL))
    END::text
$$;

CREATE FUNCTION ccl_accounts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM ccl_tell(ARRAY(SELECT DISTINCT json_build_object('accountId', id)::text FROM old_rows));
    ELSE
        PERFORM ccl_tell(ARRAY(SELECT DISTINCT json_build_object('accountId', id)::text FROM new_rows));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION ccl_kept_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM ccl_tell(ARRAY(SELECT DISTINCT json_build_object('accountId', account_id)::text FROM old_rows));
    ELSE
        PERFORM ccl_tell(ARRAY(SELECT DISTINCT json_build_object('accountId', account_id)::text FROM new_rows));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION ccl_links_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM ccl_tell(ARRAY(
            SELECT ccl_link_change(n.account_id, NULL, CASE WHEN n.method = 'oauth' THEN n.org_id15 || '|' || n.user_id15 END)
            FROM new_rows n));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM ccl_tell(ARRAY(
            SELECT ccl_link_change(o.account_id, CASE WHEN o.method = 'oauth' THEN o.org_id15 || '|' || o.user_id15 END, NULL)
            FROM old_rows o));
    ELSE
        PERFORM ccl_tell(ARRAY(
            SELECT ccl_link_change(
                coalesce(n.account_id, o.account_id),
                CASE WHEN o.method = 'oauth' THEN o.org_id15 || '|' || o.user_id15 END,
                CASE WHEN n.method = 'oauth' THEN n.org_id15 || '|' || n.user_id15 END)
            FROM new_rows n FULL JOIN old_rows o ON o.account_id = n.account_id));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION ccl_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ccl_changes', '{"all":true}');
    RETURN NULL;
END $$;

CREATE TRIGGER accounts_inserted AFTER INSERT ON accounts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ccl_accounts_changed();
CREATE TRIGGER accounts_updated AFTER UPDATE ON accounts REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ccl_accounts_changed();
CREATE TRIGGER accounts_deleted AFTER DELETE ON accounts REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ccl_accounts_changed();
CREATE TRIGGER accounts_truncated AFTER TRUNCATE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION ccl_truncated();

CREATE TRIGGER links_inserted AFTER INSERT ON links REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ccl_links_changed();
CREATE TRIGGER links_updated AFTER UPDATE ON links REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ccl_links_changed();
CREATE TRIGGER links_deleted AFTER DELETE ON links REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ccl_links_changed();
CREATE TRIGGER links_truncated AFTER TRUNCATE ON links FOR EACH STATEMENT EXECUTE FUNCTION ccl_truncated();

CREATE TRIGGER kept_tasks_inserted AFTER INSERT ON kept_tasks REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ccl_kept_changed();
CREATE TRIGGER kept_tasks_updated AFTER UPDATE ON kept_tasks REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ccl_kept_changed();
CREATE TRIGGER kept_tasks_deleted AFTER DELETE ON kept_tasks REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ccl_kept_changed();
CREATE TRIGGER kept_tasks_truncated AFTER TRUNCATE ON kept_tasks FOR EACH STATEMENT EXECUTE FUNCTION ccl_truncated();

-- Down Migration
DROP TRIGGER kept_tasks_truncated ON kept_tasks;
DROP TRIGGER kept_tasks_deleted ON kept_tasks;
DROP TRIGGER kept_tasks_updated ON kept_tasks;
DROP TRIGGER kept_tasks_inserted ON kept_tasks;
DROP TRIGGER links_truncated ON links;
DROP TRIGGER links_deleted ON links;
DROP TRIGGER links_updated ON links;
DROP TRIGGER links_inserted ON links;
DROP TRIGGER accounts_truncated ON accounts;
DROP TRIGGER accounts_deleted ON accounts;
DROP TRIGGER accounts_updated ON accounts;
DROP TRIGGER accounts_inserted ON accounts;
DROP FUNCTION ccl_truncated();
DROP FUNCTION ccl_links_changed();
DROP FUNCTION ccl_kept_changed();
DROP FUNCTION ccl_accounts_changed();
DROP FUNCTION ccl_link_change(text, text, text);
DROP FUNCTION ccl_tell(text[]);
