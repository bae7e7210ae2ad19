package dev.orders.command.domain;

import dev.orders.events.Money;

import org.pcollections.HashTreePMap;
import org.pcollections.PMap;

import java.util.Map;
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
 * @param reservations the credit reserved per order id, for the orders that hold credit now (an
 *                     immutable, persistent map: see {@link #reservationsWith})
 *
 * <p>The state is bounded: it holds what decisions need, not the history. Orders whose credit was refused
 * or released are forgotten; a repeated request for one of them (the saga delivers at least once) is
 * recognised by the event store instead, by the deterministic id of the event it caused the first time.
 */
public record CustomerState(UUID customerId, String name, Money creditLimit, Money reserved,
                            Map<UUID, Money> reservations) {

    /** A customer that does not exist (yet). */
    public static final CustomerState NONE = new CustomerState(null, null, null, null, HashTreePMap.empty());

    public CustomerState {
        reservations = reservations == null ? HashTreePMap.empty()
                : reservations instanceof PMap<UUID, Money> persistent ? persistent : HashTreePMap.from(reservations);
    }

    /**
     * The reservations with one more (or one changed), sharing everything else with these: a Customer
     * with thousands of open reservations evolves in logarithmic time, not by copying them per event.
     */
    PMap<UUID, Money> reservationsWith(UUID orderId, Money amount) {
        return persistent().plus(orderId, amount);
    }

    /** The reservations without one, sharing everything else with these. */
    PMap<UUID, Money> reservationsWithout(UUID orderId) {
        return persistent().minus(orderId);
    }

    private PMap<UUID, Money> persistent() {
        return (PMap<UUID, Money>) reservations;
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
}
