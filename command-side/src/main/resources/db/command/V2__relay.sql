-- The relay's checkpoint: the last global position it assigned and saw acknowledged by Kafka.
CREATE TABLE relay_checkpoint (
  id            int         PRIMARY KEY CHECK (id = 1),
  last_position bigint      NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
INSERT INTO relay_checkpoint (id, last_position) VALUES (1, 0);
