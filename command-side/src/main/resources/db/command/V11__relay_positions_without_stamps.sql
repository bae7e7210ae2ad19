-- The relay no longer stamps each published event with an UPDATE (a second write of every event, through
-- every index of the table). An event's global position follows from the order the relay publishes in:
-- (tx, id), the writing transaction's id, then the row id. The relay reads only rows whose transaction is
-- below the oldest one still running, so once a row is read no row can ever appear before it in that order
-- (every transaction with a lower id has ended): the rows in (tx, id) order are a fixed sequence, and the
-- published ones are a prefix of it, up to the checkpoint. The event at position p is the p-th of them.
--
-- Positions stamped before this script keep their values (up to the checkpoint, as a relay taking over would
-- have left them: V8's repair runs once more here). The earlier relay stamped in this same order, from 1, so
-- each stamped position already is the event's place in (tx, id) order; the script checks that (and refuses
-- a store where it is not so) and numbers the rows after the last stamped one, unpublished now, from the next
-- position on, as the earlier relay would have.
--
-- What the relay keeps:
--   * relay_checkpoint: the last position published and the (tx, id) of its event, moved once per batch;
--   * relay_anchors: the (tx, id) of the event at every hundredth position (and (0, 0) at position 0), so
--     that a read by position (the event feed) starts at most 99 rows before its place instead of counting
--     from the start.

-- Taken first: a relay of before this script that records a batch meanwhile waits, then finds its function gone.
SELECT 1 FROM relay_checkpoint WHERE id = 1 FOR UPDATE;

ALTER TABLE relay_checkpoint ADD COLUMN last_tx xid8 NOT NULL DEFAULT '0', ADD COLUMN last_id bigint NOT NULL DEFAULT 0;

CREATE TABLE relay_anchors (
  position bigint PRIMARY KEY,
  tx       xid8   NOT NULL,
  id       bigint NOT NULL
);

DO $$
DECLARE
  resume bigint;
  resume_tx xid8 := '0';
  resume_id bigint := 0;
  astray bigint;
BEGIN
  SELECT coalesce(max(e.global_position), 0) INTO resume
    FROM events e WHERE e.global_position <= (SELECT last_position FROM relay_checkpoint WHERE id = 1);
  UPDATE events SET global_position = NULL WHERE global_position > resume;
  IF resume > 0 THEN
    SELECT e.tx, e.id INTO resume_tx, resume_id FROM events e WHERE e.global_position = resume;
  END IF;
  SELECT count(*) INTO astray
    FROM (SELECT e.global_position, row_number() OVER (ORDER BY e.tx, e.id) AS place
            FROM events e WHERE (e.tx, e.id) <= (resume_tx, resume_id)) s
   WHERE s.global_position IS DISTINCT FROM s.place;
  IF astray > 0 THEN
    RAISE EXCEPTION '% events up to the last published one (position %) are unstamped or stamped out of (tx, id)'
      ' order; the relay never leaves that state', astray, resume;
  END IF;
  UPDATE relay_checkpoint SET last_position = resume, last_tx = resume_tx, last_id = resume_id, updated_at = now()
   WHERE id = 1;
  INSERT INTO relay_anchors (position, tx, id) VALUES (0, '0', 0);
  INSERT INTO relay_anchors (position, tx, id)
  SELECT e.global_position, e.tx, e.id FROM events e WHERE e.global_position % 100 = 0;
END $$;

ALTER TABLE relay_checkpoint ALTER COLUMN last_tx DROP DEFAULT, ALTER COLUMN last_id DROP DEFAULT;

-- An append writes four index entries now: id, event id, (stream, version), (tx, id). The positions stamped
-- before stay in their column (no reader needs them indexed: they equal the counted ones).
DROP INDEX events_unpublished;
CREATE INDEX events_publication_order ON events (tx, id);
ALTER TABLE events DROP CONSTRAINT events_global_position_key;

DROP FUNCTION relay_record_published(bigint[], bigint[], bigint, bigint);
DROP FUNCTION relay_take_over();

