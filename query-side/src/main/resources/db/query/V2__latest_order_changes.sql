-- The newest change of each order: the state a new stream subscription starts from. It is written in
-- the projector's transaction together with order_changes, so a subscriber reads its bounds (the
-- newest and oldest position of order_changes) and the state in one snapshot. Reading the state from
-- here costs one row per watched order, however long the order-change log or the orders' histories
-- are, and lets order_changes be pruned to a window (push.retention, push.retention-changes) without
-- losing any order's state.
CREATE TABLE latest_order_changes (
  order_id    uuid PRIMARY KEY,
  customer_id uuid NOT NULL,
  position    bigint NOT NULL,
  version     int NOT NULL,
  view        jsonb NOT NULL,
  changed_at  timestamptz NOT NULL
) WITH (fillfactor = 70);
-- By customer only: every change of an order rewrites its row but no indexed column, so the update is a
-- HOT one (room is left on each page for it), and the index keeps one entry per order, not per change.
CREATE INDEX latest_order_changes_by_customer ON latest_order_changes (customer_id);

INSERT INTO latest_order_changes (order_id, customer_id, position, version, view, changed_at)
SELECT DISTINCT ON (order_id) order_id, customer_id, position, version, view, changed_at
  FROM order_changes
 ORDER BY order_id, position DESC;
