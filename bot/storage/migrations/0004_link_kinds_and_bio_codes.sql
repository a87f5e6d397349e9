-- Links of two kinds, and pending profile ("bio") codes.
--   oauth: tokens from Imgur's authorize page, as before (both tokens and expires_at set).
--   bio:   ownership proved by a code in the account's public About text; no tokens and no
--          expiry (expires_at NULL keeps bio links out of links_half_life, so the refresh
--          sweep never visits them), but always the account id, which survives renames.
-- SQLite cannot drop NOT NULL from a column: the table is rebuilt, every row becoming 'oauth'.

CREATE TABLE links_0004 (
    discord_user_id  INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL DEFAULT 'oauth' CHECK (kind IN ('oauth', 'bio')),
    imgur_account_id INTEGER,
    imgur_username   TEXT    NOT NULL,
    access_token     BLOB,
    refresh_token    BLOB,
    expires_at       INTEGER,
    status           TEXT    NOT NULL CHECK (status IN ('ok', 'broken')),
    linked_at        INTEGER NOT NULL,
    refreshed_at     INTEGER,
    last_error       TEXT,
    CHECK (
        (kind = 'oauth' AND access_token IS NOT NULL AND refresh_token IS NOT NULL
            AND expires_at IS NOT NULL)
        OR (kind = 'bio' AND access_token IS NULL AND refresh_token IS NULL
            AND expires_at IS NULL AND imgur_account_id IS NOT NULL)
    )
);

INSERT INTO links_0004 (discord_user_id, kind, imgur_account_id, imgur_username, access_token,
                        refresh_token, expires_at, status, linked_at, refreshed_at, last_error)
    SELECT discord_user_id, 'oauth', imgur_account_id, imgur_username, access_token,
           refresh_token, expires_at, status, linked_at, refreshed_at, last_error
    FROM links;

DROP TABLE links;

ALTER TABLE links_0004 RENAME TO links;

-- As in 0002 (dropped with the old table). A bio link's NULL expires_at makes its key NULL:
-- no comparison of the sweep's query holds for it.
CREATE INDEX links_half_life
    ON links (expires_at + COALESCE(refreshed_at, linked_at), expires_at) WHERE status = 'ok';

-- Pending profile codes. The code is known only by its digest, which binds it to the member
-- and the lowercased Imgur username (bot.storage.crypto.bio_code_digest): the same code is
-- worth nothing to another member or for another username. `attempt` is a short random
-- reference, not a secret, carried by the Check button. Single use; 15 minutes by default.
CREATE TABLE bio_codes (
    attempt         TEXT    PRIMARY KEY,
    code_digest     TEXT    NOT NULL,
    discord_user_id INTEGER NOT NULL,
    imgur_username  TEXT    NOT NULL, -- lowercased
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);

-- A member's attempts, newest last (older ones are pruned; unlink deletes them all).
CREATE INDEX bio_codes_by_member ON bio_codes (discord_user_id, created_at);
-- Serves purging expired codes.
CREATE INDEX bio_codes_by_expiry ON bio_codes (expires_at);
