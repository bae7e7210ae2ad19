package dev.orders.command.messaging;

import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A producer interceptor of the tests' own, named in a relay's producer settings ({@code interceptor.classes}):
 * once {@link #arm() armed}, it holds the report of the first record Kafka refused in the producer's network
 * thread (interceptors hear of a record before its callback) until the test {@link #release() releases} it.
 * Meanwhile the relay reads and sends what follows, so that a younger batch is surely in flight behind the
 * refused one, whatever the timing of the broker's answer.
 */
public final class HeldRefusal implements ProducerInterceptor<Object, Object> {

    private static volatile CountDownLatch held = new CountDownLatch(0);
    private static volatile CountDownLatch released = new CountDownLatch(0);

    /** The next refusal is held. */
    static void arm() {
        held = new CountDownLatch(1);
        released = new CountDownLatch(1);
    }

    /** Waits until a refusal is held. */
    static void awaitHeld(Duration timeout) throws InterruptedException {
        if (!held.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("no record was refused within " + timeout);
        }
    }

    /** Lets the held refusal go on to the record's callback; no later one is held. */
    static void release() {
        released.countDown();
    }

    @Override
    public ProducerRecord<Object, Object> onSend(ProducerRecord<Object, Object> record) {
        return record;
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception) {
        if (exception != null && released.getCount() > 0) {
            held.countDown();
            try {
                released.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
    }
}
