package dev.orders.command.domain;

import dev.orders.events.Money;
import dev.orders.events.RejectionReason;

import java.util.Objects;
import java.util.UUID;

/** What can be asked of an Order. Each command names the order it is for. */
public sealed interface OrderCommand {

    UUID orderId();

    /** The id of the order's event stream. */
    default UUID streamId() {
        return orderId();
    }

    /** Place an order for a customer and a total; the caller chooses the id. */
    record CreateOrder(UUID orderId, UUID customerId, Money total) implements OrderCommand {
        public CreateOrder {
            Objects.requireNonNull(orderId, "orderId");
            Objects.requireNonNull(customerId, "customerId");
            Objects.requireNonNull(total, "total");
        }
    }

    /** Approve an order whose credit was reserved. */
    record ApproveOrder(UUID orderId) implements OrderCommand {
        public ApproveOrder {
            Objects.requireNonNull(orderId, "orderId");
        }
    }

    /** Reject an order whose credit could not be reserved (limit exceeded, or the check timed out). */
    record RejectOrder(UUID orderId, RejectionReason reason) implements OrderCommand {
        public RejectOrder {
            Objects.requireNonNull(orderId, "orderId");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** Cancel an order at its customer's request. */
    record CancelOrder(UUID orderId) implements OrderCommand {
        public CancelOrder {
            Objects.requireNonNull(orderId, "orderId");
        }
    }
}
