package dev.orders.command.messaging;

import dev.orders.command.store.AppendSignal;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.sql.PgPools;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Publishes the event store to Kafka: gap-free global positions in a safe order, at least once, one
 * active relay per database (an advisory-lock lease). It is woken in-process by {@link AppendSignal}
 * after a local commit, and by {@code LISTEN} when another process appended (its {@link AppendNotifier}
 * sends the notification after the commit); a slow poll is only a safety net.
 * A batch is read, sent, acknowledged by Kafka, and only then stamped and checkpointed, batches strictly in
 * order; the next batch is read (past the one in flight) and sent while the previous one is acknowledged.
 * A Kafka failure sends the same batch, with the same positions, again until it goes through, and reads
 * what followed it again. While committed events wait behind an older transaction, the relay looks
 * again within milliseconds.
 */
public final class RelayVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(RelayVerticle.class);
    /** Batches with Kafka at once: the next one is read and sent while the previous one is acknowledged. */
    private static final int MAX_IN_FLIGHT = 2;
    private static final long MIN_RECHECK_MILLIS = 2;
    private static final long MAX_RECHECK_MILLIS = 50;
    private static final long FIRST_BACKOFF_MILLIS = 100;

    /** A batch read and sent, until it is stored. */
    private static final class Flight {

        enum State { SENDING, ACKED, FAILED, WAITING }

        final RelayBatches.Batch batch;
        State state = State.SENDING;
        long backoff = FIRST_BACKOFF_MILLIS;

        Flight(RelayBatches.Batch batch) {
            this.batch = batch;
        }
    }

    private final RelaySettings settings;
    private final String pgUri;
    private final String kafkaBootstrap;
    private final RelayHooks hooks;
    private final RelayBatches batches = new RelayBatches();
    private RelayLease lease;
    private EventPublisher publisher;
    private Pool observer;
    private AppendNotifier notifier;
    private volatile RelayMetrics metrics = RelayMetrics.STARTING;
    private int term;
    /** Holds the lease and has read the checkpoint: only then may it read, number and send events. */
    private boolean publishing;
    private boolean finished;
    /** The last position stored (stamped and checkpointed). */
    private long checkpoint;
    /** Batches sent to Kafka and not stored yet, oldest first; stored strictly in this order. */
    private final ArrayDeque<Flight> flights = new ArrayDeque<>();
    /** The last position given to a batch read in this term, and where that read stopped. */
    private long readPosition;
    private RelayBatches.Cursor cursor = RelayBatches.Cursor.START;
    /** A read or a store runs on the lease connection. */
    private boolean onConnection;
    /** A read is due: woken, a full batch read, or a re-check of rows behind the horizon. */
    private boolean wanted;
    private boolean recheckScheduled;
    private long recheckDelay = MIN_RECHECK_MILLIS;
    private long lastWarning;

    public RelayVerticle(OrdersConfig config, String pgUri, String kafkaBootstrap) {
        this(RelaySettings.from(config), pgUri, kafkaBootstrap, RelayHooks.NONE);
    }

    RelayVerticle(RelaySettings settings, String pgUri, String kafkaBootstrap, RelayHooks hooks) {
        this.settings = settings;
        this.pgUri = pgUri;
        this.kafkaBootstrap = kafkaBootstrap;
        this.hooks = hooks;
    }

    @Override
    public Future<?> start() {
        observer = PgPools.create(vertx, pgUri, 1, 8, "relay-observer");
        lease = new RelayLease(vertx, PgPools.connectOptions(pgUri), this::leaseLost, this::wake);
        notifier = new AppendNotifier(vertx, PgPools.create(vertx, pgUri, 1, 8, "relay-notify"), this::isActive);
        notifier.start();
        vertx.eventBus().localConsumer(AppendSignal.ADDRESS, message -> wake());
        return EventPublisher.create(vertx, kafkaBootstrap, settings).compose(created -> {
            publisher = created;
            return publisher.ensureTopics();
        }).onSuccess(ignored -> {
            compete();
            vertx.setPeriodic(settings.pollInterval().toMillis(), id -> wake());
            vertx.setPeriodic(settings.observeInterval().toMillis(), id -> observe());
        });
    }

    @Override
    public Future<?> stop() {
        finish("stopped");
        return Future.join(lease.drop(), publisher == null ? Future.succeededFuture() : publisher.close(),
                observer.close(), notifier.close());
    }

    /** The gauges now; safe to call from any thread. */
    public RelayMetrics metrics() {
        return metrics;
    }

    /** A readiness check for {@code Health}: always up, with the relay's lag as its detail. */
    public Future<JsonObject> readiness() {
        return Future.succeededFuture(metrics.toJson());
    }

    boolean isActive() {
        return publishing && lease.held() && !finished;
    }

    int leaseBackendPid() {
        return lease.backendPid();
    }

    private void compete() {
        if (finished) {
            return;
        }
        lease.tryAcquire().onComplete(granted -> {
            if (finished) {
                lease.drop();
            } else if (granted.succeeded() && granted.result()) {
                becomeActive();
            } else {
                if (granted.failed()) {
                    LOG.debug("relay lease not reachable: {}", granted.cause().toString());
                }
                vertx.setTimer(settings.leaseRetry().toMillis(), id -> compete());
            }
        });
    }

    private void becomeActive() {
        int t = ++term;
        batches.checkpoint(lease.connection()).onComplete(read -> {
            if (t != term) {
                return;
            }
            if (read.failed()) {
                LOG.warn("relay could not read its checkpoint: {}", read.cause().toString());
                lease.drop();
                return;
            }
            checkpoint = read.result().lastPosition();
            Future<Integer> repaired = read.result().maxStamped() > checkpoint
                    ? batches.unstampAbove(lease.connection(), checkpoint)
                    : Future.succeededFuture(0);
            repaired.onComplete(done -> {
                if (t != term) {
                    return;
                }
                if (done.failed()) {
                    LOG.warn("relay could not take back positions above {}: {}", checkpoint, done.cause().toString());
                    lease.drop();
                    return;
                }
                if (done.result() > 0) {
                    LOG.warn("relay checkpoint {} was behind the highest stamped position {}: took back {} position(s);"
                            + " they are published again with the same positions", checkpoint,
                            read.result().maxStamped(), done.result());
                }
                LOG.info("relay holds the lease (backend {}), publishing after position {}", lease.backendPid(), checkpoint);
                metrics = metrics.withRole("active").published(0, checkpoint);
                flights.clear();
                readPosition = checkpoint;
                cursor = RelayBatches.Cursor.START;
                onConnection = false;
                recheckScheduled = false;
                recheckDelay = MIN_RECHECK_MILLIS;
                publishing = true;
                wake();
            });
        });
    }

    private void leaseLost() {
        term++;
        publishing = false;
        if (finished) {
            return;
        }
        LOG.warn("relay lost its lease; it stops publishing and competes again");
        metrics = metrics.withRole("standby");
        vertx.setTimer(settings.leaseRetry().toMillis(), id -> compete());
    }

    private void wake() {
        if (!isActive()) {
            return;
        }
        wanted = true;
        step(term);
    }

    /**
     * Decides what to do next. The lease connection runs one statement at a time: storing the oldest
     * acknowledged batch comes first, then reading the next one, while up to {@link #MAX_IN_FLIGHT}
     * batches are with Kafka. A failed batch is sent again, with the same positions, once no send is
     * in flight; the batches read after it are dropped and read again.
     */
    private void step(int t) {
        if (t != term || !isActive() || onConnection) {
            return;
        }
        Flight head = flights.peekFirst();
        if (head != null && head.state == Flight.State.ACKED) {
            store(t, head);
        } else if (head != null && head.state == Flight.State.FAILED) {
            if (flights.stream().noneMatch(f -> f.state == Flight.State.SENDING)) {
                retry(t, head);
            }
        } else if (wanted && flights.size() < MAX_IN_FLIGHT && !anyFailed()) {
            read(t);
        }
    }

    private boolean anyFailed() {
        return flights.stream().anyMatch(f -> f.state == Flight.State.FAILED || f.state == Flight.State.WAITING);
    }

    private void read(int t) {
        onConnection = true;
        wanted = false;
        batches.next(lease.connection(), readPosition, cursor, settings.batchSize()).onComplete(read -> {
            if (t != term) {
                return;
            }
            onConnection = false;
            if (read.failed()) {
                failed("reading a batch", read.cause());
            } else if (anyFailed()) {
                wanted = true; // read again after the failed batch went through
            } else {
                RelayBatches.Batch batch = read.result().batch();
                if (batch.size() > 0) {
                    cursor = batch.end();
                    readPosition = batch.last();
                    Flight flight = new Flight(batch);
                    flights.addLast(flight);
                    send(t, flight);
                }
                if (batch.size() == settings.batchSize()) {
                    wanted = true;
                } else if (read.result().blocked()) {
                    recheck(t, batch.size() > 0);
                } else {
                    recheckDelay = MIN_RECHECK_MILLIS;
                }
            }
            step(t);
        });
    }

    /** Committed events wait behind an older transaction: look again in a few milliseconds, backing off gently. */
    private void recheck(int t, boolean progressed) {
        if (recheckScheduled) {
            return;
        }
        long delay = progressed ? MIN_RECHECK_MILLIS : recheckDelay;
        recheckDelay = Math.min(delay + (delay + 1) / 2, MAX_RECHECK_MILLIS);
        recheckScheduled = true;
        vertx.setTimer(delay, id -> {
            if (t == term) {
                recheckScheduled = false;
                wanted = true;
                step(t);
            }
        });
    }

    private void send(int t, Flight flight) {
        flight.state = Flight.State.SENDING;
        RelayBatches.Batch batch = flight.batch;
        publisher.publish(batch.events()).onComplete(sent -> {
            if (t != term) {
                return;
            }
            if (sent.failed()) {
                failed("publishing positions " + batch.first() + ".." + batch.last() + " (retry in " + flight.backoff
                        + " ms)", sent.cause());
                flight.state = Flight.State.FAILED;
            } else {
                flight.state = Flight.State.ACKED;
            }
            step(t);
        });
    }

    /** Sends the failed oldest batch again after its backoff; what was read after it is read again. */
    private void retry(int t, Flight head) {
        while (flights.size() > 1) {
            flights.removeLast();
        }
        cursor = head.batch.end();
        readPosition = head.batch.last();
        wanted = true;
        head.state = Flight.State.WAITING;
        long backoff = head.backoff;
        head.backoff = Math.min(backoff * 2, settings.maxBackoff().toMillis());
        vertx.setTimer(backoff, id -> {
            if (t == term) {
                send(t, head);
            }
        });
    }

    private void store(int t, Flight flight) {
        RelayBatches.Batch batch = flight.batch;
        if (hooks.haltBeforeCheckpoint(batch.first(), batch.last())) {
            LOG.warn("relay halts after Kafka acknowledged positions {}..{}, before its checkpoint (test hook)",
                    batch.first(), batch.last());
            finish("stopped");
            lease.drop();
            return;
        }
        onConnection = true;
        batches.store(lease.connection(), batch).onComplete(stored -> {
            if (t != term) {
                return;
            }
            onConnection = false;
            if (stored.failed()) {
                failed("storing positions " + batch.first() + ".." + batch.last(), stored.cause());
                lease.drop();
                return;
            }
            flights.removeFirst();
            checkpoint = batch.last();
            metrics = metrics.published(batch.size(), checkpoint);
            if (LOG.isDebugEnabled()) {
                Set<String> correlations = new LinkedHashSet<>();
                for (Outgoing out : batch.events()) {
                    correlations.add(String.valueOf(out.correlationId()));
                }
                LOG.debug("published positions {}..{} ({} events), correlation ids {}", batch.first(), batch.last(),
                        batch.size(), correlations);
            }
            step(t);
        });
    }

    private void failed(String what, Throwable cause) {
        LOG.warn("relay failed {}: {}", what, cause.toString());
        metrics = metrics.failed(what + ": " + cause.getMessage());
    }

    private void finish(String role) {
        finished = true;
        publishing = false;
        term++;
        metrics = metrics.withRole(role);
    }

    private void observe() {
        observer.query(RelaySql.LAG).execute().onSuccess(rows -> {
            var row = rows.iterator().next();
            long waiting = row.getLong("unpublished");
            metrics = metrics.lag(waiting, row.getDouble("seconds_behind"), row.getLong("last_position"));
            if (waiting > 0 && isActive()) {
                warnAboutOldWriter(waiting);
            }
        }).onFailure(e -> LOG.debug("relay lag not measured: {}", e.toString()));
    }

    private void warnAboutOldWriter(long waiting) {
        observer.query(RelaySql.OLDEST_WRITER).execute().onSuccess(rows -> {
            if (rows.size() == 0) {
                return;
            }
            var row = rows.iterator().next();
            double age = row.getDouble("age_seconds");
            long now = System.nanoTime();
            boolean quiet = lastWarning != 0 && now - lastWarning < settings.lagWarning().toNanos();
            if (age >= settings.lagWarning().toMillis() / 1000.0 && !quiet) {
                lastWarning = now;
                LOG.warn("a transaction running for {} s (pid {}, database {}, {}) holds the relay back; {} events wait,"
                                + " {} s behind; last statement: {}", Math.round(age), row.getInteger("pid"),
                        row.getString("datname"), row.getString("state"), waiting,
                        Math.round(metrics.secondsBehind()), row.getString("query"));
            }
        });
    }
}
