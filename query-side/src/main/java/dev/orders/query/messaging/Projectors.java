package dev.orders.query.messaging;

import dev.orders.query.store.ProjectionStore;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;

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

    /** Undeploys every projector (each commits what it applied to Kafka and leaves its group). */
    public synchronized Future<Void> stop() {
        List<Future<?>> undeployed = new ArrayList<>();
        deployments.forEach(id -> undeployed.add(vertx.undeploy(id)));
        deployments.clear();
        return Future.join(undeployed).mapEmpty();
    }

    public int batchSize() {
        return batchSize;
    }
}
