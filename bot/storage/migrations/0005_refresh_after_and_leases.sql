-- The refresh rule's moment is stored (LinkStore computes it with bot/storage/refresh.py), so
-- the sweep asks for refresh_after <= now through one plain index: O(due), whatever the lead.
-- LinkStore fills in every link's time when it opens a database whose times were made with
-- another lead (or none yet). A bio link has no token and no expiry: NULL, never due.
ALTER TABLE links ADD COLUMN refresh_after INTEGER;
-- A lease: the process (owner) refreshing the link, until when. Processes sharing a database
-- never refresh one link at once; a lease of a process that died runs out.
ALTER TABLE links ADD COLUMN lease_owner TEXT;
ALTER TABLE links ADD COLUMN lease_until INTEGER;

-- Replaces the half-life index (0002, rebuilt by 0004).
DROP INDEX IF EXISTS links_half_life;
-- Serves the sweep: WHERE status = 'ok' AND refresh_after <= :now, in the order
-- (refresh_after, expires_at, discord_user_id), paged by that key.
CREATE INDEX links_refresh_after ON links (refresh_after, expires_at, discord_user_id)
    WHERE status = 'ok';

-- Values every process must agree on (the command-sync hash, a key rotation under way, the
-- lead the refresh times were made with).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
