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
 * keyed by the customer, and moves the relay's checkpoint (position and the (tx, id) of its event) once Kafka
 * acknowledged them, as the relay does (without the anchors the event feed starts from). The tests use
 * the real {@code RelayVerticle} unless {@code -Dorders.saga.testRelay=true}.
 */
final class TestRelay {

    private static final Logger LOG = LoggerFactory.getLogger(TestRelay.class);
    private static final int BATCH = 500;
    private static final String UNPUBLISHED = """
            SELECT id, tx::text AS tx, event_id, version, global_position, event_type, schema_version,
                   data::text AS data, metadata::text AS metadata, occurred_at
              FROM events
             WHERE tx < pg_snapshot_xmin(pg_current_snapshot()) AND (tx, id) > ($2::text::xid8, $3)
             ORDER BY tx, id
             LIMIT $1""";
    private static final String CHECKPOINT = "SELECT last_position, last_tx::text AS last_tx, last_id FROM relay_checkpoint";
    private static final String RECORD = """
            UPDATE relay_checkpoint SET last_position = $1, last_tx = $2::text::xid8, last_id = $3, updated_at = now()
             WHERE id = 1""";

    private final Vertx vertx;
    private final Pool pool;
    private final String topicPrefix;
    private final KafkaProducer<String, byte[]> producer;
    private long position;
    private String lastTx;
    private long lastId;
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
        return pool.query(CHECKPOINT).execute()
                .onSuccess(rows -> {
                    Row checkpoint = rows.iterator().next();
                    position = checkpoint.getLong("last_position");
                    lastTx = checkpoint.getString("last_tx");
                    lastId = checkpoint.getLong("last_id");
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
        return pool.preparedQuery(UNPUBLISHED).execute(Tuple.of(BATCH, lastTx, lastId)).compose(rows -> {
            List<Future<?>> sent = new ArrayList<>();
            long next = position;
            Row lastRow = null;
            for (Row row : rows) {
                EventEnvelope envelope = SagaWorld.envelope(row).withGlobalPosition(++next);
                // keyed as the relay keys them: by the customer, so one customer's records come in one partition
                KafkaProducerRecord<String, byte[]> record = KafkaProducerRecord.create(
                        Topics.of(topicPrefix, envelope.streamType()), envelope.event().partitionKey().toString(),
                        EventJson.encode(envelope));
                record.addHeader(Topics.HEADER_STREAM_ID, envelope.streamId().toString());
                sent.add(producer.send(record));
                lastRow = row;
            }
            if (lastRow == null) {
                return Future.succeededFuture(0);
            }
            long last = next;
            String tx = lastRow.getString("tx");
            long id = lastRow.getLong("id");
            return Future.all(sent)
                    .compose(ignored -> pool.preparedQuery(RECORD).execute(Tuple.of(last, tx, id)))
                    .map(ignored -> {
                        position = last;
                        lastTx = tx;
                        lastId = id;
                        return sent.size();
                    });
        });
    }
}
