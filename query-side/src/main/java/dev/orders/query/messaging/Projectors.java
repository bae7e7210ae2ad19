package dev.orders.query.messaging;

import dev.orders.events.Topics;
import dev.orders.query.store.ProjectionStore;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.admin.ListOffsetsResultInfo;
import io.vertx.kafka.admin.OffsetSpec;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * This process's projector verticles, as one thing to start and stop: at deployment, and around the
 * restore of a lost schema (no projector writes the recreated tables before the restore has refilled
 * them; each resumes where Kafka's committed offsets put it, and what the restore applied already is
 * recognised by its event id).
 */
public final class Projectors {

    private final Vertx vertx;
    private final ProjectionStore store;
    private final String bootstrap;
    private final String topicPrefix;
    private final String group;
    private final int count;
    private final int batchSize;
    private final List<String> deployments = new ArrayList<>();

    public Projectors(Vertx vertx, ProjectionStore store, String bootstrap, String topicPrefix, String group,
                      int count, int batchSize) {
        this.vertx = vertx;
        this.store = store;
        this.bootstrap = bootstrap;
        this.topicPrefix = topicPrefix;
        this.group = group;
        this.count = count;
        this.batchSize = batchSize;
    }

    /** Deploys the projectors one after the other; does nothing while they run. */
    public synchronized Future<Void> start() {
        if (!deployments.isEmpty()) {
            return Future.succeededFuture();
        }
        Future<Void> chain = Future.succeededFuture();
        for (int i = 0; i < count; i++) {
            chain = chain.compose(ignored -> vertx.deployVerticle(
                            new Projector(store, bootstrap, topicPrefix, group, batchSize), new DeploymentOptions())
                    .map(id -> {
                        synchronized (this) {
                            deployments.add(id);
                        }
                        return null;
                    }));
        }
        return chain;
    }

    /**
     * Undeploys every projector: each lets its batch under way end (committed or rolled back), applies nothing
     * more, commits what it applied to Kafka and leaves its group.
     */
    public synchronized Future<Void> stop() {
        List<Future<?>> undeployed = new ArrayList<>();
        deployments.forEach(id -> undeployed.add(vertx.undeploy(id)));
        deployments.clear();
        return Future.join(undeployed).mapEmpty();
    }

    /**
     * Where projectors without a database checkpoint would begin (the group's committed offset, else the
     * earliest record Kafka still holds), for every partition that does not begin at offset 0: records there
     * that the projectors would never read, because the group read them into a schema that is gone, or
     * because the topic's retention deleted them. Empty when Kafka gives the projectors every record.
     */
    public Future<Map<TopicPartition, Long>> unreadHistory(KafkaAdminClient admin) {
        // the topics as they are (a missing one, with kafka.topics.create=false, holds nothing)
        return admin.listTopics()
                .map(existing -> Topics.all(topicPrefix).stream().filter(existing::contains).toList())
                .compose(topics -> topics.isEmpty() ? Future.succeededFuture(Map.of()) : admin.describeTopics(topics))
                .compose(described -> {
                    Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
                    described.forEach((topic, description) -> description.getPartitions()
                            .forEach(p -> earliest.put(new TopicPartition(topic, p.getPartition()), OffsetSpec.EARLIEST)));
                    return earliest.isEmpty() ? Future.succeededFuture(Map.of()) : unreadHistory(admin, earliest);
                });
    }

    private Future<Map<TopicPartition, Long>> unreadHistory(KafkaAdminClient admin,
                                                            Map<TopicPartition, OffsetSpec> earliest) {
        return Future.all(admin.listOffsets(earliest), admin.listConsumerGroupOffsets(group)).map(both -> {
            Map<TopicPartition, ListOffsetsResultInfo> first = both.resultAt(0);
            Map<TopicPartition, OffsetAndMetadata> committed = both.resultAt(1);
            Map<TopicPartition, Long> skipped = new HashMap<>();
            first.forEach((tp, info) -> {
                OffsetAndMetadata mark = committed.get(tp);
                long begins = mark != null ? Math.max(mark.getOffset(), info.getOffset()) : info.getOffset();
                if (begins > 0) {
                    skipped.put(tp, begins);
                }
            });
            return skipped;
        });
    }

    public int batchSize() {
        return batchSize;
    }
}
