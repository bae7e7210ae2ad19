package dev.orders.command.messaging;

import io.vertx.core.json.JsonObject;

/**
 * The relay's gauges at one moment.
 *
 * @param role           {@code active} (holds the lease and publishes), {@code standby} or {@code stopped}
 * @param unpublished    committed events not yet published (in the whole event store)
 * @param secondsBehind  age of the oldest unpublished event; 0 when none waits
 * @param publishedTotal events this relay published since it started (repeats included)
 * @param lastPosition   the checkpoint: the last global position stored as published
 * @param lastError      the latest failure, null after a success
 * @param inFlight       events sent to Kafka by this relay and not recorded yet
 * @param horizonHolder  the transaction that committed events wait behind, null when none waits
 */
public record RelayMetrics(String role, long unpublished, double secondsBehind, long publishedTotal,
                           long lastPosition, String lastError, int inFlight, HorizonHolder horizonHolder) {

    static final RelayMetrics STARTING = new RelayMetrics("standby", 0, 0, 0, 0, null, 0, null);

    /** How long the transaction that holds committed events back has been running; 0 when none does. */
    public double horizonHeldSeconds() {
        return horizonHolder == null ? 0 : horizonHolder.ageSeconds();
    }

    /** The readiness detail, as shown by {@code Health}. */
    public JsonObject toJson() {
        JsonObject json = new JsonObject().put("role", role).put("unpublished", unpublished)
                .put("secondsBehind", Math.round(secondsBehind * 10) / 10.0).put("publishedTotal", publishedTotal)
                .put("lastPosition", lastPosition).put("inFlight", inFlight);
        if (horizonHolder != null) {
            json.put("horizonHeldBy", horizonHolder.toJson());
        }
        return lastError == null ? json : json.put("lastError", lastError);
    }

    RelayMetrics withRole(String newRole) {
        return new RelayMetrics(newRole, unpublished, secondsBehind, publishedTotal, lastPosition, lastError, inFlight,
                horizonHolder);
    }

    RelayMetrics published(int count, long position) {
        return new RelayMetrics(role, unpublished, secondsBehind, publishedTotal + count, position, null, inFlight,
                horizonHolder);
    }

    RelayMetrics lag(long waiting, double behind, long position, HorizonHolder holder) {
        return new RelayMetrics(role, waiting, behind, publishedTotal, position, lastError, inFlight, holder);
    }

    RelayMetrics failed(String error) {
        return new RelayMetrics(role, unpublished, secondsBehind, publishedTotal, lastPosition, error, inFlight,
                horizonHolder);
    }

    RelayMetrics inFlight(int events) {
        return new RelayMetrics(role, unpublished, secondsBehind, publishedTotal, lastPosition, lastError, events,
                horizonHolder);
    }
}
