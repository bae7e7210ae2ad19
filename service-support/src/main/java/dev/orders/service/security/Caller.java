package dev.orders.service.security;

import dev.orders.service.http.ProblemException;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.util.UUID;

/**
 * Who sent a request, as its verified token says: a customer (its id is the token's {@code sub}) or
 * an operator. Every {@code /api} route but the token route runs with one; routes ask it before they
 * read or write anything.
 *
 * @param subject    the token's {@code sub}
 * @param customerId the customer the caller is, or null for an operator
 * @param operator   true for an operator, who sees and acts on everything
 * @param expiresAt  when the token expires: open streams are closed then
 * @param credential how the token came: a bearer header, or the session cookie (then commands need an allowed
 *                   {@code Origin})
 */
public record Caller(String subject, UUID customerId, boolean operator, Instant expiresAt, Credential credential) {

    /** Where the token was found. */
    public enum Credential { BEARER, COOKIE }

    static final String CONTEXT_KEY = "orders.caller";

    /** The caller of a request that passed authentication. */
    public static Caller of(RoutingContext ctx) {
        Caller caller = ctx.get(CONTEXT_KEY);
        if (caller == null) {
            throw new IllegalStateException("no authenticated caller: the route is not mounted behind ApiRouter");
        }
        return caller;
    }

    /** An operator: sees and acts on every customer. */
    public static Caller operator(String subject, Instant expiresAt) {
        return new Caller(subject, null, true, expiresAt, Credential.BEARER);
    }

    /** A customer: sees and acts on its own customer, orders and streams only. */
    public static Caller customer(UUID customerId, Instant expiresAt) {
        return new Caller(customerId.toString(), customerId, false, expiresAt, Credential.BEARER);
    }

    /** True when the caller may see or act on what belongs to this customer. */
    public boolean maySee(UUID owner) {
        return operator || owner != null && owner.equals(customerId);
    }

    /**
     * Refuses a customer's request for what belongs to another customer with the same 404 an unknown id
     * gets, so that ids do not leak.
     *
     * @param owner        the customer the resource belongs to
     * @param notFoundText the detail of the 404 an unknown id gets on this route
     */
    public void requireAccess(UUID owner, String notFoundText) {
        if (!maySee(owner)) {
            throw ProblemException.notFound(notFoundText);
        }
    }

    /** Refuses a customer on an operator route with 403. */
    public void requireOperator(String action) {
        if (!operator) {
            throw ProblemException.forbidden("only an operator may " + action);
        }
    }

    /** For logs: the caller without its token. */
    @Override
    public String toString() {
        return operator ? "operator " + subject : "customer " + customerId;
    }
}
