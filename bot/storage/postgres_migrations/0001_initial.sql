-- The PostgreSQL schema: the same tables and meanings as SQLite's (bot/storage/migrations/),
-- so that `python -m bot db copy` moves rows as they are. Times are Unix seconds (UTC); tokens
-- are Fernet-encrypted by LinkStore above the backend; states are stored as SHA-256 digests.
-- Migration files hold no BEGIN/COMMIT: the runner applies all pending ones in one transaction,
-- under an advisory lock, so processes starting together migrate once.

CREATE TABLE links (
    discord_user_id  BIGINT  PRIMARY KEY,
    imgur_account_id BIGINT,
    imgur_username   TEXT    NOT NULL,
    access_token     BYTEA   NOT NULL,
    refresh_token    BYTEA   NOT NULL,
    expires_at       BIGINT  NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('ok', 'broken')),
    linked_at        BIGINT  NOT NULL,
    refreshed_at     BIGINT,
    last_error       TEXT,
    -- The refresh rule's moment (bot/storage/refresh.py), computed by LinkStore.
    refresh_after    BIGINT  NOT NULL DEFAULT 0,
    -- The process refreshing the link, until when (see LinkStore.claim_due).
    lease_owner      TEXT,
    lease_until      BIGINT
);

-- Serves the sweep: WHERE status = 'ok' AND refresh_after <= $now, in key order.
CREATE INDEX links_refresh_after ON links (refresh_after, expires_at, discord_user_id)
    WHERE status = 'ok';

CREATE TABLE auth_states (
    state_digest    TEXT    PRIMARY KEY,
    discord_user_id BIGINT  NOT NULL,
    response_type   TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    -- Breaks ties between states created in the same second (SQLite's rowid).
    seq             BIGINT  GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX auth_states_by_member ON auth_states (discord_user_id, created_at);
CREATE INDEX auth_states_by_expiry ON auth_states (expires_at);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
