-- Beside the design's stages in the harness's ceiling part (WriteCeiling; BENCHMARKS.md, section 1), after
-- three-appends.sql: the thinnest read model that can show an order's status, and what no design with this event
-- store and a read model leaves out. One row an order (its key, its customer and its status; no other index), written
-- PENDING and decided APPROVED in one transaction a round: fewer writes than any projector that shows PENDING first
-- would make.
BEGIN;
INSERT INTO public.thinnest_order_view (order_id, customer_id, status)
SELECT md5(:base::text || k)::uuid, md5('customer' || :client_id || '-' || ((:base::bigint + k) % 64))::uuid, 'PENDING'
  FROM generate_series(1, 16) k;
UPDATE public.thinnest_order_view SET status = 'APPROVED'
 WHERE order_id IN (SELECT md5(:base::text || k)::uuid FROM generate_series(1, 16) k);
COMMIT;
