-- Stage 2 of the harness's ceiling part (WriteCeiling; BENCHMARKS.md, section 1): the saga's deadlines for the
-- orders of three-appends.sql's round (order k is md5(base || k), its customer one of 64 of the pgbench client's
-- own), armed when the credit is asked for and deleted when it is answered, here in a transaction of their own (the
-- system does both inside its two batches of three-appends.sql). Run after the stages before it in one script.
BEGIN;
INSERT INTO saga_deadlines (order_id, customer_id, due_at, correlation_id)
SELECT md5(:base::text || k)::uuid, md5('customer' || :client_id || '-' || ((:base::bigint + k) % 64))::uuid, now() + interval '30 s', '3f1c2a9e-5b7d-4e2a-9c1f-0a1b2c3d4e5f'
  FROM generate_series(1, 16) k;
DELETE FROM saga_deadlines WHERE order_id IN (SELECT md5(:base::text || k)::uuid FROM generate_series(1, 16) k);
COMMIT;
