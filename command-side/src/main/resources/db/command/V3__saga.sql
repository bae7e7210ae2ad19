-- Durable saga deadlines: an order still PENDING at due_at is rejected with CREDIT_CHECK_TIMEOUT.
-- Written in the same transaction as the OrderCreated event.
CREATE TABLE saga_deadlines (
  order_id       uuid        PRIMARY KEY,
  customer_id    uuid        NOT NULL,
  due_at         timestamptz NOT NULL,
  correlation_id text
);
CREATE INDEX saga_deadlines_due ON saga_deadlines (due_at);
