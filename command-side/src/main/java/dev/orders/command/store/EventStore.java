package dev.orders.command.store;

import dev.orders.events.EventEnvelope;
import dev.orders.events.EventFormatException;
import dev.orders.events.EventJson;
import dev.orders.events.EventMetadata;
import dev.orders.events.EventTypes;
import dev.orders.events.StreamType;
import io.vertx.core.Future;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The PostgreSQL event store. Each stream's versions are contiguous from 1: an append names the
 * version it expects the stream to be at, and {@code UNIQUE (stream_id, version)} makes a conflicting
 * append fail as a whole ({@link ConcurrencyConflictException}). Events are read back upcast to the
 * current shape of their type.
 */
public final class EventStore {

    private static final String UNIQUE_VIOLATION = "23505";
    private static final String STREAM_VERSION_CONSTRAINT = "events_stream_version";
    private static final String EVENT_ID_CONSTRAINT = "events_event_id_key";

    /** The events of a stream after {@code afterVersion}, oldest first. */
    public Future<List<EventEnvelope>> load(SqlClient client, UUID streamId, long afterVersion) {
        return client.preparedQuery(EventStoreSql.LOAD_AFTER)
                .execute(Tuple.of(streamId, afterVersion))
                .map(rows -> {
                    List<EventEnvelope> events = new ArrayList<>(rows.size());
                    for (Row row : rows) {
                        events.add(toEnvelope(row));
                    }
                    return events;
                });
    }

    /** The first event of a stream (the one that created its aggregate), if the stream exists. */
    public Future<java.util.Optional<EventEnvelope>> first(SqlClient client, UUID streamId) {
        return client.preparedQuery(EventStoreSql.FIRST_EVENT).execute(Tuple.of(streamId))
                .map(rows -> rows.size() == 0 ? java.util.Optional.empty()
                        : java.util.Optional.of(toEnvelope(rows.iterator().next())));
    }

    /** The stream's current version; 0 for a stream with no events. */
    public Future<Long> currentVersion(SqlClient client, UUID streamId) {
        return client.preparedQuery(EventStoreSql.CURRENT_VERSION).execute(Tuple.of(streamId))
                .map(rows -> rows.iterator().next().getLong(0));
    }

    /** Events to append to one stream that the caller found at {@code expectedVersion}. */
    public record Append(StreamType type, UUID streamId, long expectedVersion, List<EventEnvelope> events) {
    }

    /**
     * Appends events to one stream inside the caller's transaction. Their versions must follow
     * {@code expectedVersion} one by one. The version check and the insert are sent together (pipelined).
     *
     * @return a future failed with {@link ConcurrencyConflictException} when the stream is not at
     *         {@code expectedVersion}, with {@link DuplicateEventException} when an event id is stored already
     */
    public Future<Void> append(SqlConnection tx, StreamType type, UUID streamId, long expectedVersion,
                               List<EventEnvelope> events) {
        if (events.isEmpty()) {
            return Future.succeededFuture();
        }
        List<Tuple> batch = new ArrayList<>(events.size());
        try {
            requireFollows(streamId, expectedVersion, events);
        } catch (IllegalArgumentException wrong) {
            return Future.failedFuture(wrong);
        }
        for (EventEnvelope event : events) {
            batch.add(Tuple.of(event.eventId(), type.wireName(), streamId, (int) event.version(), event.type(),
                    EventTypes.currentSchemaVersion(event.event()), EventJson.dataText(event.event()),
                    metadataJson(event.metadata()), OffsetDateTime.ofInstant(event.occurredAt(), ZoneOffset.UTC)));
        }
        Future<Void> guard = expectedVersion == 0 ? Future.succeededFuture()
                : currentVersion(tx, streamId).compose(current -> current == expectedVersion
                ? Future.succeededFuture()
                : Future.failedFuture(new ConcurrencyConflictException(streamId, expectedVersion)));
        Future<Void> insert = tx.preparedQuery(EventStoreSql.APPEND).executeBatch(batch)
                .recover(failure -> Future.failedFuture(translate(failure, streamId, expectedVersion)))
                .mapEmpty();
        return Future.all(guard, insert).recover(failure -> Future.failedFuture(
                guard.failed() ? guard.cause() : insert.failed() ? insert.cause() : failure)).mapEmpty();
    }

