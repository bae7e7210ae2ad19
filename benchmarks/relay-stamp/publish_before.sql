CREATE FUNCTION bench_publish(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE ids bigint[]; pos bigint[]; last bigint;
BEGIN
  SELECT last_position INTO last FROM relay_checkpoint WHERE id = 1;
  SELECT array_agg(s.id ORDER BY s.rn), array_agg(last + s.rn ORDER BY s.rn) INTO ids, pos
    FROM (SELECT id, row_number() OVER (ORDER BY tx, id) AS rn FROM events
           WHERE global_position IS NULL AND tx < pg_snapshot_xmin(pg_current_snapshot())
           ORDER BY tx, id LIMIT n) s;
  IF ids IS NULL THEN RETURN 0; END IF;
  PERFORM relay_record_published(ids, pos, last, last + cardinality(ids));
  RETURN cardinality(ids);
END $$;
CREATE FUNCTION bench_reset() RETURNS void LANGUAGE sql AS $$
  TRUNCATE events; UPDATE relay_checkpoint SET last_position = 0;
$$;
