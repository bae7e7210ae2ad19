package dev.orders.command.messaging;

import dev.orders.command.store.AppendSignal;
import dev.orders.events.EventEnvelope;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.sql.PgPools;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Publishes the event store to Kafka: gap-free global positions in a safe order, at least once, one
 * active relay per database (an advisory-lock lease). It is woken in-process by {@link AppendSignal}
 * after a local commit, and by {@code LISTEN} when another process appended (its {@link AppendNotifier}
 * sends the notification after the commit); a slow poll is only a safety net.
 * A batch is read, sent, acknowledged by Kafka, and only then stamped and checkpointed; a Kafka failure
 * sends the same batch, with the same positions, again until it goes through.
 */
public final class RelayVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(RelayVerticle.class);

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
    private boolean draining;
    private boolean again;
    private boolean finished;
    private long checkpoint;
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
                draining = false;
                publishing = true;
                wake();
            });
        });
    }

    private void leaseLost() {
        term++;
        publishing = false;
        draining = false;
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
        if (draining) {
            again = true;
            return;
        }
        draining = true;
        again = false;
        drain(term);
    }

    private void drain(int t) {
        batches.next(lease.connection(), checkpoint, settings.batchSize()).onComplete(read -> {
            if (t != term) {
                return;
            }
            if (read.failed()) {
                failed("reading a batch", read.cause());
                draining = false;
            } else if (read.result().size() == 0) {
                continueOrRest(t, false);
            } else {
                publish(t, read.result(), 100);
            }
        });
    }

    private void publish(int t, RelayBatches.Batch batch, long backoff) {
        publisher.publish(batch.events()).onComplete(sent -> {
            if (t != term) {
                return;
            }
            if (sent.failed()) {
                failed("publishing positions " + batch.first() + ".." + batch.last() + " (retry in " + backoff + " ms)",
                        sent.cause());
                long next = Math.min(backoff * 2, settings.maxBackoff().toMillis());
                vertx.setTimer(backoff, id -> {
                    if (t == term) {
                        publish(t, batch, next);
                    }
                });
            } else if (hooks.haltBeforeCheckpoint(batch.first(), batch.last())) {
                LOG.warn("relay halts after Kafka acknowledged positions {}..{}, before its checkpoint (test hook)",
                        batch.first(), batch.last());
                finish("stopped");
                lease.drop();
            } else {
                store(t, batch);
            }
        });
    }

    private void store(int t, RelayBatches.Batch batch) {
        batches.store(lease.connection(), batch).onComplete(stored -> {
            if (t != term) {
                return;
            }
            if (stored.failed()) {
                failed("storing positions " + batch.first() + ".." + batch.last(), stored.cause());
                lease.drop();
                return;
            }
            checkpoint = batch.last();
            metrics = metrics.published(batch.size(), checkpoint);
            if (LOG.isDebugEnabled()) {
                Set<String> correlations = new LinkedHashSet<>();
                for (EventEnvelope event : batch.events()) {
                    correlations.add(String.valueOf(event.metadata().correlationId()));
                }
                LOG.debug("published positions {}..{} ({} events), correlation ids {}", batch.first(), batch.last(),
                        batch.size(), correlations);
            }
            continueOrRest(t, batch.size() == settings.batchSize());
        });
    }

    private void continueOrRest(int t, boolean moreLikely) {
        if (moreLikely || again) {
            again = false;
            vertx.runOnContext(ignored -> {
                if (t == term) {
                    drain(t);
                }
            });
        } else {
            draining = false;
        }
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
