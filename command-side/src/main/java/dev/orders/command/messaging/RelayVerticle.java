package dev.orders.command.messaging;

import dev.orders.command.messaging.RelayState.Active;
import dev.orders.command.messaging.RelayState.Standby;
import dev.orders.command.messaging.RelayState.Stopped;
import dev.orders.command.messaging.RelayState.TakingOver;
import dev.orders.command.store.AppendSignal;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.service.sql.PgPools;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgConnection;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;


/**
 * Publishes the event store to Kafka: gap-free global positions in a safe order, at least once, one
 * active relay per database (an advisory-lock lease, {@link RelayLease}). It is woken in-process by
 * {@link AppendSignal} after a local commit, and by {@code LISTEN} when another process appended (its
 * {@link AppendNotifier} sends the notification after the commit); a slow poll is only a safety net. It is the
 * signal's one listener in this process: while it stands by it hands each signal to its notifier; while active,
 * its pipeline takes the signal as heard when it sends its next read, so that commits meanwhile signal nothing
 * more.
 * Each term with the lease starts by reading the checkpoint ({@code relay_take_over}), then
 * runs a {@link RelayPipeline} through a producer of its own: when the lease is lost, that producer is
 * closed at once, so none of its sends lands after the next relay's. A stop lets the batches in flight
 * finish (bounded by {@code stopGrace}) before it drops the lease.
 */
