package dev.orders.app.faults;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The fault suite's signals, as it sends them to a PostgreSQL server's processes: a backend may end between the
 * listing of the processes and the signal (this once failed a scenario's clean-up), which must not fail the
 * sending, while every process still there gets the signal.
 */
class SignalsTest {

    @Test
    void a_process_that_ended_before_its_signal_fails_nothing_and_the_others_get_it() throws Exception {
        Process ended = new ProcessBuilder("true").start();
        ended.waitFor();
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        try {
            List<String> pids = List.of(Long.toString(ended.pid()), Long.toString(sleeper.pid()));

            Signals.send("STOP", pids);
            assertThat(awaitState(sleeper, true)).as("the live process, stopped").isEqualTo('T');

            Signals.send("CONT", pids);
            assertThat(awaitState(sleeper, false)).as("the live process, continued").isNotEqualTo('T');
        } finally {
            sleeper.destroyForcibly().waitFor();
        }
    }

    @Test
    void any_other_refusal_fails() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        try {
            assertThatThrownBy(() -> Signals.send("NOSUCHSIGNAL", List.of(Long.toString(sleeper.pid()))))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("failed");
        } finally {
            sleeper.destroyForcibly().waitFor();
        }
    }

    /**
     * The process's state letter from {@code /proc/<pid>/stat} ({@code T}: stopped) once it is (or is not) stopped,
     * a signal taking effect when the process is next scheduled; the last state read after 5 s otherwise.
     */
    private static char awaitState(Process process, boolean stopped) throws Exception {
        Path stat = Path.of("/proc", Long.toString(process.pid()), "stat");
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (true) {
            String text = Files.readString(stat);
            char state = text.charAt(text.lastIndexOf(')') + 2);
            if ((state == 'T') == stopped || System.nanoTime() > deadline) {
                return state;
            }
            Thread.sleep(10);
        }
    }
}
