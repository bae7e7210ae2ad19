-- The saga's dead letters: a record the saga could not handle (it cannot be decoded, its schema is newer
-- than this service knows, or its reaction failed the same way attempt after attempt) is parked here with
-- its coordinates and bytes, and the partition goes on. An operator re-drives it once the cause is gone;
-- a re-drive that fails again leaves it PARKED with one attempt more.
CREATE TABLE saga_dead_letters (
  id          bigserial   PRIMARY KEY,
  topic       text        NOT NULL,
  partition   int         NOT NULL,
  "offset"    bigint      NOT NULL,
  key         text        NULL,
  headers     jsonb       NOT NULL DEFAULT '[]',
  payload     bytea       NULL,
  error       text        NOT NULL,
  attempts    int         NOT NULL,
  parked_at   timestamptz NOT NULL DEFAULT now(),
  state       text        NOT NULL DEFAULT 'PARKED' CHECK (state IN ('PARKED', 'REDRIVEN')),
  redriven_at timestamptz NULL,
  UNIQUE (topic, partition, "offset")
);
CREATE INDEX saga_dead_letters_parked ON saga_dead_letters (id) WHERE state = 'PARKED';
