-- Serves the refresh sweep (LinkStore.due_for_refresh), which mirrors TokenManager.due: an
-- ok link is due once it expires within the lead (expires_at <= now + lead, the lead being a
-- query parameter, never stored) and is past half its token's lifetime, i.e.
-- expires_at - now <= (expires_at - issued) / 2 with issued = refreshed_at, else linked_at:
--     expires_at + COALESCE(refreshed_at, linked_at) <= 2 * now.
-- The key is lead-independent. With short-lived tokens (every link within the lead) the sweep
-- visits only the links past half their life, not the whole table. expires_at is the second
-- column so that links past half their life but not yet within the lead (long-lived tokens)
-- are passed over in the index alone, without reading their rows.
CREATE INDEX links_half_life
    ON links (expires_at + COALESCE(refreshed_at, linked_at), expires_at) WHERE status = 'ok';
