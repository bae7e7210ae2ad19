package dev.orders.command.http;

import dev.orders.command.saga.SagaDeadLetters;
import dev.orders.command.saga.SagaDeadLetters.Redrive;
import dev.orders.service.http.ContractRequests;
import dev.orders.service.http.CorrelationIds;
import dev.orders.service.tracing.LogFields;
import dev.orders.service.http.ProblemException;
import dev.orders.service.http.Problems;
import dev.orders.service.http.RedriveRequest;
import dev.orders.service.security.Caller;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * The operators' view of the saga's dead letters, in the shape of the query side's
 * {@code /api/admin/dead-letters}: {@code GET} {@value #LIST} answers {@code {"items": [...], "next"}}
 * (oldest first, paged by {@code limit} and the opaque {@code after} cursor of {@code next}), each item as
 * {@link SagaDeadLetters.DeadLetter#json()}; {@code POST} {@value #REDRIVE} runs the record's reaction
 * again (on the stored bytes, or on a corrected envelope sent as {@code {"payload": {...}}}) and answers
 * {@code {"id", "eventId", "type", "streamId", "version", "redriven": true, "outcome"}}; a record that
 * fails again stays parked with one attempt more and answers 422 (503 when the failure may pass), one
 * re-driven before answers 409, an unknown id 404. Operators only: a customer's token answers 403.
 */
public final class SagaDeadLetterRoutes {

    private static final Logger LOG = LoggerFactory.getLogger(SagaDeadLetterRoutes.class);
    public static final String LIST = "/api/admin/saga/dead-letters";
    public static final String REDRIVE = "/api/admin/saga/dead-letters/:id/redrive";
    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 500;
    private static final int RETRY_AFTER_SECONDS = 1;

    private final SagaDeadLetters deadLetters;
    private final ContractRequests.Check listRequest;
    private final ContractRequests.Check redriveRequest;

    public SagaDeadLetterRoutes(SagaDeadLetters deadLetters, ContractRequests contract) {
        this.deadLetters = deadLetters;
        this.listRequest = contract.operation("listSagaDeadLetters");
        this.redriveRequest = contract.operation("redriveSagaDeadLetter");
    }

    public void mount(Router router) {
        router.get(LIST).handler(this::list).failureHandler(Problems.failureHandler());
        router.post(REDRIVE).handler(this::redrive).failureHandler(Problems.failureHandler());
    }

    private void list(RoutingContext ctx) {
        Caller.of(ctx).requireOperator("read the saga's dead letters");
        int limit = (int) number("limit", single(ctx, "limit"), DEFAULT_LIMIT, 1, MAX_LIMIT);
        long after = after(ctx);
        listRequest.check(ctx);
        deadLetters.list(after, limit).onSuccess(page -> {
            JsonArray items = new JsonArray();
            page.items().forEach(letter -> items.add(letter.json()));
            String next = page.more() ? cursor(page.items().getLast().id()) : null;
            ctx.json(new JsonObject().put("items", items).put("next", next));
        }).onFailure(ctx::fail);
    }

    private void redrive(RoutingContext ctx) {
        Caller.of(ctx).requireOperator("re-drive the saga's dead letters");
        RedriveRequest request = RedriveRequest.read(ctx, redriveRequest);
        long id = request.id();
        LogFields.journey(LOG.atInfo(), CorrelationIds.of(ctx), null).log("re-driving saga dead letter {}", id);
        deadLetters.redrive(id, request.replacement()).onSuccess(result -> {
            switch (result) {
                case Redrive.NotFound none -> ctx.fail(ProblemException.notFound("no saga dead letter " + id));
                case Redrive.AlreadyRedriven done -> ctx.fail(ProblemException.conflict(
                        "saga dead letter " + id + " was already re-driven"));
                case Redrive.FailedAgain failed -> ctx.fail(failed.mayPass()
                        ? ProblemException.unavailable("saga dead letter " + id + " failed again (attempt "
                                + failed.attempts() + "), retry later: " + failed.error(), RETRY_AFTER_SECONDS)
                        : ProblemException.unprocessable("saga dead letter " + id + " failed again (attempt "
                                + failed.attempts() + "): " + failed.error()));
                case Redrive.Redriven redriven -> ctx.json(new JsonObject()
                        .put("id", id)
                        .put("eventId", redriven.envelope().eventId().toString())
                        .put("type", redriven.envelope().type())
                        .put("streamId", redriven.envelope().streamId().toString())
                        .put("version", redriven.envelope().version())
                        .put("redriven", true)
                        .put("outcome", redriven.refusal() == null ? "REACTED" : "REFUSED")
                        .put("refusal", redriven.refusal() == null ? null
                                : redriven.refusal().rejection() + ": " + redriven.refusal().getMessage()));
            }
        }).onFailure(ctx::fail);
    }

    /** The id after which the page starts: 0, or the one in the opaque cursor {@code after}. */
    private static long after(RoutingContext ctx) {
        String value = single(ctx, "after");
        if (value == null) {
            return 0;
        }
        try {
            return number("after", new String(Base64.getUrlDecoder().decode(value), StandardCharsets.UTF_8), 0, 0,
                    Long.MAX_VALUE);
        } catch (IllegalArgumentException | ProblemException e) {
            throw ProblemException.badRequest("'after' is not a cursor this API gave out");
        }
    }

    private static String cursor(long id) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(Long.toString(id).getBytes(StandardCharsets.UTF_8));
    }

    private static String single(RoutingContext ctx, String name) {
        List<String> values = ctx.queryParam(name);
        if (values.size() > 1) {
            throw ProblemException.badRequest("'" + name + "' is given more than once");
        }
        return values.isEmpty() ? null : values.getFirst();
    }

    private static long number(String name, String value, long fallback, long min, long max) {
        if (value == null) {
            return fallback;
        }
        try {
            long number = Long.parseLong(value);
            if (number >= min && number <= max) {
                return number;
            }
        } catch (NumberFormatException ignored) {
            // answered below
        }
        throw ProblemException.badRequest("'" + name + "' must be a whole number from " + min + " to " + max
                + ", was '" + value + "'");
    }
}
