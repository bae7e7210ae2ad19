package dev.orders.app.faults;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** POSIX signals that Java cannot send itself (SIGSTOP, SIGCONT, SIGKILL to a process not its child), by {@code kill}. */
final class Signals {

    /** How {@code kill} reports a process that is gone: {@code kill: (1234): No such process}. */
    private static final Pattern GONE = Pattern.compile("\\((\\d+)\\): No such process");

    private Signals() {
    }

    /**
     * Sends the signal to every process named. A process that ended before the signal reached it (a PostgreSQL
     * backend that closed between the listing of a server's processes and this) has nothing left to stop or
     * continue, and is no failure; any other refusal is.
     */
    static void send(String signal, List<String> pids) throws Exception {
        List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
        command.addAll(pids);
        Process kill = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS)) {
            kill.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not end within 10 s");
        }
        String output = new String(kill.getInputStream().readAllBytes());
        if (kill.exitValue() != 0 && !onlyEndedProcesses(output)) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
        }
    }

    /** Whether each line of {@code kill}'s complaints names a process that is gone indeed. */
    private static boolean onlyEndedProcesses(String output) {
        List<String> lines = output.lines().filter(line -> !line.isBlank()).toList();
        if (lines.isEmpty()) {
            return false;
        }
        for (String line : lines) {
            Matcher gone = GONE.matcher(line);
            if (!gone.find() || ProcessHandle.of(Long.parseLong(gone.group(1))).map(ProcessHandle::isAlive).orElse(false)) {
                return false;
            }
        }
        return true;
    }
}
