package dev.orders.command.messaging;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.SqlConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One term of the active relay: reads, sends and records batches on the lease connection, through the
 * producer of this term. A batch is read, sent, acknowledged by Kafka (and at that moment handed to the saga of
 * this process by the publisher, {@link LocalHandOff}), and only then recorded (the checkpoint
 * advanced to its last event, in one statement; no event row is written), batches strictly in order; the next batch is read
 * (past the one in flight) and sent while the previous one is acknowledged, and while an acknowledged one is
 * recorded. A Kafka failure sends the same
 * batch, with the same positions, again until it goes through, through a new producer, and reads what followed
 * it again: the failure fenced the producer, so nothing sent after the failed batch reached Kafka before it
 * (see {@link EventPublisher}), and a stream's versions reach the topic in order under any order in which the
 * batches in flight are acknowledged or fail. While
 * committed events wait behind an older transaction, it looks again within milliseconds.
 *
 * <p>The term ends in one of three ways: {@link #abandon()} (the lease is gone: nothing it does counts any
 * more), {@link #finish} (the relay stops: no new batch, the ones in flight are finished and recorded, within
 * a grace), or on its own when recording fails ({@link Listener#broken()}).
 */
final class RelayPipeline {

    private static final Logger LOG = LoggerFactory.getLogger(RelayPipeline.class);
    /** Batches with Kafka at once: the next one is read and sent while the previous one is acknowledged. */
    private static final int MAX_IN_FLIGHT = 2;
    private static final long MIN_RECHECK_MILLIS = 2;
    private static final long MAX_RECHECK_MILLIS = 50;
    private static final long FIRST_BACKOFF_MILLIS = 100;

    /** What the relay hears from its term. */
    interface Listener {

        /** A read of the store is about to be sent: it sees every commit made until now. */
        void reading();

        /** A batch is recorded; {@code checkpoint} is its last position. */
        void recorded(int events, long checkpoint);

        void failed(String what, Throwable cause);

        /** Recording failed: the term cannot go on (fenced, or the lease connection is gone). */
        void broken();
    }

    /** A batch read and sent, until it is recorded. */
    private static final class Flight {

        enum State { SENDING, ACKED, FAILED, WAITING }

        final RelayBatches.Batch batch;
        State state = State.SENDING;
        long backoff = FIRST_BACKOFF_MILLIS;

        Flight(RelayBatches.Batch batch) {
            this.batch = batch;
        }
    }

    /** How far the term has come. */
    private enum Phase { RUNNING, DRAINING, OVER }

    private final Vertx vertx;
    private final RelaySettings settings;
    private final SqlConnection lease;
    private final EventPublisher publisher;
    private final RelayBatches batches;
    private final Listener listener;
    private final LocalHandOff handOff;
    /** Batches sent to Kafka and not recorded yet, oldest first; recorded strictly in this order. */
    private final ArrayDeque<Flight> flights = new ArrayDeque<>();
    private final Promise<Void> drained = Promise.promise();
    private Phase phase = Phase.RUNNING;
    /** The last position given to a batch read in this term, and where that read stopped. */
    private long readPosition;
    private RelayBatches.Cursor cursor;
    /**
     * A read, a record runs on the lease connection: at most one of each, pipelined (a record does not hold the
     * next read back; neither depends on the other's outcome).
     */
    private boolean reading;
    private boolean recording;
    /** A read is due: woken, a full batch read, or a re-check of rows behind the horizon. */
    private boolean wanted;
    private boolean recheckScheduled;
    private long recheckDelay = MIN_RECHECK_MILLIS;
    private volatile int eventsInFlight;

    RelayPipeline(Vertx vertx, RelaySettings settings, SqlConnection lease, EventPublisher publisher,
                  RelayBatches.Takeover checkpoint, RelayBatches batches, LocalHandOff handOff, Listener listener) {
        this.vertx = vertx;
        this.settings = settings;
        this.lease = lease;
        this.publisher = publisher;
        this.batches = batches;
        this.listener = listener;
        this.handOff = handOff;
        this.readPosition = checkpoint.resumePosition();
        this.cursor = checkpoint.resumeCursor();
    }

    EventPublisher publisher() {
        return publisher;
    }

    /** Events sent to Kafka and not recorded yet; safe to read from any thread. */
    int eventsInFlight() {
        return eventsInFlight;
    }

    /** Events may be waiting: read soon. */
    void wake() {
        if (phase == Phase.RUNNING) {
            wanted = true;
            step();
        }
    }

    /** The lease is gone: stop at once; whatever is still under way no longer counts. */
    void abandon() {
        over();
    }

    /**
     * Reads nothing more, finishes the batches already sent (each recorded once Kafka acknowledged it) and
     * completes when none is left, or when the rest cannot go through (a batch Kafka refused is not sent
     * again); the caller bounds the wait.
     */
    private Future<Void> drain() {
        if (phase == Phase.RUNNING) {
            phase = Phase.DRAINING;
            step();
        }
        return drained.future();
    }

    /**
     * Drains (for up to {@code grace}; past it the batches left are abandoned, and the next relay sends them
     * again) and closes the producer.
     */
    Future<Void> finish(Duration grace) {
        return drain().timeout(grace.toMillis(), TimeUnit.MILLISECONDS)
                .recover(late -> {
                    LOG.warn("relay stops with batches still in flight after {}; the next relay sends them again", grace);
                    abandon();
                    return Future.succeededFuture();
                })
                .compose(done -> publisher.close());
    }

    /**
     * Decides what to do next. The lease connection takes the record of the oldest acknowledged batch and the
     * read of the next one at once (pipelined: the read reads past the last batch read, whatever the checkpoint),
     * while up to {@link #MAX_IN_FLIGHT} batches are with Kafka. A failed batch is sent again, with the same
     * positions, once no send and no read is in flight; the batches read after it are dropped and read again.
     */
    private void step() {
        if (phase == Phase.OVER) {
            return;
        }
        Flight head = flights.peekFirst();
        if (head != null && head.state == Flight.State.ACKED) {
            if (!recording) {
                record(head);
            }
        } else if (phase == Phase.DRAINING) {
            if (!reading && (head == null || head.state != Flight.State.SENDING)) {
                over(); // nothing left, or the oldest batch failed: nothing more can be recorded
            }
            return;
        } else if (head != null && head.state == Flight.State.FAILED) {
            if (!reading && flights.stream().noneMatch(f -> f.state == Flight.State.SENDING)) {
                retry(head);
            }
            return;
        }
        if (phase == Phase.RUNNING && wanted && !reading && flights.size() < MAX_IN_FLIGHT && !anyFailed()) {
            read();
        }
    }

    private void over() {
        phase = Phase.OVER;
        drained.tryComplete();
    }

    private boolean anyFailed() {
        return flights.stream().anyMatch(f -> f.state == Flight.State.FAILED || f.state == Flight.State.WAITING);
    }

    private void read() {
        reading = true;
        wanted = false;
        listener.reading();
        batches.next(lease, readPosition, cursor, settings.batchSize()).onComplete(read -> {
            reading = false;
            if (phase == Phase.OVER) {
                return;
            }
            if (read.failed()) {
                listener.failed("reading a batch", read.cause());
            } else if (anyFailed() || phase == Phase.DRAINING) {
                wanted = true; // read again after the failed batch went through
            } else {
                RelayBatches.Batch batch = read.result().batch();
                if (batch.size() > 0) {
                    cursor = batch.end();
                    readPosition = batch.last();
                    Flight flight = new Flight(batch);
                    flights.addLast(flight);
                    eventsInFlight += batch.size();
                    send(flight);
                }
                if (batch.size() == settings.batchSize()) {
                    wanted = true;
                } else if (read.result().blocked()) {
                    recheck(batch.size() > 0);
                } else {
                    recheckDelay = MIN_RECHECK_MILLIS;
                }
            }
            step();
        });
    }

    /** Committed events wait behind an older transaction: look again in a few milliseconds, backing off gently. */
    private void recheck(boolean progressed) {
        if (recheckScheduled) {
            return;
        }
        long delay = progressed ? MIN_RECHECK_MILLIS : recheckDelay;
        recheckDelay = Math.min(delay + (delay + 1) / 2, MAX_RECHECK_MILLIS);
        recheckScheduled = true;
        vertx.setTimer(delay, id -> {
            recheckScheduled = false;
            wake();
        });
    }

    private void send(Flight flight) {
        flight.state = Flight.State.SENDING;
        RelayBatches.Batch batch = flight.batch;
        publisher.publish(batch.events(), handOff).onComplete(sent -> {
            if (phase == Phase.OVER) {
                return;
            }
            if (sent.failed()) {
                listener.failed("publishing positions " + batch.first() + ".." + batch.last() + " (retry in "
                        + flight.backoff + " ms)", sent.cause());
                flight.state = Flight.State.FAILED;
            } else {
                flight.state = Flight.State.ACKED;
            }
            step();
        });
    }

    /**
     * Sends the failed oldest batch again after its backoff, through a new producer (the failure fenced the old
     * one, see {@link EventPublisher}); what was read after it is dropped, never recorded, and read again, so that
     * it goes to Kafka behind the oldest batch. A batch is recorded only once it and every batch before it were
     * acknowledged.
     */
    private void retry(Flight head) {
        while (flights.size() > 1) {
            eventsInFlight -= flights.removeLast().batch.size();
        }
        cursor = head.batch.end();
        readPosition = head.batch.last();
        wanted = true;
        head.state = Flight.State.WAITING;
        long backoff = head.backoff;
        head.backoff = Math.min(backoff * 2, settings.maxBackoff().toMillis());
        vertx.setTimer(backoff, id -> {
            if (phase == Phase.RUNNING) {
                publisher.renew().onComplete(renewed -> {
                    if (phase != Phase.RUNNING) {
                        return;
                    }
                    if (renewed.succeeded()) {
                        send(head);
                    } else {
                        listener.failed("making a new Kafka producer (retry in " + head.backoff + " ms)", renewed.cause());
                        head.state = Flight.State.FAILED;
                        step();
                    }
                });
            }
        });
    }

    private void record(Flight flight) {
        RelayBatches.Batch batch = flight.batch;
        recording = true;
        batches.store(lease, batch).onComplete(stored -> {
            recording = false;
            if (phase == Phase.OVER) {
                return;
            }
            if (stored.failed()) {
                listener.failed("storing positions " + batch.first() + ".." + batch.last(), stored.cause());
                over();
                listener.broken();
                return;
            }
            flights.removeFirst();
            eventsInFlight -= batch.size();
            listener.recorded(batch.size(), batch.last());
            if (LOG.isDebugEnabled()) {
                Set<String> correlations = new LinkedHashSet<>();
                for (Outgoing out : batch.events()) {
                    correlations.add(String.valueOf(out.correlationId()));
                }
                LOG.atDebug().addKeyValue("correlationIds", correlations)
                        .log("published positions {}..{} ({} events)", batch.first(), batch.last(), batch.size());
            }
            step();
        });
    }
}
