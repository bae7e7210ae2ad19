package dev.orders.command.domain;

import dev.orders.events.Money;

import java.util.Objects;
import java.util.UUID;

/** What can be asked of a Customer. Each command names the customer it is for. */
public sealed interface CustomerCommand {

    UUID customerId();

    /** The id of the customer's event stream. */
    default UUID streamId() {
        return customerId();
    }

    /** Create a customer with a name and a credit limit; the caller chooses the id. */
    record CreateCustomer(UUID customerId, String name, Money creditLimit) implements CustomerCommand {
        public CreateCustomer {
            Objects.requireNonNull(customerId, "customerId");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(creditLimit, "creditLimit");
        }
    }

    /** Reserve credit for an order's total (the saga sends it when an order is created). */
    record ReserveCredit(UUID customerId, UUID orderId, Money amount) implements CustomerCommand {
        public ReserveCredit {
            Objects.requireNonNull(customerId, "customerId");
            Objects.requireNonNull(orderId, "orderId");
            Objects.requireNonNull(amount, "amount");
        }
    }

    /** Give back the credit reserved for an order, if any (its order was cancelled or rejected). */
    record ReleaseCredit(UUID customerId, UUID orderId) implements CustomerCommand {
        public ReleaseCredit {
            Objects.requireNonNull(customerId, "customerId");
            Objects.requireNonNull(orderId, "orderId");
        }
    }
}
