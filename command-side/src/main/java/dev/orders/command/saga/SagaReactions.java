package dev.orders.command.saga;

import dev.orders.command.domain.CustomerCommand;
import dev.orders.command.domain.CustomerCommand.ReleaseCredit;
import dev.orders.command.domain.CustomerCommand.ReserveCredit;
import dev.orders.command.domain.DomainException;
import dev.orders.command.domain.OrderCommand;
import dev.orders.command.domain.OrderCommand.ApproveOrder;
import dev.orders.command.domain.OrderCommand.RejectOrder;
import dev.orders.command.domain.OrderState;
import dev.orders.command.domain.Rejection;
import dev.orders.command.handling.AggregateType;
import dev.orders.command.handling.CommandHandler;
import dev.orders.command.handling.CommandHandler.Batched;
import dev.orders.command.handling.CommandHandler.BatchWork;
import dev.orders.command.handling.CommandHandler.Outcome;
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
import dev.orders.service.tracing.LogFields;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * What the saga does about each event: the choreography between Order and Customer, as commands sent
 * through the same decide/append path as the HTTP commands. Every reaction is safe to repeat: a
 * command's events have ids derived from the command's id, so one applied before is recognised by the
 * event store, and the aggregates ignore a reservation, release, approval or rejection already done.
 *
 * <ul>
 *   <li>OrderCreated: reserve the order's total on its customer.</li>
 *   <li>CreditReserved: approve the order; if it was cancelled or rejected meanwhile, release the credit.</li>
 *   <li>CreditLimitExceeded: reject the order ({@code CREDIT_LIMIT_EXCEEDED}).</li>
 *   <li>OrderCancelled, OrderRejected: release the order's credit (nothing when none is reserved).</li>
 * </ul>
 * The order's deadline row is deleted in the transaction of the customer's answer (the reservation or
 * its refusal for want of credit), so a backlog never times an order out; a question the customer
 * refuses to answer arms it ({@link Deadlines}). OrderApproved itself needs no reaction. Each command carries the event's correlation id, the event's
 * id as causation id, and a command id derived from both, the same on every redelivery.
 */
final class SagaReactions {

    private static final Logger LOG = LoggerFactory.getLogger(SagaReactions.class);

    private final CommandHandler handler;
    private final Deadlines deadlines;
    private final SqlClient client;
    private final Duration creditCheckTimeout;

    SagaReactions(CommandHandler handler, Deadlines deadlines, SqlClient client, Duration creditCheckTimeout) {
        this.handler = handler;
        this.deadlines = deadlines;
        this.client = client;
        this.creditCheckTimeout = creditCheckTimeout;
    }

    /**
     * Reacts to a batch of events (one partition's, in order): the commands they cause are handled per
     * aggregate kind as one batch each ({@link CommandHandler#handleBatch}), one customer's in the order of
     * its events. A credit reservation for an order that is no longer pending is released in a second batch.
     *
     * @return for each event, the domain's refusal of the command it caused (which the saga skips), or null
     *         when its reaction committed or nothing was to be done; failed with any failure that the saga
     *         retries (a retry is safe: commands applied before are recognised)
     */
    Future<List<DomainException>> reactAll(List<EventEnvelope> envelopes) {
        List<Batched<CustomerCommand>> toCustomers = new ArrayList<>();
        List<Integer> customerCauses = new ArrayList<>();
        List<Batched<OrderCommand>> toOrders = new ArrayList<>();
        List<Integer> orderCauses = new ArrayList<>();
        for (int i = 0; i < envelopes.size(); i++) {
            EventEnvelope envelope = envelopes.get(i);
            switch (envelope.event()) {
                case OrderCreated created -> {
                    journey(LOG.atDebug(), envelope).log("{} created: reserving {} on customer {}", created.orderId(),
                            created.total(), created.customerId());
                    // the customer's answer, in the same transaction, ends the wait for it
                    toCustomers.add(new Batched<>(created.customerId(), new ReserveCredit(created.customerId(),
                            created.orderId(), created.total()), metadata(envelope, "ReserveCredit")));
                    customerCauses.add(i);
                }
                case CreditReserved reserved -> {
                    journey(LOG.atDebug(), envelope).log("credit reserved for {}: approving it", reserved.orderId());
                    toOrders.add(new Batched<>(reserved.orderId(), new ApproveOrder(reserved.orderId()),
                            metadata(envelope, "ApproveOrder")));
                    orderCauses.add(i);
                }
                case CreditLimitExceeded exceeded -> {
                    journey(LOG.atDebug(), envelope).log("credit limit exceeded for {}: rejecting it", exceeded.orderId());
                    toOrders.add(new Batched<>(exceeded.orderId(), new RejectOrder(exceeded.orderId(),
                            RejectionReason.CREDIT_LIMIT_EXCEEDED), metadata(envelope, "RejectOrder")));
                    orderCauses.add(i);
                }
                case OrderCancelled cancelled -> {
                    journey(LOG.atDebug(), envelope).log("{} cancelled: releasing its credit", cancelled.orderId());
                    toCustomers.add(release(envelope, cancelled.customerId(), cancelled.orderId()));
                    customerCauses.add(i);
                }
                case OrderRejected rejected -> {
                    journey(LOG.atDebug(), envelope).log("{} rejected ({}): releasing any credit", rejected.orderId(),
                            rejected.reason());
                    toCustomers.add(release(envelope, rejected.customerId(), rejected.orderId()));
                    customerCauses.add(i);
                }
                case OrderApproved approved -> { }
                case CustomerCreated created -> { }
                case CreditReleased released -> { }
            }
        }
        DomainException[] refusals = new DomainException[envelopes.size()];
        Future<Void> customers = handler.handleBatch(AggregateType.CUSTOMER, toCustomers, this::deleteCustomersDeadlines)
                .compose(outcomes -> armUnanswered(outcomes, customerCauses, envelopes))
                .map(outcomes -> noteOutcomes(outcomes, customerCauses, refusals, envelopes));
        // An order's deadline is gone by the time it is approved or rejected here: the customer's answer deleted it.
        Future<Void> orders = handler.handleBatch(AggregateType.ORDER, toOrders, BatchWork.nothing())
                .compose(outcomes -> releaseWhereNoLongerPending(outcomes, orderCauses, envelopes, refusals));
        return Future.all(customers, orders).map(done -> Arrays.asList(refusals));
    }

