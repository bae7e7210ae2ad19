-- Stage 4 of the harness's ceiling part (WriteCeiling; BENCHMARKS.md, section 1): the projector's transaction for
-- the round's 48 events (order k is md5(base || k), its customer one of 64 of the pgbench client's own, so no two
-- clients update the same customer view, as one projector does not): the event log's copy of the events, the order
-- and customer views, the change log and its latest rows, the checkpoint. Run after the stages before it in one
-- script.
BEGIN;
INSERT INTO event_log (global_position, event_id, stream_type, stream_id, version, type, schema_version, occurred_at, data, metadata)
SELECT nextval('positions'), gen_random_uuid(), 'order', md5(:base::text || k)::uuid, j, 'OrderCreated', 1, now(),
       jsonb_build_object('orderId', md5(:base::text || k)::uuid, 'customerId', md5('customer' || :client_id || '-' || ((:base::bigint + k) % 64))::uuid,
                          'total', jsonb_build_object('amount', '1.00', 'currency', 'EUR')),
       '{"correlationId":"3f1c2a9e-5b7d-4e2a-9c1f-0a1b2c3d4e5f","commandId":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}'
  FROM generate_series(1, 16) k, generate_series(1, 3) j;
INSERT INTO order_view (order_id, customer_id, status, total_amount, currency, version, created_at, updated_at)
SELECT md5(:base::text || k)::uuid, md5('customer' || :client_id || '-' || ((:base::bigint + k) % 64))::uuid, 'PENDING', 1.00, 'EUR', 1, now(), now()
  FROM generate_series(1, 16) k;
UPDATE customer_view SET credit_reserved = credit_reserved + 1.00, version = version + 1
 WHERE customer_id IN (SELECT md5('customer' || :client_id || '-' || ((:base::bigint + k) % 64))::uuid FROM generate_series(1, 16) k);
UPDATE order_view SET status = 'APPROVED', version = 2, updated_at = now()
 WHERE order_id IN (SELECT md5(:base::text || k)::uuid FROM generate_series(1, 16) k);
INSERT INTO order_changes (global_position, order_id, customer_id, version, view)
SELECT nextval('positions'), md5(:base::text || k)::uuid, md5('customer' || :client_id || '-' || ((:base::bigint + k) % 64))::uuid, j,
       jsonb_build_object('orderId', md5(:base::text || k)::uuid, 'customerId', md5('customer' || :client_id || '-' || ((:base::bigint + k) % 64))::uuid,
                          'status', 'PENDING', 'total', jsonb_build_object('amount', '1.00', 'currency', 'EUR'), 'version', j)
  FROM generate_series(1, 16) k, generate_series(1, 2) j;
INSERT INTO latest_order_changes (order_id, customer_id, position, version, view, changed_at)
SELECT md5(:base::text || k)::uuid, md5('customer' || :client_id || '-' || ((:base::bigint + k) % 64))::uuid, j, j, '{"status":"PENDING","version":1}', now()
  FROM generate_series(1, 16) k, generate_series(1, 1) j
ON CONFLICT (order_id) DO UPDATE SET position = excluded.position, version = excluded.version, view = excluded.view;
INSERT INTO latest_order_changes (order_id, customer_id, position, version, view, changed_at)
SELECT md5(:base::text || k)::uuid, md5('customer' || :client_id || '-' || ((:base::bigint + k) % 64))::uuid, 2, 2, '{"status":"APPROVED","version":2}', now()
  FROM generate_series(1, 16) k
ON CONFLICT (order_id) DO UPDATE SET position = excluded.position, version = excluded.version, view = excluded.view;
UPDATE projector_checkpoint SET next_offset = next_offset + 48, updated_at = now() WHERE partition = :client_id % 16;
COMMIT;
