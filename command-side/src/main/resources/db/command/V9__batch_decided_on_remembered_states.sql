-- A saga batch whose streams this process remembers is decided without reading them first and appended in
-- one round trip, COMMIT included. What a batch loaded from the store checks before deciding is then checked
-- inside its transaction, before anything of it can commit: that no command of it was applied before (its
-- first event id is stored: a redelivery), and that every stream is still at the version it was decided on
-- (another writer, say the process that had the partition before a rebalance, may have moved it; a decision
-- that appends nothing, such as releasing credit the remembered state does not hold, would otherwise go
-- unnoticed). Either failure aborts the transaction, and the batch is handled again from the store.
CREATE FUNCTION batch_require_current(command_event_ids uuid[], stream_ids uuid[], stream_versions int[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  moved uuid;
BEGIN
  IF EXISTS (SELECT 1 FROM events WHERE event_id = ANY(command_event_ids)) THEN
    RAISE EXCEPTION 'a command of the batch was applied before' USING ERRCODE = 'OR002';
  END IF;
  SELECT s.stream_id INTO moved
    FROM unnest(stream_ids, stream_versions) AS s(stream_id, version)
   WHERE (SELECT coalesce(max(e.version), 0) FROM events e WHERE e.stream_id = s.stream_id) <> s.version
   LIMIT 1;
  IF moved IS NOT NULL THEN
    RAISE EXCEPTION 'a stream moved past the version the batch was decided on' USING ERRCODE = 'OR003',
      DETAIL = moved::text;
  END IF;
END $$;
