package dev.orders.bench;

import java.io.IOException;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The CPU time each part of the system spends while a run lasts, read from Linux's {@code /proc}: the service
 * (this JVM less the load generator's thread), the load generator (the one event-loop thread that sends the
 * orders and reads the streams, from the JVM's thread CPU time), the Kafka broker (the child processes of this
 * JVM that are not PostgreSQL's), PostgreSQL (its postmaster and every process it forked, those that ended
 * included) and the whole machine (every process; what the parts do not account for is other work on the
 * machine). Where {@code /proc} cannot be read, every figure is NaN. Beside them, the time this JVM's JIT
 * compilers spent compiling ({@link #jitSeconds()}), which tells whether a run measured compiled code.
 */
final class CpuUse {

    /** USER_HZ, the unit of {@code /proc}'s CPU times: 100 on Linux whatever the kernel's tick. */
    private static final double TICKS_PER_SECOND = 100;

    /**
     * CPU seconds used so far by each part, and the machine's idle seconds over all its cores; {@code jvm} is the
     * whole JVM, the load generator's thread included.
     */
    record Sample(long nanoTime, double jvm, double generator, double broker, double postgres, double machineIdle,
                  double jit) {
    }

    /**
     * One run's CPU per settled order, in milliseconds, and how busy the machine was meanwhile: {@code serviceMs}
     * is this JVM's less the load generator's ({@code generatorMs}); {@code jitMsPerSecond} the JIT's compiling
     * time per second of the run.
     */
    record PerOrder(double serviceMs, double generatorMs, double brokerMs, double postgresMs, double otherMs,
                    double machineBusyPercent, double jitMsPerSecond) {

        static PerOrder between(Sample from, Sample to, long orders) {
            double jvm = to.jvm - from.jvm;
            double generator = to.generator - from.generator;
            double own = jvm + (to.broker - from.broker) + (to.postgres - from.postgres);
            double wall = (to.nanoTime - from.nanoTime) / 1e9;
            int cores = Runtime.getRuntime().availableProcessors();
            double busy = Math.max(0, wall * cores - (to.machineIdle - from.machineIdle));
            double per = orders > 0 ? 1_000.0 / orders : Double.NaN;
            return new PerOrder((jvm - generator) * per, generator * per, (to.broker - from.broker) * per,
                    (to.postgres - from.postgres) * per, Math.max(0, busy - own) * per,
                    wall > 0 ? 100 * busy / (wall * cores) : Double.NaN,
                    wall > 0 ? 1_000 * (to.jit - from.jit) / wall : Double.NaN);
        }

        /** The system's own: the service, the broker and PostgreSQL, without the load generator. */
        double systemMs() {
            return serviceMs + brokerMs + postgresMs;
        }
    }

    private final long postmaster;
    private final long generatorThread;

    /**
     * @param postgresBackend the process id of any PostgreSQL backend ({@code pg_backend_pid()}): its parent is the postmaster
     * @param generatorThread the id of the load generator's thread in this JVM
     */
    CpuUse(long postgresBackend, long generatorThread) {
        this.postmaster = field(postgresBackend, 1);
        this.generatorThread = generatorThread;
    }

    /** The parts of {@code system}, with the load generator's thread being {@code http}'s event loop. */
    static CpuUse of(SystemUnderTest system, Http http) throws Exception {
        return new CpuUse(system.scalar("SELECT pg_backend_pid()"), http.threadId());
    }

    Sample sample() {
        long now = System.nanoTime();
        try {
            Set<Long> postgres = new HashSet<>();
            double postgresTicks = ticks(postmaster, true);
            postgres.add(postmaster);
            try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
                for (Path process : (Iterable<Path>) processes::iterator) {
                    String name = process.getFileName().toString();
                    if (name.chars().allMatch(Character::isDigit)) {
                        long pid = Long.parseLong(name);
                        if (pid != postmaster && field(pid, 1) == postmaster) {
                            postgres.add(pid);
                            postgresTicks += ticks(pid, false);
                        }
                    }
                }
            }
            double brokerTicks = ProcessHandle.current().descendants().filter(p -> !postgres.contains(p.pid()))
                    .mapToDouble(p -> ticks(p.pid(), false)).sum();
            long generatorNanos = ManagementFactory.getThreadMXBean().getThreadCpuTime(generatorThread);
            return new Sample(now, ticks(ProcessHandle.current().pid(), false) / TICKS_PER_SECOND,
                    generatorNanos < 0 ? Double.NaN : generatorNanos / 1e9, brokerTicks / TICKS_PER_SECOND,
                    postgresTicks / TICKS_PER_SECOND, machineIdleTicks() / TICKS_PER_SECOND, jitSeconds());
        } catch (IOException | RuntimeException unreadable) {
            return new Sample(now, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, jitSeconds());
        }
    }

    /**
     * Seconds this JVM's JIT compilers have spent compiling so far ({@code CompilationMXBean}: the compile tasks'
     * elapsed time, so a compiler thread waiting for a core counts too); NaN where the JVM does not tell.
     */
    static double jitSeconds() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() / 1e3 : Double.NaN;
    }

    /** user + system ticks of a process, with those of its ended children when asked; 0 once it is gone. */
    private static double ticks(long pid, boolean withEndedChildren) {
        String[] fields = stat(pid);
        if (fields == null) {
            return 0;
        }
        // after the command's closing parenthesis: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
        double own = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        return withEndedChildren ? own + Long.parseLong(fields[13]) + Long.parseLong(fields[14]) : own;
    }

    private static long field(long pid, int index) {
        String[] fields = stat(pid);
        return fields == null ? -1 : Long.parseLong(fields[index]);
    }

    private static String[] stat(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        } catch (IOException gone) {
            return null;
        }
    }

    /**
     * Every core's idle ticks: idle, iowait and steal of the first line of {@code /proc/stat}. The machine's busy time
     * is the wall time of all cores less these, not the sum of the busy fields: on some virtual machines those lose
     * ticks under a light, bursty load (seen here: 2.4 s counted for 2.8 s of a process's own CPU at a 35% duty
     * cycle), while the idle time is kept exactly.
     */
    private static double machineIdleTicks() throws IOException {
        String[] cpu = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim().split("\\s+");
        return Long.parseLong(cpu[4]) + Long.parseLong(cpu[5]) + (cpu.length > 8 ? Long.parseLong(cpu[8]) : 0);
    }
}
