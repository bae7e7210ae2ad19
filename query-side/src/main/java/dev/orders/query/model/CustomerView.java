package dev.orders.query.model;

import dev.orders.events.Money;
import io.vertx.core.json.JsonObject;

import java.util.Objects;
import java.util.UUID;

/** A customer's credit as the query side shows it. Reserved credit may be zero; available is the rest. */
public record CustomerView(UUID customerId, String name, Money creditLimit, Money creditReserved, long version) {

    public CustomerView {
        Objects.requireNonNull(customerId, "customerId");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(creditLimit, "creditLimit");
        Objects.requireNonNull(creditReserved, "creditReserved");
    }

    /**
     * Limit minus reserved. Reserved credit never exceeds the limit on the command side; should a
     * stream say otherwise, the amount shown is negative rather than hidden.
     */
    public java.math.BigDecimal availableAmount() {
        return creditLimit.amount().subtract(creditReserved.amount());
    }

    /** {@code GET /api/customers/{id}}: customerId, name, creditLimit, creditReserved, availableCredit, version. */
    public JsonObject toJson() {
        return new JsonObject()
                .put("customerId", customerId.toString())
                .put("name", name)
                .put("creditLimit", ViewJson.money(creditLimit))
                .put("creditReserved", ViewJson.money(creditReserved))
                .put("availableCredit", ViewJson.money(availableAmount(), creditLimit.currency()))
                .put("version", version);
    }
}
