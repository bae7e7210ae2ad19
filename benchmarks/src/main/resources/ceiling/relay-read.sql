-- Stage 3 of the harness's ceiling part (WriteCeiling; BENCHMARKS.md, section 1): the relay's read of what it
-- publishes, the round's 48 events as stored text, as the relay reads them. Run after the stages before it in one
-- script.
SELECT id, event_id, data::text, metadata::text, CASE WHEN stream_type = 'order' THEN (data->>'customerId')::uuid ELSE stream_id END
  FROM events ORDER BY id DESC LIMIT 48;