    /**
     * Appends to many streams in one statement (atomic on its own, or part of the caller's transaction).
     * Each stream's expected version is the one its caller loaded in the same unit of work, so a stream
     * that moved meanwhile makes the unique {@code (stream_id, version)} index refuse the whole statement.
     *
     * @return a future failed with {@link ConcurrencyConflictException} (naming one of the streams that
     *         moved) or {@link DuplicateEventException}; nothing is appended then
     */
    public Future<Void> appendAll(SqlClient client, List<Append> appends) {
        List<UUID> eventIds = new ArrayList<>();
        List<String> types = new ArrayList<>();
        List<UUID> streams = new ArrayList<>();
        List<Integer> versions = new ArrayList<>();
        List<String> eventTypes = new ArrayList<>();
        List<Integer> schemas = new ArrayList<>();
        List<String> data = new ArrayList<>();
        List<String> metadata = new ArrayList<>();
        List<OffsetDateTime> times = new ArrayList<>();
        try {
            for (Append append : appends) {
                requireFollows(append.streamId(), append.expectedVersion(), append.events());
                for (EventEnvelope event : append.events()) {
                    eventIds.add(event.eventId());
                    types.add(append.type().wireName());
                    streams.add(append.streamId());
                    versions.add((int) event.version());
                    eventTypes.add(event.type());
                    schemas.add(EventTypes.currentSchemaVersion(event.event()));
                    data.add(EventJson.dataText(event.event()));
                    metadata.add(metadataJson(event.metadata()));
                    times.add(OffsetDateTime.ofInstant(event.occurredAt(), ZoneOffset.UTC));
                }
            }
        } catch (IllegalArgumentException wrong) {
            return Future.failedFuture(wrong);
        }
        if (eventIds.isEmpty()) {
            return Future.succeededFuture();
        }
        Tuple params = Tuple.tuple().addArrayOfUUID(eventIds.toArray(UUID[]::new))
                .addArrayOfString(types.toArray(String[]::new))
                .addArrayOfUUID(streams.toArray(UUID[]::new))
                .addArrayOfInteger(versions.toArray(Integer[]::new))
                .addArrayOfString(eventTypes.toArray(String[]::new))
                .addArrayOfInteger(schemas.toArray(Integer[]::new))
                .addArrayOfString(data.toArray(String[]::new))
                .addArrayOfString(metadata.toArray(String[]::new))
                .addArrayOfOffsetDateTime(times.toArray(OffsetDateTime[]::new));
        return client.preparedQuery(EventStoreSql.APPEND_MANY).execute(params)
                .recover(failure -> Future.failedFuture(translate(failure, appends)))
                .mapEmpty();
    }

    /** The events of many streams, each after the version given for it; a stream without any maps to an empty list. */
    public Future<Map<UUID, List<EventEnvelope>>> loadAll(SqlClient client, Map<UUID, Long> afterVersions) {
        if (afterVersions.isEmpty()) {
            return Future.succeededFuture(Map.of());
        }
        UUID[] ids = afterVersions.keySet().toArray(UUID[]::new);
        Integer[] after = new Integer[ids.length];
        for (int i = 0; i < ids.length; i++) {
            after[i] = Math.toIntExact(afterVersions.get(ids[i]));
        }
        return client.preparedQuery(EventStoreSql.LOAD_MANY_AFTER)
                .execute(Tuple.tuple().addArrayOfUUID(ids).addArrayOfInteger(after)).map(rows -> {
            Map<UUID, List<EventEnvelope>> events = new HashMap<>();
            for (UUID id : ids) {
                events.put(id, new ArrayList<>());
            }
            for (Row row : rows) {
                events.get(row.getUUID("stream_id")).add(toEnvelope(row));
            }
            return events;
        });
    }

