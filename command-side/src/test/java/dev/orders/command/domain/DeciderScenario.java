package dev.orders.command.domain;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The domain tests' language: {@code given(past events).when(command).then(new events)}, or
 * {@code .thenRejects(rejection)}. The decider runs for real: the past is folded into a state, the
 * command is decided against it, and the new events must evolve that state without complaint.
 */
final class DeciderScenario<C, S, E> {

    private final Decider<C, S, E> decider;
    private final List<E> history;

    private DeciderScenario(Decider<C, S, E> decider, List<E> history) {
        this.decider = decider;
        this.history = history;
    }

    @SafeVarargs
    static <C, S, E> DeciderScenario<C, S, E> given(Decider<C, S, E> decider, E... history) {
        List<E> past = new ArrayList<>();
        for (E event : history) {
            past.add(event);
        }
        return new DeciderScenario<>(decider, List.copyOf(past));
    }

    /** The state the past events add up to. */
    S state() {
        return decider.fold(decider.initialState(), history);
    }

    When when(C command) {
        return new When(command);
    }

    /** A command decided against the given past. */
    final class When {

        private final C command;

        private When(C command) {
            this.command = command;
        }

        /** The command is accepted and records exactly these events; none when nothing changes. */
        @SafeVarargs
        final S then(E... expected) {
            S before = state();
            List<E> decided = decider.decide(command, before);
            List<E> wanted = new ArrayList<>();
            for (E event : expected) {
                wanted.add(event);
            }
            assertThat(decided).as("events of %s", command).containsExactlyElementsOf(wanted);
            return decider.fold(before, decided);
        }

        /** The command is accepted and changes nothing: a repeat. */
        void thenNothingHappens() {
            then();
        }

        /** The command is refused for this reason, with a message for the client. */
        void thenRejects(Rejection expected) {
            S before = state();
            DomainException refused = catchThrowableOfType(DomainException.class,
                    () -> decider.decide(command, before));
            assertThat(refused).as("%s should be refused with %s", command, expected).isNotNull();
            assertThat(refused.rejection()).isEqualTo(expected);
            assertThat(refused.getMessage()).isNotBlank();
        }
    }
}
