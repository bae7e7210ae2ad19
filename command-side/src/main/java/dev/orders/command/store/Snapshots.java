package dev.orders.command.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.orders.events.EventJson;
import dev.orders.events.StreamType;
import io.vertx.core.Future;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Snapshots of aggregate state, so that loading a long stream reads the latest snapshot plus the
 * events after it. A snapshot records the schema version of the state's JSON form; one of another
 * version (the state's shape changed since) is ignored, never misread: the stream is replayed instead.
 */
public final class Snapshots {

    private static final Logger LOG = LoggerFactory.getLogger(Snapshots.class);

    /** A state as of a stream version. */
    public record Snapshot<S>(long version, S state) {
    }

    /** The latest usable snapshot of a stream, if any. */
    public <S> Future<Optional<Snapshot<S>>> load(SqlClient client, UUID streamId, Class<S> stateClass,
                                                  int schemaVersion) {
        return client.preparedQuery(EventStoreSql.LOAD_SNAPSHOT).execute(Tuple.of(streamId)).map(rows -> {
            if (rows.size() == 0) {
                return Optional.empty();
            }
            return read(rows.iterator().next(), streamId, stateClass, schemaVersion);
        });
    }

    /** The latest usable snapshots of many streams; a stream without one is absent from the map. */
    public <S> Future<Map<UUID, Snapshot<S>>> loadAll(SqlClient client, Collection<UUID> streamIds, Class<S> stateClass,
                                                    int schemaVersion) {
        if (streamIds.isEmpty()) {
            return Future.succeededFuture(Map.of());
        }
        return client.preparedQuery(EventStoreSql.LOAD_SNAPSHOTS).execute(Tuple.tuple().addArrayOfUUID(streamIds.toArray(UUID[]::new)))
                .map(rows -> {
                    Map<UUID, Snapshot<S>> snapshots = new HashMap<>();
                    for (Row row : rows) {
                        read(row, row.getUUID("stream_id"), stateClass, schemaVersion)
                                .ifPresent(snapshot -> snapshots.put(row.getUUID("stream_id"), snapshot));
                    }
                    return snapshots;
                });
    }

    private static <S> Optional<Snapshot<S>> read(Row row, UUID streamId, Class<S> stateClass, int schemaVersion) {
        if (row.getInteger("schema_version") != schemaVersion) {
            LOG.debug("ignoring snapshot of {} with schema {} (current {})", streamId,
                    row.getInteger("schema_version"), schemaVersion);
            return Optional.empty();
        }
        try {
            S state = EventJson.mapper().readValue(row.getString("state"), stateClass);
            return Optional.of(new Snapshot<>(row.getInteger("version"), state));
        } catch (JsonProcessingException e) {
            LOG.warn("ignoring unreadable snapshot of {}: {}", streamId, e.getOriginalMessage());
            return Optional.empty();
        }
    }

    /** Stores a snapshot unless a newer one of the same schema is there already. */
    public Future<Void> save(SqlClient client, StreamType type, UUID streamId, long version, int schemaVersion,
                             Object state) {
        String json;
        try {
            json = EventJson.mapper().writeValueAsString(state);
        } catch (JsonProcessingException e) {
            return Future.failedFuture(e);
        }
        return client.preparedQuery(EventStoreSql.SAVE_SNAPSHOT)
                .execute(Tuple.of(streamId, type.wireName(), (int) version, schemaVersion, json))
                .mapEmpty();
    }
}
