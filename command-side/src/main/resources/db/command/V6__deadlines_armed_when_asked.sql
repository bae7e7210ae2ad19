-- A credit-check deadline runs from the moment the saga asks the customer, not from the order's
-- placement: a row without due_at is an order the saga has not reached yet (the service was down or is
-- catching up), and it cannot time out. The saga deletes the row when the customer answers, and arms
-- it (due_at = now() + the timeout) when the question could not be answered. Rows written before this
-- migration keep the due_at they were given.
ALTER TABLE saga_deadlines ALTER COLUMN due_at DROP NOT NULL;
