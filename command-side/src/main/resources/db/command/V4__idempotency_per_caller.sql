-- An Idempotency-Key belongs to the caller that sent it, named by its token's subject: another caller
-- sending the same key neither gets the stored answer nor conflicts with it. Keys stored before
-- authentication existed belong to no caller ('', a subject no token has) and are answered to no one.
ALTER TABLE idempotency_keys ADD COLUMN subject text NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ALTER COLUMN subject DROP DEFAULT;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (subject, key);
