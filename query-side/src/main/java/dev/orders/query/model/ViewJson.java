package dev.orders.query.model;

import dev.orders.events.Money;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** The JSON pieces that every view shares: money as {@code {"amount": "250.00", "currency": "EUR"}}. */
public final class ViewJson {

    private ViewJson() {
    }

    public static JsonObject money(Money money) {
        return money(money.amount(), money.currency());
    }

    public static JsonObject money(BigDecimal amount, String currency) {
        return new JsonObject()
                .put("amount", amount.setScale(2, RoundingMode.UNNECESSARY).toPlainString())
                .put("currency", currency);
    }
}
