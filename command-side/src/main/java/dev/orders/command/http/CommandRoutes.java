package dev.orders.command.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.orders.command.domain.CustomerCommand.CreateCustomer;
import dev.orders.events.CustomerEvent.CustomerCreated;
import dev.orders.command.domain.DomainException;
import dev.orders.command.domain.OrderCommand.CancelOrder;
import dev.orders.command.domain.OrderCommand.CreateOrder;
import dev.orders.command.domain.OrderState;
import dev.orders.command.handling.AggregateType;
import dev.orders.command.handling.CommandHandler;
import dev.orders.command.handling.CommandHandler.InTransaction;
import dev.orders.command.handling.CommandHandler.Result;
import dev.orders.command.store.ConcurrencyConflictException;
import dev.orders.events.EventMetadata;
import dev.orders.events.Money;
import dev.orders.service.http.ContractRequests;
import dev.orders.service.http.CorrelationIds;
import dev.orders.service.http.JsonRequest;
import dev.orders.service.http.ProblemException;
import dev.orders.service.http.StrictUuid;
import dev.orders.service.security.Caller;
import dev.orders.service.tracing.LogFields;
import dev.orders.service.tracing.Tracing;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.sqlclient.Pool;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The REST command API of {@code API.md}: create customers, place and cancel orders. Every request
 * is validated before anything is decided; a rejected request appends nothing. The
 * {@code Idempotency-Key} header makes any command safe to retry.
 *
 * <p>Validation, in order: the body is read strictly ({@link JsonRequest#readObject}: JSON only, well-formed,
 * one object, no duplicate keys, bounded depth); then checked against the operation in the OpenAPI document
 * the service serves ({@link ContractRequests}: required and unknown fields, types, lengths, patterns); then
 * its values become the domain's ({@link Money#parse}: an amount above 0 and at most the maximum; a name
 * that is not blank in Unicode's sense), which no schema of the document expresses. An order id in the path
 * is read here ({@link StrictUuid}): anything that is not one answers 404, as an unknown id does.
 *
 * <p>Authorization, on the authenticated {@link Caller}: only an operator creates customers (403 to a
 * customer); a customer places orders for itself and cancels its own orders only, and another customer's
 * id answers the very 404 an unknown id answers, so that ids do not leak; an operator acts for everyone.
 */
public final class CommandRoutes {

    private static final Logger LOG = LoggerFactory.getLogger(CommandRoutes.class);

    /** The message of the SQL pool's failure when a connection was not had within its connection timeout. */

    /** A command's answer: status, optional Location, JSON body. */
    record Answer(int status, String location, JsonObject body) {
    }

    private final CommandHandler handler;
    private final Pool pool;
    private final IdempotencyKeys idempotencyKeys = new IdempotencyKeys();
    private final ContractRequests contract;
    private final ContractRequests.Check createCustomerRequest;
    private final ContractRequests.Check placeOrderRequest;
    private final ContractRequests.Check cancelOrderRequest;
    private final Supplier<UUID> ids;

    /** @param contract the requests of the served OpenAPI document ({@link OpenApiDocument}) */
    public CommandRoutes(CommandHandler handler, Pool pool, ContractRequests contract, Supplier<UUID> ids) {
        this.handler = handler;
        this.pool = pool;
        this.contract = contract;
        this.createCustomerRequest = contract.operation("createCustomer");
        this.placeOrderRequest = contract.operation("placeOrder");
        this.cancelOrderRequest = contract.operation("cancelOrder");
        this.ids = ids;
    }

    /**
     * Mounts the command routes and their OpenAPI document ({@link OpenApiDocument#PATH}); the router
     * must already have a body handler and the failure handler.
     */
    public void mount(Router router) {
        contract.document().mount(router);
        router.post("/api/customers").handler(ctx -> {
            Caller.of(ctx).requireOperator("create customers");
            respond(ctx, this::createCustomer);
        });
        router.post("/api/orders").handler(ctx -> respond(ctx, this::placeOrder));
        router.post("/api/orders/:id/cancel").handler(ctx -> respond(ctx, this::cancelOrder));
    }

    /** A command, given the request and the work its append transaction must also do. */
    private interface Command {
        Future<Answer> run(RoutingContext ctx, Function<Answer, InTransaction<Object>> inTransaction);
    }

    private Future<Answer> createCustomer(RoutingContext ctx, Function<Answer, InTransaction<Object>> also) {
        JsonRequest body = JsonRequest.readObject(ctx);
        createCustomerRequest.check(ctx);
        String name = body.json().get("name").asText();
        // the document's pattern \S sees ASCII white space only (java.util.regex): a name of Unicode spaces
        if (name.isBlank()) {
            throw ProblemException.badRequest("'name' must not be blank");
        }
        Money limit = money(body.json(), "creditLimit");
        UUID customerId = ids.get();
        Function<Result<?>, Answer> answer = result -> new Answer(201, "/api/customers/" + customerId,
                new JsonObject().put("customerId", customerId.toString()).put("version", result.version()));
        return run(AggregateType.CUSTOMER, customerId, true, new CreateCustomer(customerId, name, limit), ctx,
                anyone -> true, answer, also, (tx, result) -> Future.succeededFuture());
    }

    private Future<Answer> placeOrder(RoutingContext ctx, Function<Answer, InTransaction<Object>> also) {
        Caller caller = Caller.of(ctx);
        JsonRequest body = JsonRequest.readObject(ctx);
        placeOrderRequest.check(ctx);
        return placeOrder(ctx, body, caller, also);
    }

    private Future<Answer> placeOrder(RoutingContext ctx, JsonRequest body, Caller caller,
                                      Function<Answer, InTransaction<Object>> also) {
        String id = body.json().get("customerId").asText();
        UUID customerId = StrictUuid.parse(id).orElseThrow(() -> ProblemException.badRequest("'customerId' must be a UUID"));
        Money total = money(body.json(), "total");
        // Only the customer's creation matters here (it exists, and its currency); its credit is the saga's.
        return handler.creationEvent(customerId).compose(created -> {
            // another customer's id is refused on the same path, with the same words, as an unknown one
            if (!(created.orElse(null) instanceof CustomerCreated customer) || !caller.maySee(customerId)) {
                return Future.failedFuture(ProblemException.notFound("no customer " + customerId));
            }
            Money limit = customer.creditLimit();
            if (!limit.sameCurrencyAs(total)) {
                return Future.failedFuture(ProblemException.unprocessable("the order's currency " + total.currency()
                        + " differs from the customer's " + limit.currency()).withType("currency-mismatch"));
            }
            UUID orderId = ids.get();
            Function<Result<?>, Answer> answer = result -> new Answer(202, "/api/orders/" + orderId, new JsonObject()
                    .put("orderId", orderId.toString()).put("status", "PENDING").put("version", result.version()));
            return run(AggregateType.ORDER, orderId, true, new CreateOrder(orderId, customerId, total), ctx,
                    anyone -> true, answer, also, InTransaction.nothing());
        });
    }

    private Future<Answer> cancelOrder(RoutingContext ctx, Function<Answer, InTransaction<Object>> also) {
        Caller caller = Caller.of(ctx);
        UUID orderId = pathId(ctx);
        if (ctx.body().buffer() != null && ctx.body().buffer().length() > 0) {
            JsonRequest.readObject(ctx);
        }
        cancelOrderRequest.check(ctx);
        return cancelOrder(ctx, caller, orderId, also);
    }

    private Future<Answer> cancelOrder(RoutingContext ctx, Caller caller, UUID orderId,
                                       Function<Answer, InTransaction<Object>> also) {
        Function<Result<?>, Answer> answer = result -> new Answer(202, null,
                new JsonObject().put("orderId", orderId.toString()).put("version", result.version()));
        // An unknown order is refused by the aggregate itself (NOT_FOUND), which answers 404. The owner is
        // known once the order is loaded: the handler asks the rule there, and hides another customer's
        // order behind that same refusal.
        Predicate<OrderState> mayAct = order -> caller.maySee(order.customerId());
        return run(AggregateType.ORDER, orderId, false, new CancelOrder(orderId), ctx, mayAct, answer, also,
                (tx, result) -> Future.succeededFuture());
    }

    /**
     * Runs a command on a stream, new or existing; on an existing one only if the caller {@code mayAct} on
     * its loaded state (else it is refused as an unknown one).
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private <C, S> Future<Answer> run(AggregateType<C, S, ?> type, UUID streamId, boolean newStream, C command,
                                      RoutingContext ctx, Predicate<? super S> mayAct,
                                      Function<Result<?>, Answer> answer, Function<Answer, InTransaction<Object>> also,
                                      InTransaction<Object> own) {
        // under the request's server span when tracing is on; else the caller's traceparent, if any, as it came
        EventMetadata metadata = new EventMetadata(CorrelationIds.of(ctx), null, ids.get().toString(),
                Tracing.of(ctx.vertx()).currentTraceparent(CorrelationIds.traceparentOf(ctx)));
        InTransaction<Object> both = own.with((tx, result) -> also.apply(answer.apply(result)).run(tx, result));
        Future<Result<?>> handled = newStream
                ? handler.create((AggregateType) type, streamId, command, metadata, both)
                : handler.handle((AggregateType) type, streamId, command, metadata, (Predicate) mayAct, both);
        return handled
                .map(result -> {
                    Result<?> done = (Result<?>) result;
                    if (LOG.isDebugEnabled()) {
                        LogFields.journey(LOG.atDebug(), metadata.correlationId(), metadata.traceparent())
                                .log("{} accepted: {} {} now at version {}", command.getClass().getSimpleName(),
                                        type.streamType().wireName(), streamId, done.version());
                    }
                    return answer.apply(done);
                });
    }

    /** Runs a command with idempotency, and writes its answer or its problem. */
    private void respond(RoutingContext ctx, Command command) {
        String key = ctx.request().getHeader("Idempotency-Key");
        Future<Answer> answer;
        try {
            if (key == null) {
                answer = command.run(ctx, result -> InTransaction.nothing());
            } else {
                answer = idempotent(ctx, key, command);
            }
        } catch (RuntimeException invalid) {
            answer = Future.failedFuture(invalid);
        }
        answer.onSuccess(done -> write(ctx, done)).onFailure(failure -> ctx.fail(toProblem(failure)));
    }

    private Future<Answer> idempotent(RoutingContext ctx, String key, Command command) {
        if (key.isBlank() || key.length() > 200) {
            throw ProblemException.badRequest("'Idempotency-Key' must be 1 to 200 characters");
        }
        // keys are the caller's own: another caller's same key is another key
        String subject = Caller.of(ctx).subject();
        String hash = IdempotencyKeys.hash(ctx.request().method().name(), ctx.request().path(), canonicalBody(ctx));
        return idempotencyKeys.find(pool, subject, key).compose(stored -> stored.isPresent()
                ? replay(stored.get(), hash)
                : command.run(ctx, fresh -> (tx, result) -> idempotencyKeys.store(tx, subject, key,
                        new IdempotencyKeys.StoredAnswer(hash, fresh.status(), fresh.location(), fresh.body())))
                // A concurrent request with the same key may have won meanwhile: its key insert then refused
                // ours, or its effect made ours fail (a second cancel finds the order CANCELLED). Either way
                // the answer is the one it stored, the same status and body as every retry gets.
                .recover(failure -> idempotencyKeys.find(pool, subject, key).compose(again -> again.isPresent()
                        ? replay(again.get(), hash) : Future.failedFuture(failure))));
    }

    private static Future<Answer> replay(IdempotencyKeys.StoredAnswer stored, String hash) {
        if (!stored.requestHash().equals(hash)) {
            return Future.failedFuture(ProblemException.unprocessable(
                    "this Idempotency-Key was used before with another request").withType("idempotency-key-reused"));
        }
        return Future.succeededFuture(new Answer(stored.status(), stored.location(), stored.body()));
    }

    private static byte[] canonicalBody(RoutingContext ctx) {
        var body = ctx.body().buffer();
        return body == null || body.length() == 0 ? new byte[0] : JsonRequest.canonical(body.getBytes());
    }

    private static void write(RoutingContext ctx, Answer answer) {
        var response = ctx.response().setStatusCode(answer.status()).putHeader("Content-Type", "application/json");
        if (answer.location() != null) {
            response.putHeader("Location", answer.location());
        }
        response.end(answer.body().encode());
    }

    private static Throwable toProblem(Throwable failure) {
        if (failure instanceof DomainException rejection) {
            return switch (rejection.rejection()) {
                // one 404 type for every unknown id, so that another customer's ids do not leak
                case NOT_FOUND -> ProblemException.notFound(rejection.getMessage());
                case ALREADY_EXISTS, INVALID_STATE -> ProblemException.conflict(rejection.getMessage())
                        .withType(rejection.code());
                case CURRENCY_MISMATCH -> ProblemException.unprocessable(rejection.getMessage())
                        .withType(rejection.code());
            };
        }
        if (failure instanceof ConcurrencyConflictException) {
            return ProblemException.conflict("the aggregate was changed concurrently too often; retry the request")
                    .withType("concurrent-modification");
        }
        return failure;
    }

    /** A money object the document has checked (both fields strings of their patterns): its range is the domain's. */
    private static Money money(JsonNode body, String field) {
        JsonNode money = body.get(field);
        try {
            return Money.parse(money.get("amount").asText(), money.get("currency").asText());
        } catch (IllegalArgumentException bad) {
            throw ProblemException.badRequest("'" + field + "': " + bad.getMessage());
        }
    }

    private static UUID pathId(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        return StrictUuid.parse(id).orElseThrow(() -> ProblemException.notFound("no order " + id));
    }
}
