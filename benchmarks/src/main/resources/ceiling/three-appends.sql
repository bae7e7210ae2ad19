-- Stage 1 of the harness's ceiling part (WriteCeiling; BENCHMARKS.md, section 1): an order's three appends alone
-- (OrderCreated, CreditReserved, OrderApproved), in rounds of 16 orders, in the three transactions the system appends
-- them in, on the event store's own table and indexes: what any design that stores an order as these three events in
-- this store writes, and nothing else. pgbench's tps counts rounds (16 orders each).
\set base random(1, 9000000000000000)
-- 1. the group commit: 16 OrderCreated (order k of the round: md5(base || k))
BEGIN;
INSERT INTO events (event_id, stream_type, stream_id, version, event_type, schema_version, data, metadata, occurred_at)
SELECT gen_random_uuid(), 'order', md5(:base::text || k)::uuid, 1, 'OrderCreated', 1,
       jsonb_build_object('orderId', md5(:base::text || k)::uuid, 'customerId', md5('customer' || :client_id || '-' || ((:base::bigint + k) % 64))::uuid,
                          'total', jsonb_build_object('amount', '1.00', 'currency', 'EUR')),
       '{"correlationId":"3f1c2a9e-5b7d-4e2a-9c1f-0a1b2c3d4e5f","commandId":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}', now()
  FROM generate_series(1, 16) k;
COMMIT;
-- 2. the saga's ReserveCredit batch: credit reserved on the customers' streams (its customer: one of 64 of the
-- pgbench client's own)
BEGIN;
INSERT INTO events (event_id, stream_type, stream_id, version, event_type, schema_version, data, metadata, occurred_at)
SELECT gen_random_uuid(), 'customer', md5('customer' || :client_id || '-' || ((:base::bigint + k) % 64))::uuid, nextval('customer_versions')::int, 'CreditReserved', 1,
       jsonb_build_object('customerId', md5('customer' || :client_id || '-' || ((:base::bigint + k) % 64))::uuid, 'orderId', md5(:base::text || k)::uuid,
                          'amount', jsonb_build_object('amount', '1.00', 'currency', 'EUR')),
       '{"correlationId":"3f1c2a9e-5b7d-4e2a-9c1f-0a1b2c3d4e5f","commandId":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}', now()
  FROM generate_series(1, 16) k;
COMMIT;
-- 3. the saga's ApproveOrder batch: the orders approved
BEGIN;
INSERT INTO events (event_id, stream_type, stream_id, version, event_type, schema_version, data, metadata, occurred_at)
SELECT gen_random_uuid(), 'order', md5(:base::text || k)::uuid, 2, 'OrderApproved', 1,
       jsonb_build_object('orderId', md5(:base::text || k)::uuid, 'customerId', md5('customer' || :client_id || '-' || ((:base::bigint + k) % 64))::uuid),
       '{"correlationId":"3f1c2a9e-5b7d-4e2a-9c1f-0a1b2c3d4e5f","commandId":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}', now()
  FROM generate_series(1, 16) k;
COMMIT;
