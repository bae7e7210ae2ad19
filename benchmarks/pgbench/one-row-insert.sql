-- The baseline: the harness's pgbench transaction (section 1 of BENCHMARKS.md), one row an INSERT.
INSERT INTO public.bench_insert (event_id, data) VALUES (gen_random_uuid(), '{"customerId":"5b0c6a3e-1111-4a5b-9c9d-000000000000","total":{"amount":"1.00","currency":"EUR"}}');
