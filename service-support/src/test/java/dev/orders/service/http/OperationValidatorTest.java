package dev.orders.service.http;

import dev.orders.service.security.SessionApi;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.json.schema.OutputUnit;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatableRequest;
import io.vertx.openapi.validation.ValidatorException;
import io.vertx.openapi.validation.impl.RequestParameterImpl;
import io.vertx.openapi.validation.impl.RequestValidatorImpl;
import io.vertx.openapi.validation.impl.ValidatableRequestImpl;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The checks of an operation with their schema validators built once answer every request exactly as
 * vertx-openapi's own request validator does when it builds them per request: the same outcome, the same
 * exception and message, the same schema errors, the same first mismatch. The requests are every combination
 * of good and bad parameters, bodies and content types of two documents; the same validators serve several
 * threads at once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("An operation's checks with validators built once")
class OperationValidatorTest {

    private static final List<String> ID = Arrays.asList("7", "1", "0", "-1", "1.5", "abc", "\"7\"", null);
    private static final List<String> MODE = Arrays.asList(null, "\"quick\"", "\"reckless\"", "quick", "\"\"", "[1]");
    private static final List<String> WEIGHT = Arrays.asList(null, "\"12.5\"", "\"1.25\"", "12.5", "\"\\\\u0031\"");
    private static final List<String> RENAME = Arrays.asList(null, "", "{\"name\": \"Eve\"}",
            "{\"name\": \"Eve\", \"note\": \"x\"}", "{\"note\": \"x\"}", "{\"name\": 5}", "{\"name\": \"\"}",
            "{\"name\": \"Mallory-the-long\"}", "{\"name\": \"Eve\", \"owner\": \"mallory\"}", "{", "[]", "\"Eve\"",
            "{\"name\": \"Eve\", \"note\": {\"deep\": [1, 2]}}");
    private static final List<String> DEV_TOKEN = Arrays.asList(null, "", "{}", "{\"role\": \"operator\"}",
            "{\"role\": \"customer\"}", "{\"customerId\": \"6f1c3a1e-8f5e-4f6b-9a57-2b1d2c3e4f50\"}",
            "{\"customerId\": \"not-a-uuid\"}", "{\"customerId\": 5}",
            "{\"customerId\": \"6f1c3a1e-8f5e-4f6b-9a57-2b1d2c3e4f50\", \"role\": \"operator\"}", "{\"other\": true}", "[");
    private static final List<String> CONTENT_TYPE = Arrays.asList("application/json",
            "application/json; charset=utf-8", "application/json;charset=utf-8", "application/ json\t", "APPLICATION/JSON",
            "text/plain", "application/vnd.orders+json", "application/jsonp", null);

    private Vertx vertx;
    private OpenAPIContract things;
    private OpenAPIContract session;

    @BeforeAll
    void load() throws Exception {
        vertx = Vertx.vertx();
        things = await(OpenAPIContract.from(vertx, ContractRequests.requestView(
                ContractDocument.openApi("/openapi/things.json", "/api/openapi/things.json").json())));
        session = await(OpenAPIContract.from(vertx, ContractRequests.requestView(SessionApi.document().json())));
    }

