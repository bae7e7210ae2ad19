package dev.orders.command.messaging;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;

import java.util.concurrent.CompletableFuture;

/**
 * A relay's batches as a process that dies would see them: the batch starting at {@code crashAt} is
 * acknowledged by Kafka and then never recorded, and from then on nothing is recorded or taken over any
 * more (the process is gone), so neither its positions nor the checkpoint move past the batch before it.
 * {@code crashed} completes with the first and last position of the batch it died on.
 */
final class CrashingBatches extends RelayBatches {

    private final long crashAt;
    private final CompletableFuture<long[]> crashed;

    CrashingBatches(long crashAt, CompletableFuture<long[]> crashed) {
        this.crashAt = crashAt;
        this.crashed = crashed;
    }

    @Override
    Future<Takeover> takeOver(SqlConnection connection) {
        return crashed.isDone() ? dead() : super.takeOver(connection);
    }

    @Override
    Future<Void> store(SqlConnection connection, Batch batch) {
        if (batch.first() == crashAt) {
            crashed.complete(new long[] {batch.first(), batch.last()});
        }
        return crashed.isDone() ? dead() : super.store(connection, batch);
    }

    private static <T> Future<T> dead() {
        return Future.failedFuture(new IllegalStateException("the relay's process is gone (a test's crash)"));
    }
}