public final class RelayVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(RelayVerticle.class);

    private final RelaySettings settings;
    private final String pgUri;
    private final String kafkaBootstrap;
    private final RelayBatches batches;
    private final LocalHandOff handOff;
    private RelayLease lease;
    private Pool observer;
    private HorizonWatch watch;
    private AppendNotifier notifier;
    private AppendSignal appendSignal;
    private volatile RelayState state = new Standby();
    private volatile RelayMetrics metrics = RelayMetrics.STARTING;

    public RelayVerticle(OrdersConfig config, String pgUri, String kafkaBootstrap) {
        this(config, pgUri, kafkaBootstrap, LocalHandOff.disabled());
    }

    /** A relay that hands every batch Kafka acknowledged to {@code handOff} (the saga of this process). */
    public RelayVerticle(OrdersConfig config, String pgUri, String kafkaBootstrap, LocalHandOff handOff) {
        this(RelaySettings.from(config), pgUri, kafkaBootstrap, new RelayBatches(), handOff);
    }

    RelayVerticle(RelaySettings settings, String pgUri, String kafkaBootstrap, RelayBatches batches) {
        this(settings, pgUri, kafkaBootstrap, batches, LocalHandOff.disabled());
    }

    private RelayVerticle(RelaySettings settings, String pgUri, String kafkaBootstrap, RelayBatches batches,
                          LocalHandOff handOff) {
        this.settings = settings;
        this.pgUri = pgUri;
        this.kafkaBootstrap = kafkaBootstrap;
        this.batches = batches;
        this.handOff = handOff;
    }

    @Override
    public Future<?> start() {
        observer = PgPools.create(vertx, pgUri, 1, 8, "relay-observer", settings.sessions());
        watch = new HorizonWatch(observer, settings.lagWarning());
        lease = new RelayLease(vertx, RelayLease.options(pgUri, settings.sessions()), this::leaseLost, this::wake);
        notifier = new AppendNotifier(PgPools.create(vertx, pgUri, 1, 8, "relay-notify", settings.sessions()),
                this::isActive);
        appendSignal = AppendSignal.of(vertx);
        vertx.eventBus().localConsumer(AppendSignal.ADDRESS, message -> signalled());
        appendSignal.heard(); // a signal sent before this relay listened reached nobody
        return EventPublisher.ensureTopics(vertx, kafkaBootstrap, settings).onSuccess(ignored -> {
            compete();
            vertx.setPeriodic(settings.pollInterval().toMillis(), id -> wake());
            vertx.setPeriodic(settings.observeInterval().toMillis(), id -> observe());
        });
    }

    /** Lets the batches in flight be acknowledged and recorded (for up to {@code stopGrace}), then lets go. */
    @Override
    public Future<?> stop() {
        RelayState was = state;
        enter(new Stopped());
        Future<Void> finished = was instanceof Active active ? active.pipeline().finish(settings.stopGrace())
                : Future.succeededFuture();
        return finished.eventually(() -> Future.join(lease.drop(), observer.close(), notifier.close()));
    }

    /** The gauges now; safe to call from any thread. */
    public RelayMetrics metrics() {
        return state instanceof Active active ? metrics.inFlight(active.pipeline().eventsInFlight()) : metrics;
    }

    /** A readiness check for {@code Health}: always up, with the relay's lag as its detail. */
    public Future<JsonObject> readiness() {
        return Future.succeededFuture(metrics().toJson());
    }

    boolean isActive() {
        return state instanceof Active && lease.held();
    }

    private void enter(RelayState next) {
        state = next;
        appendSignal.heard(); // a signal due to the state left will not be read by it
        metrics = metrics.withRole(next.role());
    }

    private void compete() {
        if (!(state instanceof Standby)) {
            return;
        }
        lease.tryAcquire().onComplete(granted -> {
            if (state instanceof Stopped) {
                lease.drop();
            } else if (granted.succeeded() && granted.result()) {
                takeOver(lease.connection());
            } else {
                if (granted.failed()) {
                    LOG.debug("relay lease not reachable: {}", granted.cause().toString());
                }
                vertx.setTimer(settings.leaseRetry().toMillis(), id -> compete());
            }
        });
    }

    /** Reads where to resume, starts this term's producer, then publishes. */
    private void takeOver(PgConnection connection) {
        enter(new TakingOver(connection));
        batches.takeOver(connection).compose(takeover -> EventPublisher.create(vertx, kafkaBootstrap, settings)
                .onSuccess(publisher -> {
                    if (state instanceof TakingOver t && t.lease() == connection) {
                        activate(connection, takeover, publisher);
                    } else {
                        publisher.abort();
                    }
                })).onFailure(failure -> {
                    LOG.warn("relay could not take over: {}", failure.toString());
                    if (state instanceof TakingOver t && t.lease() == connection) {
                        lease.drop();
                    }
                });
    }

    private void activate(PgConnection connection, RelayBatches.Takeover takeover, EventPublisher publisher) {
        long resume = takeover.resumePosition();
        LOG.info("relay holds the lease (backend {}), publishing after position {}", connection.processId(), resume);
        RelayPipeline pipeline = new RelayPipeline(vertx, settings, connection, publisher, takeover, batches, handOff,
                new PipelineListener());
        enter(new Active(connection, pipeline));
        metrics = metrics.published(0, resume);
        pipeline.wake();
    }

    /** The lease connection is gone: this term's sends no longer count and its producer is closed at once. */
    private void leaseLost() {
        if (state instanceof Stopped) {
            return;
        }
        if (state instanceof Active active) {
            active.pipeline().abandon();
            active.pipeline().publisher().abort();
        }
        LOG.warn("relay lost its lease; it stops publishing and competes again");
        enter(new Standby());
        vertx.setTimer(settings.leaseRetry().toMillis(), id -> compete());
    }

    /** Events were committed in this process: the active relay reads them, a standby one tells the active one. */
    private void signalled() {
        if (isActive()) {
            wake();
        } else {
            appendSignal.heard();
            notifier.signalled();
        }
    }

    private void wake() {
        if (state instanceof Active active) {
            active.pipeline().wake();
        }
    }

    private void observe() {
        watch.look(isActive())
                .onSuccess(lag -> metrics = metrics.lag(lag.unpublished(), lag.secondsBehind(), lag.lastPosition(),
                        lag.holder()))
                .onFailure(e -> LOG.debug("relay lag not measured: {}", e.toString()));
    }

    /** What the active term reports. */
    private final class PipelineListener implements RelayPipeline.Listener {

        @Override
        public void reading() {
            appendSignal.heard();
        }

        @Override
        public void recorded(int events, long checkpoint) {
            metrics = metrics.published(events, checkpoint);
        }

        @Override
        public void failed(String what, Throwable cause) {
            LOG.warn("relay failed {}: {}", what, cause.toString());
            metrics = metrics.failed(what + ": " + cause.getMessage());
        }

        @Override
        public void broken() {
            if (state instanceof Active) {
                lease.drop();
            }
        }
    }
}
