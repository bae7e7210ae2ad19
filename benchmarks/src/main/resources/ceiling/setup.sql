-- What the ceiling part's scripts (three-appends.sql, saga-deadlines.sql, relay-read.sql, projection.sql,
-- thinnest-read-model.sql) need beside the migrated schemas: the sequences they number customers' versions and
-- read-model positions from, 64 customer views for each of up to 64 pgbench clients, the projector's checkpoint rows
-- and the thinnest read model's table. Run by the harness's ceiling part (WriteCeiling) on its scratch database.
CREATE SEQUENCE IF NOT EXISTS public.customer_versions;
CREATE SEQUENCE IF NOT EXISTS public.positions;
INSERT INTO query.customer_view (customer_id, name, credit_limit, currency, credit_reserved, version)
SELECT md5('customer' || c || '-' || i)::uuid, 'customer ' || c || '-' || i, 1000000000, 'EUR', 0, 1
  FROM generate_series(0, 63) i, generate_series(0, 63) c
    ON CONFLICT DO NOTHING;
INSERT INTO query.projector_checkpoint (topic, partition, next_offset)
SELECT 'orders', p, 0 FROM generate_series(0, 15) p ON CONFLICT DO NOTHING;
-- the thinnest read model's one table (thinnest-read-model.sql)
CREATE TABLE IF NOT EXISTS public.thinnest_order_view (order_id uuid PRIMARY KEY, customer_id uuid NOT NULL, status text NOT NULL);
