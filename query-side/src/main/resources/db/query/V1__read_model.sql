-- The query side's read model. Everything here is rebuildable from the events.

-- The current state of each order, as GET /api/orders/{id} answers it.
CREATE TABLE order_view (
  order_id        uuid PRIMARY KEY,
  customer_id     uuid NOT NULL,
  status          text NOT NULL,
  total_amount    numeric(14,2) NOT NULL,
  currency        text NOT NULL,
  reason          text NULL,
  version         int NOT NULL,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  needs_attention boolean NOT NULL DEFAULT false
);
-- A customer's orders, newest first, optionally of one status (keyset paging on created_at, order_id).
CREATE INDEX order_view_by_customer_status ON order_view (customer_id, status, created_at DESC, order_id DESC);
CREATE INDEX order_view_by_customer ON order_view (customer_id, created_at DESC, order_id DESC);
CREATE INDEX order_view_needing_attention ON order_view (order_id) WHERE needs_attention;

-- The credit view of each customer.
CREATE TABLE customer_view (
  customer_id     uuid PRIMARY KEY,
  name            text NOT NULL,
  credit_limit    numeric(14,2) NOT NULL,
  currency        text NOT NULL,
  credit_reserved numeric(14,2) NOT NULL,
  version         int NOT NULL
);
-- Customers by available credit, highest first (keyset paging on available credit, customer_id).
CREATE INDEX customer_view_by_available_credit
  ON customer_view ((credit_limit - credit_reserved) DESC, customer_id DESC);

-- The order-change log: one row per change of an order view, keyed by the global position of the
-- event that caused it; view is the order JSON exactly as GET /api/orders/{id} answers it.
-- Written in the projector's transaction together with pg_notify('order_changes', position::text).
-- The push hub replays from here and follows it with LISTEN order_changes.
-- position is the push resume id: taken from a sequence under a transaction-level advisory lock
-- (see ProjectionStore), so positions become visible in increasing order even when several
-- projector transactions (partitions, instances) commit concurrently; a follower reading
-- "position > last seen" can then never skip one. global_position is the event's, for dedupe.
CREATE SEQUENCE order_change_position;
CREATE TABLE order_changes (
  position        bigint PRIMARY KEY DEFAULT nextval('order_change_position'),
  global_position bigint NOT NULL UNIQUE,
  order_id        uuid NOT NULL,
  customer_id     uuid NOT NULL,
  version         int NOT NULL,
  view            jsonb NOT NULL,
  changed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_changes_by_order ON order_changes (order_id, position);
CREATE INDEX order_changes_by_customer ON order_changes (customer_id, position);

-- Every event the query side has seen, once (event_id is the dedupe key). History and asOf are
-- answered from here, so the query side never reads the command side's tables.
CREATE TABLE event_log (
  global_position bigint PRIMARY KEY,
  event_id        uuid NOT NULL UNIQUE,
  stream_type     text NOT NULL,
  stream_id       uuid NOT NULL,
  version         int NOT NULL,
  type            text NOT NULL,
  schema_version  int NOT NULL,
  occurred_at     timestamptz NOT NULL,
  data            jsonb NOT NULL,
  metadata        jsonb NOT NULL
);
CREATE INDEX event_log_by_stream ON event_log (stream_id, version);

-- Where the projector stands: the next offset of each topic-partition, written in the same
-- transaction as the projection rows, and the last event it applied.
CREATE TABLE projector_checkpoint (
  topic           text NOT NULL,
  partition       int NOT NULL,
  next_offset     bigint NOT NULL,
  last_position   bigint NOT NULL DEFAULT 0,
  last_occurred_at timestamptz NULL,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, partition)
);

-- Records the projector could not apply: parked with their coordinates, re-drivable by operators.
CREATE TABLE dead_letters (
  id          bigserial PRIMARY KEY,
  topic       text NOT NULL,
  partition   int NOT NULL,
  "offset"    bigint NOT NULL,
  key         text NULL,
  error       text NOT NULL,
  payload     bytea NULL,
  parked_at   timestamptz NOT NULL DEFAULT now(),
  redriven_at timestamptz NULL,
  UNIQUE (topic, partition, "offset")
);
CREATE INDEX dead_letters_pending_by_key ON dead_letters (key) WHERE redriven_at IS NULL;
