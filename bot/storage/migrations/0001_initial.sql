-- Links between Discord members and Imgur accounts, and pending authorization states.
-- Times are Unix seconds (UTC). Tokens are Fernet-encrypted; states are stored as SHA-256 digests.
-- Migration files hold no BEGIN/COMMIT: the runner wraps them in one transaction.

CREATE TABLE links (
    discord_user_id  INTEGER PRIMARY KEY,
    imgur_account_id INTEGER,
    imgur_username   TEXT    NOT NULL,
    access_token     BLOB    NOT NULL,
    refresh_token    BLOB    NOT NULL,
    expires_at       INTEGER NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('ok', 'broken')),
    linked_at        INTEGER NOT NULL,
    refreshed_at     INTEGER,
    last_error       TEXT
);

-- Serves the refresh sweep: WHERE status = 'ok' AND expires_at <= ? ORDER BY expires_at.
CREATE INDEX links_due_for_refresh ON links (expires_at) WHERE status = 'ok';

CREATE TABLE auth_states (
    state_digest    TEXT    PRIMARY KEY,
    discord_user_id INTEGER NOT NULL,
    response_type   TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
);

-- A member's states, newest last (the PIN flow takes the newest; unlink deletes them all).
CREATE INDEX auth_states_by_member ON auth_states (discord_user_id, created_at);
-- Serves purging expired states.
CREATE INDEX auth_states_by_expiry ON auth_states (expires_at);
