-- The event store: the events table is also the outbox the relay publishes from.
CREATE TABLE events (
  id              bigserial   PRIMARY KEY,
  -- The writing transaction's id: the relay reads only rows below the oldest running transaction,
  -- so an event whose transaction took its id early but commits late is never skipped.
  tx              xid8        NOT NULL DEFAULT pg_current_xact_id(),
  event_id        uuid        NOT NULL UNIQUE,
  stream_type     text        NOT NULL,
  stream_id       uuid        NOT NULL,
  version         int         NOT NULL CHECK (version >= 1),
  event_type      text        NOT NULL,
  schema_version  int         NOT NULL,
  data            jsonb       NOT NULL,
  metadata        jsonb       NOT NULL,
  occurred_at     timestamptz NOT NULL,
  -- Gap-free, assigned by the relay in publication order; null until published.
  global_position bigint      UNIQUE,
  CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);
CREATE INDEX events_unpublished ON events (tx, id) WHERE global_position IS NULL;

-- Wake the relay on every append, once per statement.
CREATE FUNCTION notify_events_appended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('events_appended', '');
  RETURN NULL;
END $$;
CREATE TRIGGER events_appended AFTER INSERT ON events
  FOR EACH STATEMENT EXECUTE FUNCTION notify_events_appended();

-- The latest snapshot of an aggregate's state; a snapshot of another schema version is ignored.
CREATE TABLE snapshots (
  stream_id       uuid        PRIMARY KEY,
  stream_type     text        NOT NULL,
  version         int         NOT NULL,
  schema_version  int         NOT NULL,
  state           jsonb       NOT NULL,
  taken_at        timestamptz NOT NULL DEFAULT now()
);

-- The first answer to each Idempotency-Key, written in the same transaction as the command's events.
CREATE TABLE idempotency_keys (
  key             text        PRIMARY KEY,
  request_hash    text        NOT NULL,
  status          int         NOT NULL,
  location        text,
  body            jsonb       NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
