-- The PostgreSQL schema: the same tables and meanings as SQLite's (bot/storage/migrations/),
-- so that `python -m bot db copy` moves rows as they are. Times are Unix seconds (UTC); tokens
-- are Fernet-encrypted by LinkStore above the backend; states are stored as SHA-256 digests.
-- Migration files hold no BEGIN/COMMIT: the runner applies all pending ones in one transaction,
-- under an advisory lock, so processes starting together migrate once.

-- Links of two kinds: oauth (tokens and expiry) and bio (a profile code proved ownership; no
-- tokens, no expiry, always the account id, which survives renames).
CREATE TABLE links (
    discord_user_id  BIGINT  PRIMARY KEY,
    kind             TEXT    NOT NULL DEFAULT 'oauth' CHECK (kind IN ('oauth', 'bio')),
    imgur_account_id BIGINT,
    imgur_username   TEXT    NOT NULL,
    access_token     BYTEA,
    refresh_token    BYTEA,
    expires_at       BIGINT,
    status           TEXT    NOT NULL CHECK (status IN ('ok', 'broken')),
    linked_at        BIGINT  NOT NULL,
    refreshed_at     BIGINT,
    last_error       TEXT,
    -- The refresh rule's moment (bot/storage/refresh.py), computed by LinkStore; NULL for bio.
    refresh_after    BIGINT,
    -- The process refreshing the link, until when (see LinkStore.claim_due).
    lease_owner      TEXT,
    lease_until      BIGINT,
    CHECK (
        (kind = 'oauth' AND access_token IS NOT NULL AND refresh_token IS NOT NULL
            AND expires_at IS NOT NULL)
        OR (kind = 'bio' AND access_token IS NULL AND refresh_token IS NULL
            AND expires_at IS NULL AND imgur_account_id IS NOT NULL)
    )
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

-- Pending profile codes, known only by a digest bound to the member and the lowercased
-- username (bot.storage.crypto.bio_code_digest). `attempt` is a reference, not a secret.
CREATE TABLE bio_codes (
    attempt         TEXT    PRIMARY KEY,
    code_digest     TEXT    NOT NULL,
    discord_user_id BIGINT  NOT NULL,
    imgur_username  TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    seq             BIGINT  GENERATED ALWAYS AS IDENTITY
);

CREATE INDEX bio_codes_by_member ON bio_codes (discord_user_id, created_at);
CREATE INDEX bio_codes_by_expiry ON bio_codes (expires_at);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
