-- The operators' list of all orders (GET /api/orders?status=S), newest first, optionally of one status:
-- keyset paging on (created_at, order_id) across customers. A rebuild copies these with the table.
CREATE INDEX order_view_newest ON order_view (created_at DESC, order_id DESC);
CREATE INDEX order_view_by_status ON order_view (status, created_at DESC, order_id DESC);
