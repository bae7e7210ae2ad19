package dev.orders.command.domain;

import dev.orders.events.Money;

import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * What a Customer's events add up to. Before its {@code CustomerCreated} every field but the two
 * collections is null ({@link #NONE}). A plain record of values, so that it can be stored as a
 * snapshot in JSON with {@code EventJson.mapper()}.
 *
 * @param customerId   the customer's id; null before it exists
 * @param name         its name
 * @param creditLimit  the most credit it may have reserved at once; its currency is the customer's
 * @param reserved     the credit reserved now: the sum of {@code reservations}
 * @param reservations the credit reserved per order id
 * @param settled      the orders whose credit was refused or released: a repeated request for them
 *                     reserves nothing
 */
public record CustomerState(UUID customerId, String name, Money creditLimit, Money reserved,
                            Map<UUID, Money> reservations, Set<UUID> settled) {

    /** A customer that does not exist (yet). */
    public static final CustomerState NONE = new CustomerState(null, null, null, null, Map.of(), Set.of());

    public CustomerState {
        reservations = reservations == null ? Map.of() : Map.copyOf(reservations);
        settled = settled == null ? Set.of() : Set.copyOf(settled);
    }

    /** Whether the customer has been created. */
    public boolean exists() {
        return customerId != null;
    }

    /**
     * The credit that can still be reserved: the limit less what is reserved.
     *
     * @throws IllegalStateException when the customer does not exist
     */
    public Money available() {
        if (!exists()) {
            throw new IllegalStateException("a customer that does not exist has no credit");
        }
        return creditLimit.minus(reserved);
    }

    /** Whether credit is reserved for the order now. */
    public boolean hasReserved(UUID orderId) {
        return reservations.containsKey(orderId);
    }

    /** Whether the order's credit was reserved, refused or released at some time. */
    public boolean knowsOrder(UUID orderId) {
        return reservations.containsKey(orderId) || settled.contains(orderId);
    }
}
