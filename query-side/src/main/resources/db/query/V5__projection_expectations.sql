-- A check the projector sends ahead of a batch's writes, in the same round trip, when it folded the batch on
-- views it remembers from its own earlier commits instead of reading them (ProjectionStore, ViewMemory): the
-- statement fails, and with it the transaction (its COMMIT is answered with a rollback), unless what the batch
-- was folded on is what the tables hold. The batch is then applied again from views read afresh.
CREATE FUNCTION projection_expect(ok boolean, what text) RETURNS boolean
  LANGUAGE plpgsql AS $$
BEGIN
  IF ok IS NOT TRUE THEN
    RAISE EXCEPTION 'projection expectation not met: %', what;
  END IF;
  RETURN true;
END
$$;
