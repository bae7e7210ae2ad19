package dev.orders.command.saga;

import dev.orders.command.domain.DomainException;
import dev.orders.command.handling.CommandHandler;
import dev.orders.events.EventEnvelope;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaHeader;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The saga's dead letters (table {@code saga_dead_letters}): records the saga could not handle, parked with
 * their coordinates, headers and bytes so that their partition goes on ({@link SagaRecords} decides when),
 * listed for operators and re-driven by them. A re-drive runs the record's reaction again, the same one the
 * saga runs ({@link SagaReactions}); its commands carry the ids the first attempt would have used, so a
 * reaction that did commit before is recognised and appends nothing twice. Every SQL statement of the
 * table is here.
 */
public final class SagaDeadLetters {

    private static final Logger LOG = LoggerFactory.getLogger(SagaDeadLetters.class);

    static final String PARK = """
            INSERT INTO saga_dead_letters (topic, partition, "offset", key, headers, payload, error, attempts)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (topic, partition, "offset") DO NOTHING""";
    static final String COLUMNS = """
            id, topic, partition, "offset", key, headers::text AS headers, payload, error, attempts, parked_at, state,
            redriven_at""";
    static final String LIST = "SELECT " + COLUMNS + " FROM saga_dead_letters WHERE id > $1 ORDER BY id LIMIT $2";
    /** Held while the record is re-driven: two re-drives of one record run one after the other. */
    static final String LOCK = "SELECT " + COLUMNS + " FROM saga_dead_letters WHERE id = $1 FOR UPDATE";
    static final String MARK_REDRIVEN = """
            UPDATE saga_dead_letters SET state = 'REDRIVEN', redriven_at = now(), attempts = attempts + 1, payload = $2
             WHERE id = $1""";
    static final String FAILED_AGAIN = """
            UPDATE saga_dead_letters SET attempts = attempts + 1, error = $2, payload = $3 WHERE id = $1
            RETURNING attempts""";
    static final String COUNT_PARKED = "SELECT count(*) FROM saga_dead_letters WHERE state = 'PARKED'";

    /** A parked record, as operators see it. */
    public record DeadLetter(long id, String topic, int partition, long offset, String key, JsonArray headers,
                             byte[] payload, String error, int attempts, Instant parkedAt, String state,
                             Instant redrivenAt) {

        /**
         * The operators' JSON of it: the fields of the query side's dead letters ({@code id, topic,
         * partition, offset, key, error, parkedAt, redrivenAt} and {@code payload}, or
         * {@code payloadBase64} for bytes that are no UTF-8 text), then {@code headers, attempts, state}.
         */
        public JsonObject json() {
            JsonObject json = new JsonObject()
                    .put("id", id)
                    .put("topic", topic)
                    .put("partition", partition)
                    .put("offset", offset)
                    .put("key", key)
                    .put("error", error)
                    .put("parkedAt", parkedAt.toString())
                    .put("redrivenAt", redrivenAt == null ? null : redrivenAt.toString());
            putBytes(json, "payload", payload);
            return json.put("headers", headers).put("attempts", attempts).put("state", state);
        }
    }

    /** A page of dead letters; {@code more} when others follow the last one. */
    public record Page(List<DeadLetter> items, boolean more) {
    }

    /** What became of a re-drive. */
    public sealed interface Redrive {

        record NotFound() implements Redrive {
        }

        record AlreadyRedriven() implements Redrive {
        }

        /**
         * The reaction ran again: it committed, or the domain refused its command ({@code refusal}, which
         * the saga too takes as the record's answer). The record is no longer parked.
         */
        record Redriven(EventEnvelope envelope, DomainException refusal) implements Redrive {
        }

        /**
         * It failed again and stays parked with {@code attempts}; {@code mayPass} when the failure may go
         * by itself (the database was unreachable), so that retrying later makes sense as it is.
         */
        record FailedAgain(String error, int attempts, boolean mayPass) implements Redrive {
        }
    }

    private final Pool pool;
    private final SagaReactions reactions;
    private final AtomicLong parked = new AtomicLong();

    public SagaDeadLetters(CommandHandler handler, Duration creditCheckTimeout) {
        this.pool = handler.pool();
        this.reactions = new SagaReactions(handler, new Deadlines(), pool, creditCheckTimeout);
    }

    /** Parks a record; a record parked before (a redelivery) stays as it is. */
    Future<Void> park(KafkaConsumerRecord<String, byte[]> record, String error, int attempts) {
        JsonArray headers = new JsonArray();
        for (KafkaHeader header : record.headers()) {
            headers.add(putBytes(new JsonObject().put("key", header.key()), "value",
                    header.value() == null ? null : header.value().getBytes()));
        }
        return pool.preparedQuery(PARK).execute(Tuple.of(record.topic(), record.partition(), record.offset(),
                        record.key(), headers, record.value() == null ? null : Buffer.buffer(record.value()),
                        error, attempts))
                .<Void>mapEmpty()
                .onSuccess(done -> LOG.error("saga parked the record at {}-{}@{} (key {}) after {} attempt(s): {}",
                        record.topic(), record.partition(), record.offset(), record.key(), attempts, error))
                .onSuccess(done -> refreshCount());
    }

