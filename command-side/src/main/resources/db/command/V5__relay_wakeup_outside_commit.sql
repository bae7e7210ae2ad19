-- The relay is no longer woken by a trigger: pg_notify inside every appending transaction made all
-- appending commits queue for PostgreSQL's notification lock. The relay of the appending process is
-- woken in-process after the commit (AppendSignal); a relay in another process hears a NOTIFY that
-- the appending process sends afterwards, outside any appending transaction (messaging.AppendNotifier).
DROP TRIGGER events_appended ON events;
DROP FUNCTION notify_events_appended();
