package dev.orders.command.saga;

import dev.orders.command.domain.CustomerCommand.ReleaseCredit;
import dev.orders.command.domain.CustomerCommand.ReserveCredit;
import dev.orders.command.domain.DomainException;
import dev.orders.command.domain.OrderCommand.ApproveOrder;
import dev.orders.command.domain.OrderCommand.RejectOrder;
import dev.orders.command.domain.Rejection;
import dev.orders.command.handling.AggregateType;
import dev.orders.command.handling.CommandHandler;
import dev.orders.command.handling.CommandHandler.InTransaction;
import dev.orders.events.CustomerEvent.CreditLimitExceeded;
import dev.orders.events.CustomerEvent.CreditReleased;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.CustomerEvent.CustomerCreated;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventMetadata;
import dev.orders.events.OrderEvent.OrderApproved;
import dev.orders.events.OrderEvent.OrderCancelled;
import dev.orders.events.OrderEvent.OrderCreated;
import dev.orders.events.OrderEvent.OrderRejected;
import dev.orders.events.RejectionReason;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * What the saga does about each event: the choreography between Order and Customer, as commands sent
 * through the same decide/append path as the HTTP commands. Every reaction is safe to repeat: the
 * aggregates ignore a reservation, release, approval or rejection that is already done.
 *
 * <ul>
 *   <li>OrderCreated: reserve the order's total on its customer.</li>
 *   <li>CreditReserved: approve the order; if it was cancelled or rejected meanwhile, release the credit.</li>
 *   <li>CreditLimitExceeded: reject the order ({@code CREDIT_LIMIT_EXCEEDED}).</li>
 *   <li>OrderCancelled, OrderRejected: release the order's credit (nothing when none is reserved).</li>
 * </ul>
 * The order's deadline row is deleted in the transaction of the command that decides its outcome, so
 * OrderApproved itself needs no reaction. Each command carries the event's correlation id, the event's
 * id as causation id, and a command id derived from both, the same on every redelivery.
 */
final class SagaReactions {

    private static final Logger LOG = LoggerFactory.getLogger(SagaReactions.class);

    private final CommandHandler handler;
    private final Deadlines deadlines;

    SagaReactions(CommandHandler handler, Deadlines deadlines) {
        this.handler = handler;
        this.deadlines = deadlines;
    }

    /**
     * Reacts to one event.
     *
     * @return a future completed when the resulting command's transaction committed (or nothing was to
     *         be done); failed with a {@link DomainException} that the saga skips, or any other failure
     *         that it retries
     */
    Future<Void> react(EventEnvelope envelope) {
        String correlation = envelope.metadata().correlationId();
        return switch (envelope.event()) {
            case OrderCreated created -> {
                LOG.debug("[{}] {} created: reserving {} on customer {}", correlation, created.orderId(),
                        created.total(), created.customerId());
                yield reserve(envelope, created);
            }
            case CreditReserved reserved -> {
                LOG.debug("[{}] credit reserved for {}: approving it", correlation, reserved.orderId());
                yield approveOrRelease(envelope, reserved);
            }
            case CreditLimitExceeded exceeded -> {
                LOG.debug("[{}] credit limit exceeded for {}: rejecting it", correlation, exceeded.orderId());
                yield handler.handle(AggregateType.ORDER, exceeded.orderId(),
                        new RejectOrder(exceeded.orderId(), RejectionReason.CREDIT_LIMIT_EXCEEDED),
                        metadata(envelope, "RejectOrder"), deleteDeadline(exceeded.orderId())).mapEmpty();
            }
            case OrderCancelled cancelled -> {
                LOG.debug("[{}] {} cancelled: releasing its credit", correlation, cancelled.orderId());
                yield release(envelope, cancelled.customerId(), cancelled.orderId());
            }
            case OrderRejected rejected -> {
                LOG.debug("[{}] {} rejected ({}): releasing any credit", correlation, rejected.orderId(),
                        rejected.reason());
                yield release(envelope, rejected.customerId(), rejected.orderId());
            }
            case OrderApproved approved -> Future.succeededFuture();
            case CustomerCreated created -> Future.succeededFuture();
            case CreditReleased released -> Future.succeededFuture();
        };
    }

    private Future<Void> reserve(EventEnvelope envelope, OrderCreated created) {
        return handler.handle(AggregateType.CUSTOMER, created.customerId(),
                        new ReserveCredit(created.customerId(), created.orderId(), created.total()),
                        metadata(envelope, "ReserveCredit"), InTransaction.nothing())
                .mapEmpty();
    }

    private Future<Void> approveOrRelease(EventEnvelope envelope, CreditReserved reserved) {
        return handler.handle(AggregateType.ORDER, reserved.orderId(), new ApproveOrder(reserved.orderId()),
                        metadata(envelope, "ApproveOrder"), deleteDeadline(reserved.orderId()))
                .<Void>mapEmpty()
                .recover(failure -> {
                    if (failure instanceof DomainException refused && refused.rejection() == Rejection.INVALID_STATE) {
                        LOG.debug("[{}] credit reserved for {}, which is no longer pending: releasing it",
                                envelope.metadata().correlationId(), reserved.orderId());
                        return release(envelope, reserved.customerId(), reserved.orderId());
                    }
                    return Future.failedFuture(failure);
                });
    }

    private Future<Void> release(EventEnvelope envelope, UUID customerId, UUID orderId) {
        return handler.handle(AggregateType.CUSTOMER, customerId, new ReleaseCredit(customerId, orderId),
                        metadata(envelope, "ReleaseCredit"), deleteDeadline(orderId))
                .onSuccess(result -> {
                    if (!result.appended().isEmpty()) {
                        LOG.info("[{}] released the credit of order {} ({} {})", envelope.metadata().correlationId(),
                                orderId, envelope.type(), envelope.eventId());
                    }
                })
                .mapEmpty();
    }

    private <S> InTransaction<S> deleteDeadline(UUID orderId) {
        return (tx, result) -> deadlines.delete(tx, orderId);
    }

    /** The metadata of a command the saga sends because of an event. */
    static EventMetadata metadata(EventEnvelope cause, String command) {
        UUID commandId = UUID.nameUUIDFromBytes(("saga:" + cause.eventId() + ":" + command)
                .getBytes(StandardCharsets.UTF_8));
        return new EventMetadata(cause.metadata().correlationId(), cause.eventId().toString(), commandId.toString(),
                cause.metadata().traceparent());
    }
}
