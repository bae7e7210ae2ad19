CREATE FUNCTION bench_publish(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE c relay_checkpoint; txs text[]; ids bigint[]; k int;
  ap bigint[] := '{}'; atx text[] := '{}'; aid bigint[] := '{}';
BEGIN
  SELECT * INTO c FROM relay_checkpoint WHERE id = 1;
  SELECT array_agg(s.tx::text ORDER BY s.tx, s.id), array_agg(s.id ORDER BY s.tx, s.id) INTO txs, ids
    FROM (SELECT tx, id FROM events WHERE tx < pg_snapshot_xmin(pg_current_snapshot())
             AND (tx, id) > (c.last_tx, c.last_id) ORDER BY tx, id LIMIT n) s;
  IF ids IS NULL THEN RETURN 0; END IF;
  k := cardinality(ids);
  FOR i IN 1..k LOOP
    IF (c.last_position + i) % 100 = 0 THEN
      ap := ap || (c.last_position + i); atx := atx || txs[i]; aid := aid || ids[i];
    END IF;
  END LOOP;
  PERFORM relay_record_published(c.last_position, c.last_position + k, txs[k], ids[k], ap, atx, aid);
  RETURN k;
END $$;
CREATE FUNCTION bench_reset() RETURNS void LANGUAGE sql AS $$
  TRUNCATE events; TRUNCATE relay_anchors;
  UPDATE relay_checkpoint SET last_position = 0, last_tx = '0', last_id = 0;
  INSERT INTO relay_anchors VALUES (0, '0', 0);
$$;
