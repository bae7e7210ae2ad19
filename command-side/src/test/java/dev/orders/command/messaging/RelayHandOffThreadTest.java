package dev.orders.command.messaging;

import dev.orders.events.EventText;
import dev.orders.events.StreamType;
import dev.orders.events.Topics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static dev.orders.command.messaging.RelayFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * When the relay's records reach the saga of its process ({@link LocalHandOff}): as soon as Kafka acknowledged
 * them, straight from the producer's network thread, not after a turn of the relay's event loop, which may be
 * busy reading, recording or serving other verticles.
 */
@DisplayName("The relay's hand-off to the saga")
class RelayHandOffThreadTest extends RelayTestBase {

    @Test
    @DisplayName("arrives while the relay's event loop is still busy, with the offsets Kafka gave the records")
    void hands_over_without_the_relays_event_loop() throws Exception {
        try (RelayFixture f = fixture()) {
            RelaySettings settings = f.settings(100);
            await(EventPublisher.ensureTopics(vertx, f.config.kafkaBootstrap(), settings));
            EventPublisher publisher = await(EventPublisher.create(vertx, f.config.kafkaBootstrap(), settings));
            Context relay = eventLoopContext();
            Context saga = eventLoopContext();
            assertThat(threadOf(saga)).as("the two contexts run on two event loops").isNotEqualTo(threadOf(relay));

            LocalHandOff handOff = LocalHandOff.create();
            List<ConsumerRecord<String, byte[]>> received = new ArrayList<>();
            CountDownLatch handedOver = new CountDownLatch(1);
            handOff.attach(saga, records -> {
                received.addAll(records);
                handedOver.countDown();
            });
            UUID customer = UUID.randomUUID();
            List<Outgoing> batch = List.of(event(customer, 1, 1), event(customer, 2, 2), event(customer, 3, 3));

            // The relay's event loop sends the batch and then stays busy until the saga has it (or 20 s passed).
            Promise<Future<List<LocalHandOff.Acknowledged>>> sent = Promise.promise();
            Promise<Boolean> arrivedWhileBusy = Promise.promise();
            relay.runOnContext(ignored -> {
                sent.complete(publisher.publish(batch, handOff));
                try {
                    arrivedWhileBusy.complete(handedOver.await(20, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    arrivedWhileBusy.fail(e);
                }
            });

            assertThat(await(arrivedWhileBusy.future())).as("handed over while the relay's event loop was busy").isTrue();
            List<LocalHandOff.Acknowledged> acknowledged = await(await(sent.future()));
            assertThat(received).hasSize(3);
            for (int i = 0; i < 3; i++) {
                ConsumerRecord<String, byte[]> record = received.get(i);
                assertThat(record.topic()).isEqualTo(Topics.of(f.config.kafkaTopicPrefix(), StreamType.CUSTOMER));
                assertThat(record.offset()).isEqualTo(acknowledged.get(i).placed().getOffset());
                assertThat(record.key()).isEqualTo(customer.toString());
            }
            assertThat(received.get(1).offset()).isEqualTo(received.get(0).offset() + 1);
            assertThat(received.get(2).offset()).isEqualTo(received.get(1).offset() + 1);
            await(publisher.close());
        }
    }

    /** The context of a verticle deployed for it: each deployment is given the next event loop. */
    private Context eventLoopContext() {
        Promise<Context> made = Promise.promise();
        await(vertx.deployVerticle(new VerticleBase() {
            @Override
            public Future<?> start() {
                made.complete(context);
                return Future.succeededFuture();
            }
        }));
        return await(made.future());
    }

    private static String threadOf(Context context) {
        Promise<String> name = Promise.promise();
        context.runOnContext(ignored -> name.complete(Thread.currentThread().getName()));
        return await(name.future());
    }

    private static Outgoing event(UUID customer, int version, long position) {
        return new Outgoing(new EventText(UUID.randomUUID(), StreamType.CUSTOMER, customer, version, position,
                "CreditReleased", 1, Instant.now(), customer, "{}", "{}"), null, null);
    }
}