    /**
     * A credit check the customer refused to answer (it does not exist, another currency) starts the
     * order's deadline: from now on the order waits for an answer that may never come.
     */
    private <S> Future<List<Outcome<S>>> armUnanswered(List<Outcome<S>> outcomes, List<Integer> causes,
                                                       List<EventEnvelope> envelopes) {
        List<Deadlines.Deadline> unanswered = new ArrayList<>();
        for (int i = 0; i < outcomes.size(); i++) {
            EventEnvelope cause = envelopes.get(causes.get(i));
            if (outcomes.get(i) instanceof Outcome.Refused<S> && cause.event() instanceof OrderCreated created) {
                unanswered.add(new Deadlines.Deadline(created.orderId(), created.customerId(),
                        cause.metadata().correlationId()));
            }
        }
        return deadlines.arm(client, unanswered, creditCheckTimeout).map(outcomes);
    }

    /** Records refusals; logs each release that gave credit back. */
    private static <S> Void noteOutcomes(List<Outcome<S>> outcomes, List<Integer> causes, DomainException[] refusals,
                                   List<EventEnvelope> envelopes) {
        for (int i = 0; i < outcomes.size(); i++) {
            EventEnvelope cause = envelopes.get(causes.get(i));
            switch (outcomes.get(i)) {
                case Outcome.Refused<S> refused -> refusals[causes.get(i)] = refused.refusal();
                case Outcome.Applied<S> applied -> {
                    if (applied.result().appended().stream().anyMatch(e -> e.event() instanceof CreditReleased)) {
                        journey(LOG.atInfo(), cause).log("released the credit of order {} ({} {})",
                                ((CreditReleased) applied.result().appended().getFirst().event()).orderId(),
                                cause.type(), cause.eventId());
                    }
                }
                case Outcome.Duplicate<S> duplicate -> journey(LOG.atDebug(), cause).log("{} {} was reacted to before",
                        cause.type(), cause.eventId());
            }
        }
        return null;
    }

    /**
     * Credit reserved for an order that was cancelled or rejected meanwhile (its approval is refused as
     * INVALID_STATE) goes back to the customer.
     */
    private Future<Void> releaseWhereNoLongerPending(List<Outcome<OrderState>> outcomes, List<Integer> causes,
                                                     List<EventEnvelope> envelopes, DomainException[] refusals) {
        List<Batched<CustomerCommand>> releases = new ArrayList<>();
        List<Integer> releaseCauses = new ArrayList<>();
        List<Outcome<OrderState>> rest = new ArrayList<>(outcomes);
        for (int i = 0; i < outcomes.size(); i++) {
            EventEnvelope cause = envelopes.get(causes.get(i));
            if (outcomes.get(i) instanceof Outcome.Refused<OrderState> refused
                    && refused.refusal().rejection() == Rejection.INVALID_STATE
                    && cause.event() instanceof CreditReserved reserved) {
                journey(LOG.atDebug(), cause).log("credit reserved for {}, which is no longer pending: releasing it",
                        reserved.orderId());
                releases.add(release(cause, reserved.customerId(), reserved.orderId()));
                releaseCauses.add(causes.get(i));
                rest.set(i, new Outcome.Duplicate<>());
            }
        }
        noteOutcomes(rest, causes, refusals, envelopes);
        return handler.handleBatch(AggregateType.CUSTOMER, releases, this::deleteCustomersDeadlines)
                .map(done -> noteOutcomes(done, releaseCauses, refusals, envelopes));
    }

    private Batched<CustomerCommand> release(EventEnvelope envelope, UUID customerId, UUID orderId) {
        return new Batched<>(customerId, new ReleaseCredit(customerId, orderId), metadata(envelope, "ReleaseCredit"));
    }

    /** The orders whose credit the customer reserved, refused for want of credit, or released wait no more. */
    private Future<Void> deleteCustomersDeadlines(SqlConnection tx, List<CustomerCommand> applied) {
        List<UUID> orders = new ArrayList<>(applied.size());
        for (CustomerCommand command : applied) {
            switch (command) {
                case ReserveCredit reserve -> orders.add(reserve.orderId());
                case ReleaseCredit release -> orders.add(release.orderId());
                case CustomerCommand.CreateCustomer create -> { }
            }
        }
        return deadlines.delete(tx, orders);
    }

    /** A log line with the journey's fields of the event reacted to (see {@link LogFields}). */
    private static LoggingEventBuilder journey(LoggingEventBuilder line, EventEnvelope cause) {
        return LogFields.journey(line, cause.metadata().correlationId(), cause.metadata().traceparent());
    }

    /** The metadata of a command the saga sends because of an event. */
    static EventMetadata metadata(EventEnvelope cause, String command) {
        UUID commandId = UUID.nameUUIDFromBytes(("saga:" + cause.eventId() + ":" + command)
                .getBytes(StandardCharsets.UTF_8));
        return new EventMetadata(cause.metadata().correlationId(), cause.eventId().toString(), commandId.toString(),
                cause.metadata().traceparent());
    }
}
