-- batch_require_current's statements are planned at each call, with the arrays it is given and the store as it is
-- then. PL/pgSQL keeps a statement's plan for the session, and a generic plan made while the events table was
-- nearly empty (a service's first batches) scanned every event at each check as the store grew, until the first
-- ANALYZE of the table planned it again: a fresh store checked its batches by reading it end to end.
ALTER FUNCTION batch_require_current(uuid[], uuid[], int[]) SET plan_cache_mode = force_custom_plan;