-- Where a relay that took the lease resumes: after the checkpoint's event. Refuses when transaction ids are
-- below the checkpoint's (the store was copied into another server whose ids start lower; its events would
-- sort before the checkpoint and never be read).
CREATE FUNCTION relay_take_over(OUT resume_position bigint, OUT resume_tx text, OUT resume_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
  SELECT c.last_position, c.last_tx::text, c.last_id INTO resume_position, resume_tx, resume_id
    FROM relay_checkpoint c WHERE c.id = 1;
  IF pg_snapshot_xmax(pg_current_snapshot()) <= resume_tx::xid8 THEN
    RAISE EXCEPTION 'transaction ids (next %) are below the relay checkpoint''s (%): the event store was copied'
      ' into another server; events appended now would never be published',
      pg_snapshot_xmax(pg_current_snapshot()), resume_tx USING ERRCODE = 'OR004';
  END IF;
END $$;

-- Records a published batch in one statement, all or nothing: the checkpoint moves from after_position to
-- new_position and the (tx, id) of its event, fenced (another relay moved it: this one is not the active one
-- any more), and the batch's anchors are stored.
CREATE FUNCTION relay_record_published(after_position bigint, new_position bigint, new_tx text, new_id bigint,
                                       anchor_positions bigint[], anchor_txs text[], anchor_ids bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE relay_checkpoint SET last_position = new_position, last_tx = new_tx::xid8, last_id = new_id,
                              updated_at = now()
   WHERE id = 1 AND last_position = after_position;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the checkpoint moved away from %', after_position USING ERRCODE = 'OR001';
  END IF;
  INSERT INTO relay_anchors (position, tx, id)
  SELECT p, t::xid8, i FROM unnest(anchor_positions, anchor_txs, anchor_ids) AS a(p, t, i);
END $$;

-- Published events by position, gap-free: at most max_rows after after_position, none past the checkpoint,
-- counted in (tx, id) order from the nearest anchor at or below after_position. One SELECT in SQL, so that the
-- planner inlines it into the caller's (prepared) statement.
CREATE FUNCTION published_events(after_position bigint, max_rows int)
RETURNS TABLE (global_position bigint, event_id uuid, stream_type text, stream_id uuid, version int,
               event_type text, schema_version int, data jsonb, metadata jsonb, occurred_at timestamptz)
LANGUAGE sql STABLE AS $$
WITH a AS (SELECT a.position, a.tx, a.id FROM relay_anchors a WHERE a.position <= after_position
            ORDER BY a.position DESC LIMIT 1),
     c AS (SELECT c.last_position, c.last_tx, c.last_id FROM relay_checkpoint c WHERE c.id = 1)
SELECT after_position + row_number() OVER (ORDER BY e.tx, e.id), e.event_id, e.stream_type, e.stream_id,
       e.version, e.event_type, e.schema_version, e.data, e.metadata, e.occurred_at
  FROM (SELECT * FROM events e
         WHERE (e.tx, e.id) > ((SELECT a.tx FROM a), (SELECT a.id FROM a))
           AND (e.tx, e.id) <= ((SELECT c.last_tx FROM c), (SELECT c.last_id FROM c))
         ORDER BY e.tx, e.id
        OFFSET (SELECT after_position - a.position FROM a)
         LIMIT greatest(0, least(max_rows, (SELECT c.last_position FROM c) - after_position))) e
$$;

-- For operators and audits: events the relay has not published yet (cheap: read by the (tx, id) index).
CREATE VIEW unpublished_events AS
SELECT e.* FROM events e, relay_checkpoint c WHERE c.id = 1 AND (e.tx, e.id) > (c.last_tx, c.last_id);

-- For operators and audits: every published event's row id and global position (counts the whole table).
CREATE VIEW event_positions AS
SELECT e.id, row_number() OVER (ORDER BY e.tx, e.id) AS global_position
  FROM events e, relay_checkpoint c
 WHERE c.id = 1 AND (e.tx, e.id) <= (c.last_tx, c.last_id);
