package dev.orders.app.faults;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** {@code GET /health/ready} asked every 200 ms through a scenario: when it said what. */
final class ReadinessLog {

    /** One answer: its time ({@link System#nanoTime()}) and status, 0 when nothing answered. */
    record Probe(long nanos, int status) {
    }

    private final ServiceClient client;
    private final List<Probe> probes = new CopyOnWriteArrayList<>();
    private volatile boolean running;
    private Thread thread;

    ReadinessLog(ServiceClient client) {
        this.client = client;
    }

    void start() {
        running = true;
        thread = Thread.ofVirtual().name("readiness").start(() -> {
            while (running) {
                probes.add(new Probe(System.nanoTime(), client.readiness()));
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    void stop() throws InterruptedException {
        running = false;
        thread.join(10_000);
    }

    /**
     * Waits until readiness answers this status, at most {@code max} from {@code sinceNanos}.
     *
     * @return seconds from {@code sinceNanos} to the first such answer, -1 if none came
     */
    double await(int status, long sinceNanos, java.time.Duration max) throws InterruptedException {
        while (secondsUntil(status, sinceNanos) < 0 && System.nanoTime() - sinceNanos < max.toNanos()) {
            Thread.sleep(100);
        }
        return secondsUntil(status, sinceNanos);
    }

    /** Seconds from {@code sinceNanos} to the first answer with this status, or -1 if none came. */
    double secondsUntil(int status, long sinceNanos) {
        return probes.stream().filter(p -> p.nanos() >= sinceNanos && p.status() == status).findFirst()
                .map(p -> (p.nanos() - sinceNanos) / 1e9).orElse(-1.0);
    }
}
