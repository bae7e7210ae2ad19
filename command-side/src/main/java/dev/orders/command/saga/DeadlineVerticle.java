package dev.orders.command.saga;

import dev.orders.command.domain.DomainException;
import dev.orders.command.domain.OrderCommand.RejectOrder;
import dev.orders.command.domain.Rejection;
import dev.orders.command.handling.AggregateType;
import dev.orders.command.handling.CommandHandler;
import dev.orders.events.EventMetadata;
import dev.orders.events.RejectionReason;
import dev.orders.service.tracing.LogFields;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fires the saga's durable deadlines: every poll interval it claims the due rows of
 * {@code saga_deadlines} and rejects their orders with {@code CREDIT_CHECK_TIMEOUT}, deleting each row
 * in the transaction of its rejection. Only a PENDING order changes; a decided one is left as it is.
 * A claim is a lease ({@link Deadlines#claimDue}): instances polling together take disjoint rows, and a
 * row whose firing was cut short by a crash fires again when the lease ends. Since deadlines are rows,
 * they survive restarts. A late reservation for a rejected order is released by the saga.
 */
public final class DeadlineVerticle extends VerticleBase {

    private static final Logger LOG = LoggerFactory.getLogger(DeadlineVerticle.class);
    private static final int BATCH = 100;

    private final CommandHandler handler;
    private final Pool pool;
    private final Duration pollInterval;
    private final Duration lease;
    private final Deadlines deadlines = new Deadlines();
    private final AtomicLong pending = new AtomicLong(-1);
    private final AtomicLong fired = new AtomicLong();
    private long timer = -1;
    private boolean polling;

    /** Polls every second; a claimed deadline fires again after 30 s if its firing did not finish. */
    public DeadlineVerticle(CommandHandler handler, Pool pool) {
        this(handler, pool, Duration.ofSeconds(1), Duration.ofSeconds(30));
    }

    public DeadlineVerticle(CommandHandler handler, Pool pool, Duration pollInterval, Duration lease) {
        this.handler = handler;
        this.pool = pool;
        this.pollInterval = pollInterval;
        this.lease = lease;
    }

    @Override
    public Future<?> start() {
        timer = vertx.setPeriodic(pollInterval.toMillis(), id -> poll());
        return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(timer);
        return Future.succeededFuture();
    }

    /** Deadlines not yet deleted, as of the last poll: orders whose credit check went unanswered, waiting to time out. */
    public long deadlinesPending() {
        return pending.get();
    }

    /** Deadlines this instance claimed and fired (rejecting the order, or finding it decided already). */
    public long deadlinesFired() {
        return fired.get();
    }

    private void poll() {
        if (polling) {
            return;
        }
        polling = true;
        claimAndFire()
                .compose(ignored -> deadlines.countPending(pool))
                .onSuccess(pending::set)
                .onFailure(failure -> LOG.warn("deadline poll failed: {}", failure.toString()))
                .onComplete(ignored -> polling = false);
    }

    /** Fires due deadlines, batch after batch, until none is due. */
    private Future<Void> claimAndFire() {
        return deadlines.claimDue(pool, BATCH, lease).compose(due -> {
            List<Future<Void>> firings = due.stream().map(this::fire).toList();
            return Future.join(firings).transform(ignored -> due.size() == BATCH ? claimAndFire()
                    : Future.succeededFuture());
        });
    }

    private Future<Void> fire(Deadlines.Deadline due) {
        UUID commandId = UUID.nameUUIDFromBytes(("deadline:" + due.orderId()).getBytes(StandardCharsets.UTF_8));
        EventMetadata metadata = new EventMetadata(due.correlationId(), "saga_deadlines:" + due.orderId(),
                commandId.toString(), null);
        return handler.handle(AggregateType.ORDER, due.orderId(),
                        new RejectOrder(due.orderId(), RejectionReason.CREDIT_CHECK_TIMEOUT), metadata,
                        (tx, result) -> deadlines.delete(tx, due.orderId()))
                .onSuccess(result -> {
                    fired.incrementAndGet();
                    if (!result.appended().isEmpty()) {
                        LogFields.journey(LOG.atInfo(), due.correlationId(), null)
                                .log("order {} timed out waiting for its credit check: rejected", due.orderId());
                    }
                })
                .<Void>mapEmpty()
                .recover(failure -> {
                    if (failure instanceof DomainException refused && refused.rejection() == Rejection.NOT_FOUND) {
                        LogFields.journey(LOG.atWarn(), due.correlationId(), null)
                                .log("deadline of order {}, which does not exist: dropped", due.orderId());
                        return deadlines.delete(pool, due.orderId());
                    }
                    LogFields.journey(LOG.atWarn(), due.correlationId(), null).log(
                            "deadline of order {} failed, it fires again in {}: {}", due.orderId(), lease, failure.toString());
                    return Future.succeededFuture();
                });
    }
}
