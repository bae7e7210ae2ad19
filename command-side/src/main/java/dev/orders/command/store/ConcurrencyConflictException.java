package dev.orders.command.store;

import java.util.UUID;

/** An append named an expected version that is no longer the stream's: another writer came first. */
public class ConcurrencyConflictException extends RuntimeException {

    private final UUID streamId;
    private final long expectedVersion;

    public ConcurrencyConflictException(UUID streamId, long expectedVersion) {
        super("stream " + streamId + " is no longer at version " + expectedVersion, null, false, false);
        this.streamId = streamId;
        this.expectedVersion = expectedVersion;
    }

    public UUID streamId() {
        return streamId;
    }

    public long expectedVersion() {
        return expectedVersion;
    }
}
