package dev.orders.command.messaging;

/** Points where a test can step into the relay. */
interface RelayHooks {

    RelayHooks NONE = new RelayHooks() {
    };

    /**
     * Called when Kafka acknowledged a batch, before its positions and the checkpoint are stored.
     *
     * @return true to halt right there, as a crash would: nothing stored, the lease dropped
     */
    default boolean haltBeforeCheckpoint(long firstPosition, long lastPosition) {
        return false;
    }
}
