package dev.orders.testsupport;

import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/** Stopping a child process a test started and reading what it printed while it stopped. */
public final class ChildProcesses {

    private ChildProcesses() {
    }

    /**
     * SIGTERM, through the process's handle. {@link Process#destroy()} sends the same signal but also closes this
     * side's ends of the child's pipes, so every line the child prints while it stops is lost (and its writes fail).
     */
    public static void sigterm(Process process) {
        process.toHandle().destroy();
    }

    /**
     * Waits up to {@code within} for a line of {@code output} (filled by a reader of the child's output, which may
     * still be draining the pipe after the child ended) that matches; answers whether one came.
     */
    public static boolean awaitLine(List<String> output, Predicate<String> line, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (output.stream().noneMatch(line)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }
}
