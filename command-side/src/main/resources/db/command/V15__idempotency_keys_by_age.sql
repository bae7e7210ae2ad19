-- Idempotency keys are kept for idempotency.retention (IdempotencyRetention prunes the older ones): the keys
-- past it are found by their age, oldest first, without reading the whole table.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
