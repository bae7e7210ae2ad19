-- The relay records a published batch in one statement: the checkpoint advances from the position the
-- relay read (fenced: another relay moved it means this one is not the active one any more) and every
-- event of the batch gets its position, or nothing happens at all. One statement is atomic on its own,
-- so a relay stopped or cut off while recording a batch can never leave half of it behind, and it costs
-- one round trip instead of four (BEGIN, two UPDATEs, COMMIT).
CREATE FUNCTION relay_record_published(ids bigint[], positions bigint[], after_position bigint, new_position bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  stamped int;
BEGIN
  UPDATE relay_checkpoint SET last_position = new_position, updated_at = now()
   WHERE id = 1 AND last_position = after_position;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the checkpoint moved away from %', after_position USING ERRCODE = 'OR001';
  END IF;
  UPDATE events e SET global_position = v.pos
    FROM unnest(ids, positions) AS v(id, pos)
   WHERE e.id = v.id AND e.global_position IS NULL;
  GET DIAGNOSTICS stamped = ROW_COUNT;
  IF stamped <> cardinality(ids) THEN
    RAISE EXCEPTION '% events of the batch were stamped by another relay', cardinality(ids) - stamped
      USING ERRCODE = 'OR001';
  END IF;
END $$;
