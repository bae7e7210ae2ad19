package dev.orders.app;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP contract as a browser test's setup uses it: a blocking client straight to the system, not
 * through the page (and not through any proxy a test puts in front of the page). It signs in as a
 * user of the development mode does ({@code POST /api/dev/token}) and sends its token as a bearer
 * header: {@link #RestApi(int)} as an operator, {@link #asCustomer} as one customer.
 */
final class RestApi {

    record Response(int status, String body) {
        JsonObject json() {
            return new JsonObject(body);
        }

        JsonArray array() {
            return new JsonArray(body);
        }
    }

    private final String base;
    private final HttpClient http;
    private final String token;

    /** A client signed in as an operator, who creates customers and sees everything. */
    RestApi(int port) {
        this("http://localhost:" + port, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build(),
                new JsonObject().put("role", "operator"));
    }

    private RestApi(String base, HttpClient http, JsonObject signIn) {
        this.base = base;
        this.http = http;
        Response signedIn = send(HttpRequest.newBuilder(URI.create(base + "/api/dev/token"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(signIn.encode())), null);
        assertThat(signedIn.status()).as("POST /api/dev/token %s: %s", signIn, signedIn.body()).isEqualTo(200);
        this.token = signedIn.json().getString("token");
    }

    /** A client signed in as this customer: it sees and acts on this customer's own orders only. */
    RestApi asCustomer(String customerId) {
        return new RestApi(base, http, new JsonObject().put("customerId", customerId));
    }

    /** A client that sends this token instead (a bad one, for refusals). */
    RestApi withToken(String otherToken) {
        return new RestApi(base, http, otherToken);
    }

    private RestApi(String base, HttpClient http, String token) {
        this.base = base;
        this.http = http;
        this.token = token;
    }

    /** The signed token this client sends as {@code Authorization: Bearer}. */
    String token() {
        return token;
    }

    Response get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET(), token);
    }

    Response post(String path, String json) {
        return send(HttpRequest.newBuilder(URI.create(base + path))
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", UUID.randomUUID().toString())
                .POST(json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json)), token);
    }

    private Response send(HttpRequest.Builder request, String bearer) {
        if (bearer != null) {
            request.header("Authorization", "Bearer " + bearer);
        }
        try {
            HttpResponse<String> response = http.send(request.timeout(Duration.ofSeconds(15)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return new Response(response.statusCode(), response.body());
        } catch (IOException e) {
            throw new AssertionError("the system did not answer " + request.build().uri() + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * Pauses ({@code "pause"}) or resumes ({@code "resume"}) the saga's handling as an operator does
     * ({@code POST /api/admin/saga/pause|resume}), so that what it would decide waits meanwhile.
     */
    void saga(String action) {
        Response answer = post("/api/admin/saga/" + action, null);
        assertThat(answer.status()).as("POST /api/admin/saga/%s: %s", action, answer.body()).isEqualTo(200);
        assertThat(answer.json().getBoolean("paused")).isEqualTo(action.equals("pause"));
    }

    /** Creates a customer; returns its id once the read model knows it. */
    String createCustomer(String name, String limit, String currency) {
        Response created = post("/api/customers", new JsonObject().put("name", name)
                .put("creditLimit", money(limit, currency)).encode());
        assertThat(created.status()).as("POST /api/customers: %s", created.body()).isEqualTo(201);
        String id = created.json().getString("customerId");
        awaitOk("/api/customers/" + id, "customer " + id + " in the read model");
        return id;
    }

    /** Places an order; returns the 202 answer ({@code orderId}, {@code status}, {@code version}). */
    JsonObject placeOrder(String customerId, String amount, String currency) {
        Response placed = post("/api/orders", new JsonObject().put("customerId", customerId)
                .put("total", money(amount, currency)).encode());
        assertThat(placed.status()).as("POST /api/orders: %s", placed.body()).isEqualTo(202);
        return placed.json();
    }

    JsonObject cancelOrder(String orderId) {
        Response cancelled = post("/api/orders/" + orderId + "/cancel", null);
        assertThat(cancelled.status()).as("POST /api/orders/%s/cancel: %s", orderId, cancelled.body()).isEqualTo(202);
        return cancelled.json();
    }

    /** Reads the order until the query side shows it in this status. */
    JsonObject awaitOrder(String orderId, String status) {
        Instant deadline = Instant.now().plusSeconds(20);
        JsonObject last = null;
        while (Instant.now().isBefore(deadline)) {
            Response read = get("/api/orders/" + orderId);
            if (read.status() == 200) {
                last = read.json();
                if (status.equals(last.getString("status"))) {
                    return last;
                }
            }
            pause(100);
        }
        throw new AssertionError("order " + orderId + " did not become " + status + "; last read: " + last);
    }

    JsonObject customer(String customerId) {
        Response read = get("/api/customers/" + customerId);
        assertThat(read.status()).as(read.body()).isEqualTo(200);
        return read.json();
    }

    /** Waits until the customer's reserved credit is this amount in the read model. */
    JsonObject awaitReserved(String customerId, String amount) {
        Instant deadline = Instant.now().plusSeconds(20);
        JsonObject last = null;
        while (Instant.now().isBefore(deadline)) {
            last = customer(customerId);
            if (new BigDecimal(last.getJsonObject("creditReserved").getString("amount")).compareTo(new BigDecimal(amount)) == 0) {
                return last;
            }
            pause(100);
        }
        throw new AssertionError("customer " + customerId + " never had " + amount + " reserved; last read: " + last);
    }

    private void awaitOk(String path, String what) {
        Instant deadline = Instant.now().plusSeconds(20);
        Response last = null;
        while (Instant.now().isBefore(deadline)) {
            last = get(path);
            if (last.status() == 200) {
                return;
            }
            pause(100);
        }
        throw new AssertionError(what + " never appeared; last answer " + last);
    }

    static JsonObject money(String amount, String currency) {
        return new JsonObject().put("amount", amount).put("currency", currency);
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
