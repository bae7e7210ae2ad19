package dev.orders.query.http;

import dev.orders.events.OrderStatus;
import dev.orders.query.model.OrderView;
import dev.orders.query.store.ReadStore;
import dev.orders.query.store.ReadStore.OrderKey;
import dev.orders.service.http.ContractRequests;
import dev.orders.service.http.Problems;
import dev.orders.service.http.StrictUuid;
import dev.orders.service.security.Caller;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;

/**
 * The operators' list of every customer's orders: {@code GET /api/orders?status=S}, newest first,
 * optionally of one status, paged with {@code limit} and the opaque {@code after} cursor exactly like a
 * customer's own list. Operators only: a customer gets 403, before the parameters are checked against the
 * served document ({@link ContractRequests}) and read ({@link Params}).
 */
public final class OperatorRoutes {

    public static final String ORDERS = "/api/orders";

    private final ReadStore reads;
    private final ReadGate gate;
    private final ContractRequests.Check request;

    public OperatorRoutes(ReadStore reads, ReadGate gate, ContractRequests contract) {
        this.reads = reads;
        this.gate = gate;
        this.request = contract.operation("listOrders");
    }

    public void mount(Router router) {
        router.get(ORDERS).handler(ctx -> {
            gate.check();
            orders(ctx);
        }).failureHandler(Problems.failureHandler());
    }

    private void orders(RoutingContext ctx) {
        Caller.of(ctx).requireOperator("list every customer's orders");
        request.check(ctx);
        page(ctx);
    }

    private void page(RoutingContext ctx) {
        OrderStatus status = Params.status(ctx);
        int limit = Params.limit(ctx);
        String[] cursor = Params.cursor(ctx, 2);
        OrderKey after = cursor == null ? null : QueryRoutes.parse(() -> new OrderKey(Instant.parse(cursor[0]),
                StrictUuid.parse(cursor[1]).orElseThrow(Params::badCursor)));
        reads.orders(status, limit, after)
                .onSuccess(page -> ctx.json(QueryRoutes.pageJson(page, OrderView::toJson, last -> Params.encodeCursor(
                        last.createdAt().toString(), last.orderId().toString()))))
                .onFailure(ctx::fail);
    }
}