    /** Dead letters after id {@code after}, oldest first, at most {@code limit}. */
    public Future<Page> list(long after, int limit) {
        return pool.preparedQuery(LIST).execute(Tuple.of(after, limit + 1)).map(rows -> {
            List<DeadLetter> items = new ArrayList<>();
            rows.forEach(row -> items.add(deadLetter(row)));
            boolean more = items.size() > limit;
            return new Page(more ? List.copyOf(items.subList(0, limit)) : List.copyOf(items), more);
        });
    }

    /**
     * Runs the reaction to a parked record again, on its stored bytes or on the corrected envelope given
     * ({@code replacement}, which is then stored in their place).
     */
    public Future<Redrive> redrive(long id, byte[] replacement) {
        return pool.<Redrive>withTransaction(conn -> conn.preparedQuery(LOCK).execute(Tuple.of(id)).compose(rows -> {
                    if (rows.size() == 0) {
                        return Future.succeededFuture(new Redrive.NotFound());
                    }
                    DeadLetter letter = deadLetter(rows.iterator().next());
                    if (letter.redrivenAt() != null) {
                        return Future.succeededFuture(new Redrive.AlreadyRedriven());
                    }
                    byte[] payload = replacement != null ? replacement : letter.payload();
                    return react(payload).transform(reacted -> reacted.succeeded()
                            ? markRedriven(conn, id, payload, reacted.result())
                            : failedAgain(conn, id, payload, reacted.cause()));
                }))
                .onComplete(done -> refreshCount());
    }

    private Future<Redrive> react(byte[] payload) {
        try {
            EventEnvelope envelope = SagaRecords.decode(payload);
            return reactions.reactAll(List.of(envelope))
                    .map(refusals -> new Redrive.Redriven(envelope, refusals.getFirst()));
        } catch (RuntimeException failure) {
            return Future.failedFuture(failure);
        }
    }

    private static Future<Redrive> markRedriven(SqlConnection conn, long id, byte[] payload, Redrive redriven) {
        return conn.preparedQuery(MARK_REDRIVEN).execute(Tuple.of(id, Buffer.buffer(payload)))
                .map(redriven)
                .onSuccess(done -> LOG.info("saga dead letter {} re-driven", id));
    }

    private static Future<Redrive> failedAgain(SqlConnection conn, long id, byte[] payload, Throwable failure) {
        String error = SagaFailures.describe(failure);
        LOG.warn("saga dead letter {} failed again: {}", id, error);
        return conn.preparedQuery(FAILED_AGAIN).execute(Tuple.of(id, error, payload == null ? null : Buffer.buffer(payload)))
                .map(rows -> new Redrive.FailedAgain(error, rows.iterator().next().getInteger(0),
                        SagaFailures.mayPass(failure)));
    }

    /** Records parked and not re-driven, as last read (after each park and re-drive, or {@link #refreshCount}). */
    public long parkedCount() {
        return parked.get();
    }

    /** Reads the number of records parked now; completes (never fails) once {@link #parkedCount} answers it. */
    public Future<Void> refreshCount() {
        return pool.query(COUNT_PARKED).execute()
                .onSuccess(rows -> parked.set(rows.iterator().next().getLong(0)))
                .onFailure(failure -> LOG.debug("saga dead letters not counted: {}", failure.toString()))
                .<Void>mapEmpty()
                .otherwiseEmpty();
    }

    private static DeadLetter deadLetter(Row row) {
        Buffer payload = row.getBuffer("payload");
        return new DeadLetter(row.getLong("id"), row.getString("topic"), row.getInteger("partition"),
                row.getLong("offset"), row.getString("key"), new JsonArray(row.getString("headers")),
                payload == null ? null : payload.getBytes(), row.getString("error"), row.getInteger("attempts"),
                instant(row, "parked_at"), row.getString("state"), instant(row, "redriven_at"));
    }

    private static Instant instant(Row row, String column) {
        var value = row.getOffsetDateTime(column);
        return value == null ? null : value.toInstant();
    }

    /** Puts bytes as text under {@code field} when they are UTF-8, else as base64 under {@code field + "Base64"}. */
    private static JsonObject putBytes(JsonObject json, String field, byte[] bytes) {
        if (bytes == null) {
            return json;
        }
        try {
            return json.put(field, StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString());
        } catch (CharacterCodingException e) {
            return json.put(field + "Base64", Base64.getEncoder().encodeToString(bytes));
        }
    }
}
