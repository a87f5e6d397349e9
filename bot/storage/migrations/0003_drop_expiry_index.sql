-- The refresh sweep reads links through links_half_life (0002); the expiry-only index served
-- the query it replaced and would only cost a write on every refresh.
DROP INDEX IF EXISTS links_due_for_refresh;