    @AfterAll
    void close() throws Exception {
        await(vertx.close());
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /** A request of parameter values (null: absent) and a body, as {@code ContractRequests} hands it over. */
    private static ValidatableRequest request(Map<String, String> path, Map<String, String> query, String body,
                                              String contentType) {
        return new ValidatableRequestImpl(Map.of(), Map.of(), parameters(path), parameters(query),
                body == null ? null : new RequestParameterImpl(Buffer.buffer(body)), contentType);
    }

    private static Map<String, RequestParameter> parameters(Map<String, String> values) {
        Map<String, RequestParameter> parameters = new HashMap<>();
        values.forEach((name, value) -> {
            if (value != null) {
                parameters.put(name, new RequestParameterImpl(value));
            }
        });
        return parameters;
    }

    /**
     * Every combination of the parameters with a good, a bad and no body, then every body and content type with
     * good parameters: which check comes first shows where both are bad.
     */
    private List<ValidatableRequest> renameRequests() {
        List<ValidatableRequest> requests = new ArrayList<>();
        for (String id : ID) {
            for (String mode : MODE) {
                for (String weight : WEIGHT) {
                    for (String body : Arrays.asList("{\"name\": \"Eve\"}", "{\"name\": 5}", null)) {
                        for (String contentType : List.of("application/json", "text/plain")) {
                            Map<String, String> path = new HashMap<>();
                            path.put("id", id);
                            Map<String, String> query = new HashMap<>();
                            query.put("mode", mode);
                            query.put("weight", weight);
                            requests.add(request(path, query, body, contentType));
                        }
                    }
                }
            }
        }
        for (String body : RENAME) {
            for (String contentType : CONTENT_TYPE) {
                requests.add(request(Map.of("id", "7"), Map.of(), body, contentType));
            }
        }
        return requests;
    }

    private static List<ValidatableRequest> bodies(List<String> bodies) {
        List<ValidatableRequest> requests = new ArrayList<>();
        for (String body : bodies) {
            for (String contentType : CONTENT_TYPE) {
                requests.add(request(Map.of(), Map.of(), body, contentType));
            }
        }
        return requests;
    }

    /**
     * What vertx-openapi's request validator answers: each parameter in the operation's order, then the body,
     * with a validator built per call, as {@code RequestValidator.validate} does.
     */
    private static String reference(RequestValidatorImpl validator, Operation operation, ValidatableRequest request) {
        return outcome(() -> {
            for (Parameter parameter : operation.getParameters()) {
                Map<String, RequestParameter> values = switch (parameter.getIn()) {
                    case PATH -> request.getPathParameters();
                    case QUERY -> request.getQuery();
                    case HEADER -> request.getHeaders();
                    case COOKIE -> request.getCookies();
                };
                validator.validateParameter(parameter, values.get(parameter.getName()));
            }
            validator.validateBody(operation.getRequestBody(), request);
        });
    }

    private static String outcome(Runnable check) {
        try {
            check.run();
            return "accepted";
        } catch (RuntimeException refused) {
            StringBuilder text = new StringBuilder(refused.getClass().getName()).append(": ").append(refused.getMessage());
            if (refused instanceof ValidatorException invalid) {
                text.append(" [").append(invalid.type()).append(']');
            }
            if (refused instanceof SchemaValidationException schema && schema.getOutputUnit() != null) {
                List<OutputUnit> errors = schema.getOutputUnit().getErrors();
                for (OutputUnit error : errors == null ? List.<OutputUnit>of() : errors) {
                    text.append("\n  ").append(error.getKeywordLocation()).append(' ').append(error.getInstanceLocation())
                            .append(' ').append(error.getError()).append(' ').append(error.getErrorType());
                }
            }
            return text.toString();
        }
    }

    private void assertSameAnswers(OpenAPIContract contract, String operationId, List<ValidatableRequest> requests) {
        Operation operation = contract.operation(operationId);
        OperationValidator validator = new OperationValidator(contract, operation);
        RequestValidatorImpl reference = new RequestValidatorImpl(vertx, contract);
        int refused = 0;
        for (ValidatableRequest request : requests) {
            String expected = reference(reference, operation, request);
            assertThat(outcome(() -> validator.validate(request)))
                    .as("%s: path %s, query %s, body %s, content type %s", operationId, request.getPathParameters(),
                            request.getQuery(), request.getBody(), request.getContentType())
                    .isEqualTo(expected);
            refused += expected.equals("accepted") ? 0 : 1;
        }
        assertThat(refused).as("requests refused").isPositive().isLessThan(requests.size());
    }

    @Test
    void answers_every_combination_of_parameters_and_body_as_vertx_openapi_does() {
        assertSameAnswers(things, "renameThing", renameRequests());
    }

    @Test
    void answers_a_body_of_alternatives_as_vertx_openapi_does() {
        assertSameAnswers(session, "issueDevelopmentToken", bodies(DEV_TOKEN));
    }

    @Test
    void an_operation_without_parameters_or_body_refuses_nothing() {
        OperationValidator validator = new OperationValidator(session, session.operation("describeSession"));
        for (ValidatableRequest request : bodies(RENAME)) {
            assertThat(outcome(() -> validator.validate(request))).isEqualTo("accepted");
        }
    }

    @Test
    void the_same_validators_answer_several_threads_at_once() throws Exception {
        Operation operation = things.operation("renameThing");
        OperationValidator shared = new OperationValidator(things, operation);
        RequestValidatorImpl reference = new RequestValidatorImpl(vertx, things);
        List<ValidatableRequest> requests = renameRequests();
        List<String> expected = requests.stream().map(request -> reference(reference, operation, request)).toList();
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Callable<List<String>>> runs = new ArrayList<>();
            for (int thread = 0; thread < 4; thread++) {
                int offset = thread * 97;
                runs.add(() -> {
                    String[] answers = new String[requests.size()];
                    for (int i = 0; i < requests.size(); i++) {
                        int at = (i + offset) % requests.size();
                        answers[at] = outcome(() -> shared.validate(requests.get(at)));
                    }
                    return List.of(answers);
                });
            }
            for (var answers : threads.invokeAll(runs, 60, TimeUnit.SECONDS)) {
                assertThat(answers.get()).isEqualTo(expected);
            }
        } finally {
            threads.shutdownNow();
        }
    }
}
