package dev.orders.service.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.openapi.contract.OpenAPIContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Requests checked against a served OpenAPI document by vertx-openapi: two documents that differ in one
 * {@code maxLength} accept different requests, so what is checked is the document's; a document whose answers
 * are problem+json and server-sent events, with a relative server URL, loads (vertx-openapi 5.0 alone refuses
 * it); headers stay the routes' own; the check runs on the event loop, needing no worker thread.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("Requests checked against the served OpenAPI document")
class ContractRequestsTest {

    private static final String THINGS = "/openapi/things.json";
    private static final String STRICTER = "/openapi/things-stricter.json";

    private Vertx vertx;
    private ContractRequests things;
    private WebClient client;
    private int port;
    private int stricterPort;

    @BeforeAll
    void start() throws Exception {
        // one worker thread, which a test occupies to show that the check needs none
        vertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(1));
        things = await(ContractRequests.load(vertx, ContractDocument.openApi(THINGS, "/api/openapi/things.json")));
        ContractRequests stricter = await(ContractRequests.load(vertx,
                ContractDocument.openApi(STRICTER, "/api/openapi/things-stricter.json")));
        port = serve(things);
        stricterPort = serve(stricter);
        client = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port));
    }

    /**
     * A server whose route reads its body strictly, then checks the request against the document's
     * renameThing; at the document's own path, since path parameters are found by their place in it.
     */
    private int serve(ContractRequests contract) throws Exception {
        ContractRequests.Check check = contract.operation("renameThing");
        Router router = Router.router(vertx);
        router.route().handler(BodyHandler.create(false));
        router.route().failureHandler(Problems.failureHandler());
        router.post("/things/:id").handler(ctx -> {
            JsonRequest.readObject(ctx);
            check.check(ctx);
            ctx.response().setStatusCode(204).end();
        });
        return await(vertx.createHttpServer().requestHandler(router).listen(0)).actualPort();
    }

    @AfterAll
    void stop() throws Exception {
        if (vertx != null) {
            await(vertx.close());
        }
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private HttpResponse<Buffer> post(String uri, String body) throws Exception {
        return post(uri, body, null);
    }

    private HttpResponse<Buffer> post(String uri, String body, String idempotencyKey) throws Exception {
        return send(port, uri, body, idempotencyKey);
    }

    private HttpResponse<Buffer> send(int serverPort, String uri, String body, String idempotencyKey) throws Exception {
        var request = client.post(serverPort, "127.0.0.1", uri).putHeader("Content-Type", "application/json");
        if (idempotencyKey != null) {
            request.putHeader("Idempotency-Key", idempotencyKey);
        }
        return await(request.sendBuffer(Buffer.buffer(body)));
    }

    private static void assertBadRequest(HttpResponse<Buffer> answer, String detailNames) {
        assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(400);
        JsonObject problem = answer.bodyAsJsonObject();
        assertThat(problem.getString("type")).isEqualTo("https://orders.dev/problems/bad-request");
        assertThat(problem.getString("detail")).contains(detailNames);
    }

    @Test
    void a_change_of_the_document_changes_what_is_accepted() throws Exception {
        String adam = "{\"name\": \"Adam\"}";
        assertThat(post("/things/1", adam).statusCode()).as("maxLength 10").isEqualTo(204);
        HttpResponse<Buffer> refused = send(stricterPort, "/things/1", adam, null);
        assertBadRequest(refused, "'name'");
        assertThat(refused.bodyAsJsonObject().getString("detail")).contains("3");
    }

    @Test
    void the_body_parameters_and_query_are_checked_against_the_operation() throws Exception {
        assertThat(post("/things/7?mode=careful", "{\"name\": \"Eve\", \"note\": \"x\"}").statusCode()).isEqualTo(204);
        assertBadRequest(post("/things/7", "{\"note\": \"x\"}"), "name");
        assertBadRequest(post("/things/7", "{\"name\": 5}"), "'name'");
        assertBadRequest(post("/things/7", "{\"name\": \"Eve\", \"owner\": \"mallory\"}"), "owner");
        assertBadRequest(post("/things/0", "{\"name\": \"Eve\"}"), "id");
        assertBadRequest(post("/things/7?mode=reckless", "{\"name\": \"Eve\"}"), "mode");
    }

    @Test
    void a_string_parameter_is_checked_as_it_was_sent() throws Exception {
        // vertx-openapi 5.0.7 alone reads 12.5 as a number, which a string schema refuses
        assertThat(post("/things/7?weight=12.5", "{\"name\": \"Eve\"}").statusCode()).isEqualTo(204);
        assertBadRequest(post("/things/7?weight=1.25", "{\"name\": \"Eve\"}"), "weight");
        // nor is a JSON escape in it decoded: \u0031 is not the digit 1 here
        assertBadRequest(post("/things/7?weight=%5Cu0031", "{\"name\": \"Eve\"}"), "weight");
    }

    @Test
    void the_strict_read_comes_first_and_refuses_what_a_schema_cannot_see() throws Exception {
        // the validator's own parser would keep the last of the duplicate keys and accept the body
        assertBadRequest(post("/things/7", "{\"name\": \"Eve\", \"name\": \"Mallory-the-long\"}"), "Duplicate field");
    }

    @Test
    void headers_are_left_to_the_routes() throws Exception {
        // the document says 1 to 8 characters; the validator would also URL-decode the value and refuse '%zz'
        assertThat(post("/things/7", "{\"name\": \"Eve\"}", "%zz-and-far-too-long").statusCode()).isEqualTo(204);
    }

    @Test
    void loads_a_document_whose_answers_vertx_openapi_cannot_validate() throws Exception {
        // each load gets a fresh copy: vertx-openapi annotates the document it is given
        ContractDocument served = ContractDocument.openApi(THINGS, "/api/openapi/things.json");
        assertThatThrownBy(() -> await(OpenAPIContract.from(vertx, served.json())))
                .as("vertx-openapi alone refuses the served document").hasMessageContaining("URL is malformed");
        JsonObject withoutServers = served.json();
        withoutServers.remove("servers");
        assertThatThrownBy(() -> await(OpenAPIContract.from(vertx, withoutServers)))
                .as("and, without its server, its problem+json answers").hasMessageContaining("unsupported media type");
        OpenAPIContract view = await(OpenAPIContract.from(vertx, ContractRequests.requestView(served.json())));
        assertThat(view.operation("renameThing").getParameters()).extracting(p -> p.getName())
                .containsExactlyInAnyOrder("id", "mode", "weight");
        assertThat(view.operation("streamThings")).isNotNull();
    }

    @Test
    void the_check_runs_on_the_event_loop_and_needs_no_worker_thread() throws Exception {
        CountDownLatch occupied = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Future<Void> worker = vertx.executeBlocking(() -> {
            occupied.countDown();
            release.await();
            return null;
        }, false);
        assertThat(occupied.await(30, TimeUnit.SECONDS)).as("the only worker thread is busy").isTrue();
        try {
            // vertx-openapi's own RequestValidator.validate would wait here for the busy worker
            assertThat(post("/things/7?mode=careful", "{\"name\": \"Eve\"}").statusCode()).isEqualTo(204);
            assertBadRequest(post("/things/7", "{\"name\": 5}"), "'name'");
            assertBadRequest(post("/things/0", "{\"name\": \"Eve\"}"), "id");
            assertThat(worker.isComplete()).as("answered while the worker was still busy").isFalse();
        } finally {
            release.countDown();
        }
        await(worker);
    }

    @Test
    void an_operation_the_document_lacks_fails_when_the_route_is_built() {
        assertThatThrownBy(() -> things.operation("deleteThing")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("deleteThing");
    }
}
