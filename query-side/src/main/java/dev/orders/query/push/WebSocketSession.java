package dev.orders.query.push;

import dev.orders.service.http.ProblemException;
import dev.orders.service.security.Caller;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * One WebSocket on {@code /api/ws}. The client sends
 * {@code {"type":"subscribe","customerId"|"orderId":"<uuid>","lastEventId"?:"<position>"}}; the server
 * answers with {@code {"type":"order","id","order"}} messages (and {@code {"type":"reset"}}, and
 * {@code {"type":"position","id"}}, an id to resume with when there is no order to carry it) with the
 * same guarantees as the SSE streams, or {@code {"type":"error","status","detail"}} for a bad message,
 * after which the socket stays usable. One subscription per socket.
 * <p>
 * The caller is the handshake's (its bearer header or session cookie): every {@code subscribe} is
 * authorized against it, a resume included, and another customer's id gets the error an unknown id
 * gets. When the caller's token expires the socket is closed with code {@value #TOKEN_EXPIRED}.
 */
final class WebSocketSession {

    private static final Set<String> FIELDS = Set.of("type", "customerId", "orderId", "lastEventId");
    private static final int MAX_MESSAGE = 1_024;
    /** The close code of a socket whose caller's token expired: 4000 + HTTP 401. */
    static final short TOKEN_EXPIRED = 4401;

    private final SubscriptionProtocol protocol;
    private final ServerWebSocket socket;
    private final Caller caller;
    /** The socket's context, where every method of the session runs. */
    private final Context context;
    private boolean subscribing;
    private Subscription subscription;

    /**
     * @param closed told once the socket has closed, after the connection is released
     */
    WebSocketSession(SubscriptionProtocol protocol, Vertx vertx, ServerWebSocket socket, Caller caller,
                     Runnable releaseConnection, Consumer<WebSocketSession> closed) {
        this.protocol = protocol;
        this.socket = socket;
        this.caller = caller;
        this.context = vertx.getOrCreateContext();
        long expiry = vertx.setTimer(PushRequests.untilExpiry(caller), id -> expire());
        socket.closeHandler(ignored -> {
            vertx.cancelTimer(expiry);
            if (subscription != null) {
                subscription.closed();
            }
            releaseConnection.run();
            closed.accept(this);
        });
        socket.textMessageHandler(this::onText);
        socket.binaryMessageHandler(ignored -> error(400, "send JSON text messages"));
    }

    private void onText(String text) {
        if (!Instant.now().isBefore(caller.expiresAt())) {
            expire();
            return;
        }
        try {
            if (text.length() > MAX_MESSAGE) {
                throw ProblemException.badRequest("message longer than " + MAX_MESSAGE + " characters");
            }
            JsonObject message = parse(text);
            if (subscribing || subscription != null) {
                throw new ProblemException(409, "Conflict", "this socket is subscribed already; open another one");
            }
            Watch watch = watchOf(message);
            Long lastEventId = PushRequests.parseEventId(lastEventId(message.getValue("lastEventId")));
            subscribing = true;
            protocol.subscribe(caller, watch, lastEventId, opened -> subscription = opened, () -> new WebSocketSink(socket))
                    .onComplete(done -> {
                        subscribing = false;
                        if (done.failed()) {
                            subscription = null;
                            error(done.cause() instanceof ProblemException problem ? problem.status() : 500,
                                    done.cause() instanceof ProblemException problem ? problem.detail()
                                            : "the subscription failed; retry");
                        }
                    });
        } catch (ProblemException problem) {
            error(problem.status(), problem.detail());
        }
    }

    /**
     * This node is going away: the socket closes with {@value WebSocketSink#SERVICE_RESTART}, whether it has
     * subscribed, is subscribing or has not sent a message yet (its subscription, if any, ends with it).
     *
     * @return done once it is closed (or was)
     */
    Future<Void> moveOn() {
        Promise<Void> done = Promise.promise();
        context.runOnContext(ignored -> {
            WebSocketSink.closeForRestart(socket);
            done.complete();
        });
        return done.future();
    }

    /** The caller's token expired: the subscription ends and the socket closes with {@value #TOKEN_EXPIRED}. */
    private void expire() {
        if (socket.isClosed()) {
            return;
        }
        protocol.metrics().expired();
        if (subscription != null) {
            subscription.expire();
        }
        closeExpired(socket);
    }

    static void closeExpired(ServerWebSocket socket) {
        if (!socket.isClosed()) {
            socket.close(TOKEN_EXPIRED, "token expired: sign in again, then resubscribe with lastEventId");
        }
    }

    private static JsonObject parse(String text) {
        JsonObject message;
        try {
            message = new JsonObject(text);
        } catch (DecodeException | ClassCastException e) {
            throw ProblemException.badRequest("malformed JSON: a JSON object is expected");
        }
        for (String field : message.fieldNames()) {
            if (!FIELDS.contains(field)) {
                throw ProblemException.badRequest("unknown field '" + field + "'; allowed: " + FIELDS);
            }
        }
        if (!"subscribe".equals(message.getValue("type"))) {
            throw ProblemException.badRequest("'type' must be \"subscribe\"");
        }
        return message;
    }

    private static Watch watchOf(JsonObject message) {
        Object customerId = message.getValue("customerId");
        Object orderId = message.getValue("orderId");
        if ((customerId == null) == (orderId == null)) {
            throw ProblemException.badRequest("name exactly one of 'customerId' and 'orderId'");
        }
        Object id = customerId != null ? customerId : orderId;
        if (!(id instanceof String text)) {
            throw ProblemException.badRequest("the id must be a UUID string");
        }
        UUID uuid = PushRequests.uuid(text);
        return customerId != null ? new Watch.Customer(uuid) : new Watch.Order(uuid);
    }

    private static String lastEventId(Object value) {
        return switch (value) {
            case null -> null;
            case String text -> text;
            case Integer number -> number.toString();
            case Long number -> number.toString();
            default -> throw ProblemException.badRequest("'lastEventId' must be a position string");
        };
    }

    private void error(int status, String detail) {
        if (!socket.isClosed()) {
            socket.writeTextMessage(new JsonObject().put("type", "error").put("status", status)
                    .put("detail", detail).encode());
        }
    }
}
