package dev.orders.command.domain;

import java.util.List;

/**
 * An aggregate as two pure functions (the decider pattern): {@link #decide} turns a command and the
 * current state into the events that record what happened, {@link #evolve} applies one event to a
 * state. The state of an aggregate is its events folded from {@link #initialState()}.
 *
 * <p>Implementations do no I/O, read no clock and make no random ids: everything a decision needs
 * comes in with the command or the state, so the same input always gives the same events.
 *
 * @param <C> the commands the aggregate accepts
 * @param <S> its state, an immutable value
 * @param <E> its events
 */
public interface Decider<C, S, E> {

    /** The state of an aggregate that has no events yet. */
    S initialState();

    /**
     * Decides what a command does to an aggregate in a state.
     *
     * @return the new events, oldest first; empty when the command changes nothing (a repeat)
     * @throws DomainException when a business rule refuses the command; nothing is to be written then
     */
    List<E> decide(C command, S state);

    /** The state after one event. Never refuses: an event is a fact. */
    S evolve(S state, E event);

    /** The state after applying {@code events}, oldest first, to {@code state}. */
    default S fold(S state, List<? extends E> events) {
        S result = state;
        for (E event : events) {
            result = evolve(result, event);
        }
        return result;
    }
}
