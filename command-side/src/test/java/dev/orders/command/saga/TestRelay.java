package dev.orders.command.saga;

import dev.orders.events.EventEnvelope;
import dev.orders.events.EventJson;
import dev.orders.events.Topics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A small stand-in for the relay, so that the saga's tests do not depend on it: it publishes committed
 * events in a safe order (only rows whose transaction is older than every running one, by (tx, id)),
 * keyed by stream id, and stamps their global positions once Kafka acknowledged them. The tests use
 * the real {@code RelayVerticle} unless {@code -Dorders.saga.testRelay=true}.
 */
final class TestRelay {

    private static final Logger LOG = LoggerFactory.getLogger(TestRelay.class);
    private static final int BATCH = 500;
    private static final String UNPUBLISHED = """
            SELECT id, event_id, version, global_position, event_type, schema_version, data::text AS data,
                   metadata::text AS metadata, occurred_at
              FROM events
             WHERE global_position IS NULL AND tx < pg_snapshot_xmin(pg_current_snapshot())
             ORDER BY tx, id
             LIMIT $1""";
    private static final String STAMP = "UPDATE events SET global_position = $2 WHERE id = $1";

    private final Vertx vertx;
    private final Pool pool;
    private final String topicPrefix;
    private final KafkaProducer<String, byte[]> producer;
    private long position;
    private volatile boolean stopped;

    TestRelay(Vertx vertx, Pool pool, String kafkaBootstrap, String topicPrefix) {
        this.vertx = vertx;
        this.pool = pool;
        this.topicPrefix = topicPrefix;
        this.producer = KafkaProducer.create(vertx, Map.of("bootstrap.servers", kafkaBootstrap, "acks", "all",
                "enable.idempotence", "true", "max.in.flight.requests.per.connection", "1",
                "key.serializer", "org.apache.kafka.common.serialization.StringSerializer",
                "value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer"));
    }

    Future<Void> start() {
        return pool.query("SELECT coalesce(max(global_position), 0) FROM events").execute()
                .onSuccess(rows -> {
                    position = rows.iterator().next().getLong(0);
                    vertx.runOnContext(ignored -> publishLoop());
                })
                .mapEmpty();
    }

    Future<Void> stop() {
        stopped = true;
        return producer.close();
    }

    private void publishLoop() {
        if (stopped) {
            return;
        }
        publishBatch().onComplete(done -> {
            if (done.failed()) {
                LOG.warn("test relay: {}", done.cause().toString());
            }
            vertx.setTimer(done.succeeded() && done.result() == BATCH ? 1 : 20, id -> publishLoop());
        });
    }

    private Future<Integer> publishBatch() {
        return pool.preparedQuery(UNPUBLISHED).execute(Tuple.of(BATCH)).compose(rows -> {
            List<Future<?>> sent = new ArrayList<>();
            List<Tuple> stamps = new ArrayList<>();
            long next = position;
            for (Row row : rows) {
                EventEnvelope envelope = SagaWorld.envelope(row).withGlobalPosition(++next);
                // keyed as the relay keys them: by the customer, so one customer's records come in one partition
                KafkaProducerRecord<String, byte[]> record = KafkaProducerRecord.create(
                        Topics.of(topicPrefix, envelope.streamType()), envelope.event().partitionKey().toString(),
                        EventJson.encode(envelope));
                record.addHeader(Topics.HEADER_STREAM_ID, envelope.streamId().toString());
                sent.add(producer.send(record));
                stamps.add(Tuple.of(row.getLong("id"), next));
            }
            if (stamps.isEmpty()) {
                return Future.succeededFuture(0);
            }
            long last = next;
            return Future.all(sent)
                    .compose(ignored -> pool.preparedQuery(STAMP).executeBatch(stamps))
                    .map(ignored -> {
                        position = last;
                        return stamps.size();
                    });
        });
    }
}
