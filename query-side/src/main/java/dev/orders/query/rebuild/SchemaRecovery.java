package dev.orders.query.rebuild;

import dev.orders.query.store.ReadStore.SchemaState;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Notices that the query side's schema was lost (dropped, or restored from a backup without it) and
 * brings the read model back by itself. Every second it asks PostgreSQL whether the schema and its
 * tables are there; a failed question (PostgreSQL away) is not a loss. Once they are gone:
 * <ol>
 *   <li>{@link Steps#suspend()}: the projectors stop, open streams end and new ones, like reads, are
 *       answered {@code 503} with {@code Retry-After}; readiness answers 503 ({@link #check()}) and
 *       {@code orders_query_schema_intact} is 0;</li>
 *   <li>it waits until the schema exists again. The query side's role owns its schema but may not create
 *       one (least privilege), so an operator recreates it empty, as {@code deploy/postgres/init-roles.sh}
 *       does; this is logged as an error until done;</li>
 *   <li>{@link Steps#recreate()}: the migrations create the tables, and the order-change log's positions
 *       are moved past every id a client may hold;</li>
 *   <li>{@link Steps#refill()}: every event of the command side's event feed is applied as the projector
 *       applies it;</li>
 *   <li>{@link Steps#resume()}: streams and reads are served again and the projectors resume from Kafka.</li>
 * </ol>
 * A failed step leaves the state lost, and the next check starts over from the suspension: every step
 * can run again (applying an event twice changes nothing).
 *
 * <p>A schema found empty at start while the event store holds events that Kafka will not give the
 * projectors ({@link #startFilling}: a new query node over an old store, or a schema lost while the service
 * was down) takes the same path from step 3: nothing is served and readiness answers 503 until it is filled.
 */
public final class SchemaRecovery {

    private static final Logger LOG = LoggerFactory.getLogger(SchemaRecovery.class);
    private static final long CHECK_EVERY_MS = 1_000;

    /** Where the schema stands. */
    public enum State { INTACT, LOST, RESTORING }

    /** What the recovery does to the rest of the query side; each may run again after a failure. */
    public interface Steps {
        /** Stop writing and serving the read model. */
        Future<Void> suspend();

        /** Create the schema's tables in the (empty) schema. */
        Future<Void> recreate();

        /** Refill the tables from the event feed. */
        Future<Void> refill();

        /** Serve and project again. */
        Future<Void> resume();
    }

    private final Vertx vertx;
    private final Supplier<Future<SchemaState>> schemaState;
    private final Steps steps;
    private final AtomicLong restores = new AtomicLong();
    private volatile State state = State.INTACT;
    /** What made the read model unfit to serve, for readiness. */
    private volatile String lost = "the query schema was lost";
    private boolean checking;
    private boolean toldOperator;
    private long timer = -1;

    public SchemaRecovery(Vertx vertx, Supplier<Future<SchemaState>> schemaState, Steps steps) {
        this.vertx = vertx;
        this.schemaState = schemaState;
        this.steps = steps;
    }

    /** Starts checking, every second, on a context of its own. */
    public SchemaRecovery start() {
        vertx.getOrCreateContext().runOnContext(ignored -> timer = vertx.setPeriodic(CHECK_EVERY_MS, id -> tick()));
        return this;
    }

    /**
     * Starts checking with a schema that exists but holds nothing while the event store holds events the
     * projectors would never read from Kafka: reads and streams answer 503 at once, and the first check
     * fills it from the event feed as it fills a recreated schema, then serves and starts the projectors.
     *
     * @param why what the projectors would miss, for the log
     */
    public SchemaRecovery startFilling(String why) {
        state = State.RESTORING;
        lost = "the query schema is empty while the event store holds events";
        LOG.warn("the query side's schema is empty while the event store holds events that Kafka will not give"
                + " its projectors ({}); reads and streams answer 503 until it is filled from the event feed", why);
        steps.suspend().onFailure(failure -> LOG.debug("suspending before the fill: {}", failure.getMessage()));
        return start();
    }

    public void close() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
    }

    public State state() {
        return state;
    }

    /** A readiness check: succeeds while the schema is intact. */
    public Future<JsonObject> check() {
        State now = state;
        return now == State.INTACT ? Future.succeededFuture(new JsonObject().put("restores", restores.get()))
                : Future.failedFuture(lost + "; " + (now == State.LOST
                ? "waiting for it to exist again (an operator recreates it)" : "restoring it from the event feed"));
    }

    /** {@code orders_query_schema_intact} (1 or 0) and {@code orders_query_schema_restores_total}. */
    public void bindTo(MeterRegistry registry) {
        Gauge.builder("orders.query.schema.intact", this, r -> r.state == State.INTACT ? 1 : 0)
                .description("1 while the query side's schema holds its tables, 0 from its loss until it is restored")
                .register(registry);
        FunctionCounter.builder("orders.query.schema.restores", restores, AtomicLong::get)
                .description("lost query schemas recreated and refilled from the event feed").register(registry);
    }

    private void tick() {
        if (checking) {
            return;
        }
        checking = true;
        schemaState.get().compose(this::step).onComplete(done -> {
            checking = false;
            if (done.failed()) {
                LOG.debug("schema check: {}", done.cause().getMessage());
            }
        });
    }

    private Future<Void> step(SchemaState found) {
        if (state == State.INTACT) {
            if (found.intact()) {
                return Future.succeededFuture();
            }
            state = State.LOST;
            lost = "the query schema was lost";
            toldOperator = false;
            LOG.error("the query side's schema is lost (present: {}); reads and streams answer 503 until it is"
                    + " recreated and refilled from the event feed", found.present());
            return steps.suspend();
        }
        if (!found.present()) {
            if (!toldOperator) {
                toldOperator = true;
                LOG.error("the query side's schema does not exist and its role may not create it: recreate it empty"
                        + " (deploy/postgres/init-roles.sh, or CREATE SCHEMA ... AUTHORIZATION <query role>); the"
                        + " query side then creates its tables and refills them by itself");
            }
            return Future.succeededFuture();
        }
        state = State.RESTORING;
        long started = System.nanoTime();
        return steps.suspend()
                .compose(v -> steps.recreate())
                .compose(v -> steps.refill())
                .compose(v -> steps.resume())
                .onSuccess(v -> {
                    state = State.INTACT;
                    restores.incrementAndGet();
                    LOG.info("the query side's schema is restored from the event feed in {} ms; serving again",
                            (System.nanoTime() - started) / 1_000_000);
                })
                .onFailure(failure -> {
                    state = State.LOST;
                    LOG.warn("restoring the query side's schema failed; trying again: {}", failure.getMessage());
                });
    }
}
