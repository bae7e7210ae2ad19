-- What a relay does first when it takes the lease over, in one statement: it makes the stamped positions
-- and the checkpoint agree again, whichever way an earlier relay left them apart.
--   * Stamped rows above the checkpoint: positions stamped whose checkpoint did not follow.
--   * A checkpoint ahead of the stamped rows: the checkpoint moved while the batch's stamps did not
--     (a relay of before V7, stopped in the middle of recording a batch, did that).
-- It resumes at the highest position stamped at or below the checkpoint: everything above is unstamped
-- and the checkpoint set there, so the events after it are read again in the same order and get the same
-- positions as before (consumers dedupe a repeat); no hole is left in the positions.
CREATE FUNCTION relay_take_over(OUT previous_position bigint, OUT resume_position bigint, OUT taken_back int)
LANGUAGE plpgsql AS $$
BEGIN
  SELECT c.last_position INTO previous_position FROM relay_checkpoint c WHERE c.id = 1 FOR UPDATE;
  SELECT coalesce(max(e.global_position), 0) INTO resume_position
    FROM events e WHERE e.global_position <= previous_position;
  UPDATE events SET global_position = NULL WHERE global_position > resume_position;
  GET DIAGNOSTICS taken_back = ROW_COUNT;
  IF resume_position <> previous_position THEN
    UPDATE relay_checkpoint SET last_position = resume_position, updated_at = now() WHERE id = 1;
  END IF;
END $$;
