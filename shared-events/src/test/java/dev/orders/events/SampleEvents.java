package dev.orders.events;

import dev.orders.events.CustomerEvent.CreditLimitExceeded;
import dev.orders.events.CustomerEvent.CreditReleased;
import dev.orders.events.CustomerEvent.CreditReserved;
import dev.orders.events.CustomerEvent.CustomerCreated;
import dev.orders.events.OrderEvent.OrderApproved;
import dev.orders.events.OrderEvent.OrderCancelled;
import dev.orders.events.OrderEvent.OrderCreated;
import dev.orders.events.OrderEvent.OrderRejected;

import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/** One example of every event type, with fixed ids, for the codec tests. */
final class SampleEvents {

    static final UUID CUSTOMER = UUID.fromString("00000000-0000-0000-0000-00000000c001");
    static final UUID ORDER = UUID.fromString("00000000-0000-0000-0000-00000000a001");
    static final Instant AT = Instant.parse("2025-03-01T12:34:56.789Z");

    private SampleEvents() {
    }

    static Money eur(String amount) {
        return Money.parse(amount, "EUR");
    }

    static List<DomainEvent> all() {
        return List.of(
                new CustomerCreated(CUSTOMER, "Ada Lovelace", eur("1000.00")),
                new CreditReserved(CUSTOMER, ORDER, eur("250.50")),
                new CreditLimitExceeded(CUSTOMER, ORDER, eur("999999999.99")),
                new CreditReleased(CUSTOMER, ORDER, eur("0.01")),
                new OrderCreated(ORDER, CUSTOMER, eur("250.50")),
                new OrderApproved(ORDER, CUSTOMER),
                new OrderRejected(ORDER, CUSTOMER, RejectionReason.CREDIT_LIMIT_EXCEEDED),
                new OrderRejected(ORDER, CUSTOMER, RejectionReason.CREDIT_CHECK_TIMEOUT),
                new OrderCancelled(ORDER, CUSTOMER));
    }

    static Stream<DomainEvent> stream() {
        return all().stream();
    }

    static EventEnvelope envelope(DomainEvent event) {
        return new EventEnvelope(UUID.fromString("00000000-0000-0000-0000-0000000e0001"), 3, 42, AT,
                EventTypes.currentSchemaVersion(event),
                new EventMetadata("corr-1", "cause-1", "cmd-1",
                        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
                event);
    }
}