    /**
     * Inside an appending transaction, before its appends: fails with {@link DuplicateEventException} when one of
     * {@code eventIds} is stored already, and with {@link ConcurrencyConflictException} when a stream is not at the
     * version {@code versions} gives for it; either failure aborts the transaction. Sent at once, so it can travel
     * with the appends and COMMIT in one round trip.
     */
    public Future<Void> requireCurrent(SqlClient tx, Collection<UUID> eventIds, Map<UUID, Long> versions) {
        UUID[] streams = versions.keySet().toArray(UUID[]::new);
        Integer[] at = new Integer[streams.length];
        for (int i = 0; i < streams.length; i++) {
            at[i] = Math.toIntExact(versions.get(streams[i]));
        }
        return tx.preparedQuery(EventStoreSql.REQUIRE_CURRENT)
                .execute(Tuple.tuple().addArrayOfUUID(eventIds.toArray(UUID[]::new)).addArrayOfUUID(streams)
                        .addArrayOfInteger(at))
                .<Void>mapEmpty()
                .recover(failure -> {
                    if (failure instanceof PgException pg && EventStoreSql.APPLIED_BEFORE.equals(pg.getSqlState())) {
                        return Future.failedFuture(new DuplicateEventException(pg.getErrorMessage()));
                    }
                    if (failure instanceof PgException pg && EventStoreSql.MOVED.equals(pg.getSqlState())) {
                        UUID moved = UUID.fromString(pg.getDetail());
                        return Future.failedFuture(new ConcurrencyConflictException(moved, versions.get(moved)));
                    }
                    return Future.failedFuture(failure);
                });
    }

    /** Which of these event ids are stored already. */
    public Future<Set<UUID>> existing(SqlClient client, Collection<UUID> eventIds) {
        if (eventIds.isEmpty()) {
            return Future.succeededFuture(Set.of());
        }
        return client.preparedQuery(EventStoreSql.EXISTING_EVENT_IDS).execute(Tuple.tuple().addArrayOfUUID(eventIds.toArray(UUID[]::new)))
                .map(rows -> {
                    Set<UUID> found = new HashSet<>();
                    rows.forEach(row -> found.add(row.getUUID(0)));
                    return found;
                });
    }

    private static void requireFollows(UUID streamId, long expectedVersion, List<EventEnvelope> events) {
        long version = expectedVersion;
        for (EventEnvelope event : events) {
            version++;
            if (event.version() != version || !event.streamId().equals(streamId)) {
                throw new IllegalArgumentException(
                        "events must follow version " + expectedVersion + " of stream " + streamId + " one by one");
            }
        }
    }

    private static Throwable translate(Throwable failure, UUID streamId, long expectedVersion) {
        return translate(failure, List.of(new Append(null, streamId, expectedVersion, List.of())));
    }

    private static Throwable translate(Throwable failure, List<Append> appends) {
        if (failure instanceof PgException pg && UNIQUE_VIOLATION.equals(pg.getSqlState())) {
            if (STREAM_VERSION_CONSTRAINT.equals(pg.getConstraint())) {
                Append moved = appends.stream().filter(a -> pg.getDetail() != null
                        && pg.getDetail().contains(a.streamId().toString())).findFirst().orElse(appends.getFirst());
                return new ConcurrencyConflictException(moved.streamId(), moved.expectedVersion());
            }
            if (EVENT_ID_CONSTRAINT.equals(pg.getConstraint())) {
                return new DuplicateEventException("an event is stored already: " + pg.getDetail());
            }
        }
        return failure;
    }

    /** Reads one row of the events table (as selected by the store's queries) into an envelope. */
    static EventEnvelope toEnvelope(Row row) {
        Long position = row.getLong("global_position");
        return toEnvelope(row, position == null ? 0 : position);
    }

    /**
     * Reads one row of the events table into an envelope with the given global position. The
     * {@code data} and {@code metadata} columns may be selected as text or as {@code jsonb}.
     */
    public static EventEnvelope toEnvelope(Row row, long position) {
        String type = row.getString("event_type");
        int schemaVersion = row.getInteger("schema_version");
        return new EventEnvelope(row.getUUID("event_id"), row.getInteger("version"), position,
                row.getOffsetDateTime("occurred_at").toInstant(), schemaVersion,
                metadataOf(jsonText(row.getValue("metadata"))),
                EventJson.eventOf(type, schemaVersion, jsonText(row.getValue("data"))));
    }

    private static String jsonText(Object value) {
        if (value instanceof io.vertx.core.json.JsonObject object) {
            return object.encode();
        }
        if (value instanceof String text) {
            return text;
        }
        throw new EventFormatException("stored JSON is not an object: " + value);
    }

    static String metadataJson(EventMetadata metadata) {
        return EventJson.metadataJson(metadata);
    }

    static EventMetadata metadataOf(String json) {
        return EventJson.metadataOf(json);
    }
}
