package dev.orders.service.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.json.schema.OutputUnit;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import io.vertx.json.schema.common.dsl.SchemaType;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.RequestUtils;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatableRequest;
import io.vertx.openapi.validation.ValidatorException;
import io.vertx.openapi.validation.impl.RequestParameterImpl;
import io.vertx.openapi.validation.impl.ValidatableRequestImpl;

import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The requests of a served OpenAPI document, checked by vertx-openapi's request validator: an operation's path
 * and query parameters and its JSON body against the schemas of that very document, so a change of the
 * document changes what the service accepts. A request that does not match is a 400 problem whose detail
 * names the field and the rule. The check runs on the event loop, synchronously ({@link Check#check}), with
 * each operation's schema validators built once, when the document is loaded ({@link OperationValidator}).
 *
 * <p>What each layer does, in the order a request meets them: {@code ApiRouter} refuses a body that is not
 * JSON (415) or over the size limit (413); {@link JsonRequest} reads the body strictly (well-formed, one
 * object, no duplicate keys, bounded depth, which a JSON Schema cannot see: the validator's own parser keeps
 * the last duplicate); then this class applies the document (required fields, types, unknown fields,
 * lengths, patterns); then the route turns the values into the domain's, whose own rules (an amount above 0
 * and at most the maximum, a name that is not blank in Unicode's sense) no schema here expresses.
 *
 * <p>vertx-openapi 5.0 loads a document only if every answer's media type is one it can validate (not
 * {@code application/problem+json}, not {@code text/event-stream}) and every server URL is absolute. So the
 * validator is given a request-only view of the served document, derived from it when the service starts
 * ({@link #requestView}): the same paths, operations, parameters, bodies and schemas, with each operation's
 * answers reduced to one description, the servers left out (the document's base path is the root) and the
 * optional header parameters left out. Those stay the routes' own: the validator URL-decodes header values (an
 * {@code Idempotency-Key} holding {@code %} would be refused), an invalid {@code X-Correlation-Id} is
 * replaced, as the document says, not refused, and a blank {@code Last-Event-ID} gives way to the
 * {@code lastEventId} parameter. A required header is what makes a request the operation (a WebSocket
 * handshake's {@code Upgrade} and {@code Sec-WebSocket-Version}): it is checked.
 */
public final class ContractRequests {

    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");
    /** The parameters the validator checks; optional headers and cookies are the routes' own. */
    private static final Set<String> CHECKED_PARAMETERS = Set.of("path", "query");
    private static final String HEADER = "header";
    private static final String PARAMETER_REF = "#/components/parameters/";

    private final ContractDocument document;
    /** The check of each operation of the document, by its id, built when the document is loaded. */
    private final Map<String, Check> checks;

    private ContractRequests(ContractDocument document, OpenAPIContract contract) {
        this.document = document;
        this.checks = contract.operations().stream().collect(Collectors.toUnmodifiableMap(Operation::getOperationId,
                operation -> new Check(operation, new OperationValidator(contract, operation))));
    }

    /**
     * Loads the request view of a served document and builds the check of each of its operations; a document
     * vertx-openapi cannot load fails the start.
     */
    public static Future<ContractRequests> load(Vertx vertx, ContractDocument document) {
        return OpenAPIContract.from(vertx, requestView(document.json()))
                .map(contract -> new ContractRequests(document, contract))
                .recover(failure -> Future.failedFuture(new IllegalStateException("the OpenAPI document "
                        + document.path() + " cannot check requests: " + failure.getMessage(), failure)));
    }

    /** The served document these requests are checked against. */
    public ContractDocument document() {
        return document;
    }

    /**
     * The check of one operation of the document.
     *
     * @throws IllegalStateException when the document has no operation of that id (a route and its document
     *                               disagree: found when the routes are mounted, not on a request)
     */
    public Check operation(String operationId) {
        Check check = checks.get(operationId);
        if (check == null) {
            throw new IllegalStateException("the OpenAPI document " + document.path() + " has no operation " + operationId);
        }
        return check;
    }

    /** Checks requests of one operation; one instance serves every event loop. */
    public static final class Check {

        private final Operation operation;
        private final OperationValidator validator;

        private Check(Operation operation, OperationValidator validator) {
            this.operation = operation;
            this.validator = validator;
        }

        /**
         * Checks the request's path and query parameters, its required headers and its body (already read
         * strictly by {@link JsonRequest}, or absent) against the operation, at once on the calling thread (the event loop):
         * the request's parameters and body are already in memory, and checking them against the schemas is
         * CPU work of microseconds. The route must be mounted at the operation's path: vertx-openapi finds a
         * path parameter by its place in that path.
         *
         * @throws ProblemException a 400 when the request does not match
         */
        public void check(RoutingContext ctx) {
            ValidatableRequest request;
            try {
                request = asSent(extract(ctx));
            } catch (IllegalArgumentException badEncoding) {
                // vertx-openapi decodes the query string itself: a '%' not followed by two hex digits
                throw ProblemException.badRequest("the query string is not valid percent-encoding");
            }
            try {
                validator.validate(request);
            } catch (ValidatorException invalid) {
                throw ProblemException.badRequest(detail(invalid));
            }
        }

        /** The request's parameters and body as vertx-openapi reads them (its {@link RequestUtils#extract}). */
        private ValidatableRequest extract(RoutingContext ctx) {
            Buffer body = ctx.body().buffer();
            Future<ValidatableRequest> extracted;
            try {
                extracted = RequestUtils.extract(ctx.request(), operation,
                        () -> Future.succeededFuture(body == null || body.length() == 0 ? null : body));
            } catch (ValidatorException undecodable) {
                throw ProblemException.badRequest(detail(undecodable));
            }
            // the body is given as a completed future, so extracting completes at once
            if (!extracted.succeeded()) {
                throw new IllegalStateException("the request could not be read for its check", extracted.cause());
            }
            return extracted.result();
        }

        /**
         * The request with each string parameter handed over as the JSON string of its value. vertx-openapi 5.0.7
         * reads a parameter value that is not all word characters as JSON even when its schema says string: an
         * amount such as {@code 12.50} would be refused as a number, and {@code \\u0045UR} taken as {@code EUR}.
         * Quoted, a value is checked exactly as it was sent.
         */
        private ValidatableRequest asSent(ValidatableRequest request) {
            Map<String, RequestParameter> path = new HashMap<>(request.getPathParameters());
            Map<String, RequestParameter> query = new HashMap<>(request.getQuery());
            Map<String, RequestParameter> headers = new HashMap<>(request.getHeaders());
            for (Parameter parameter : operation.getParameters()) {
                Map<String, RequestParameter> values = switch (parameter.getIn()) {
                    case PATH -> path;
                    case QUERY -> query;
                    case HEADER -> headers;
                    default -> null;
                };
                RequestParameter value = values == null ? null : values.get(parameter.getName());
                if (value != null && value.get() instanceof String text && parameter.getSchemaType() == SchemaType.STRING) {
                    values.put(parameter.getName(), new RequestParameterImpl(Json.encode(text)));
                }
            }
            return new ValidatableRequestImpl(request.getCookies(), headers, path, query, request.getBody(),
                    request.getContentType());
        }
    }

    /**
     * For a field of the body, the most specific of the schema's errors (the deepest keyword:
     * {@code properties/name/type} rather than {@code additionalProperties}, whose error the validator's own
     * message would quote), with the field named as {@link JsonRequest} names fields; else (a parameter, the
     * body as a whole) the validator's message, which names the parameter.
     */
    private static String detail(ValidatorException invalid) {
        List<OutputUnit> errors = invalid instanceof SchemaValidationException schema && schema.getOutputUnit() != null
                && schema.getOutputUnit().getErrors() != null ? schema.getOutputUnit().getErrors() : List.of();
        return errors.stream()
                .max(Comparator.comparingInt((OutputUnit error) -> depth(error.getKeywordLocation()))
                        .thenComparingInt(error -> depth(error.getInstanceLocation())))
                .filter(error -> !field(error.getInstanceLocation()).isEmpty())
                .map(error -> field(error.getInstanceLocation()) + error.getError())
                .orElse(invalid.getMessage());
    }

    private static int depth(String pointer) {
        return pointer == null ? 0 : (int) pointer.chars().filter(c -> c == '/').count();
    }

    /** {@code #/creditLimit/amount} as {@code 'creditLimit.amount': }; the whole body as nothing. */
    private static String field(String instanceLocation) {
        String pointer = instanceLocation == null ? "" : instanceLocation.replaceFirst("^#?/?", "");
        return pointer.isEmpty() ? "" : "'" + pointer.replace('/', '.') + "': ";
    }

    /**
     * The request-only view of an OpenAPI document that vertx-openapi 5.0 can load: servers left out, each
     * operation's answers reduced to a description, optional header and all cookie parameters left out (see the
     * class).
     * Everything a request is checked against (paths, methods, path and query parameters, request bodies,
     * components) is the document's own.
     */
    static JsonObject requestView(JsonObject document) {
        JsonObject view = document.copy();
        view.remove("servers");
        JsonObject parameters = view.getJsonObject("components", new JsonObject())
                .getJsonObject("parameters", new JsonObject());
        JsonObject paths = view.getJsonObject("paths", new JsonObject());
        for (String path : paths.fieldNames()) {
            JsonObject item = paths.getJsonObject(path);
            if (item.containsKey("parameters")) {
                item.put("parameters", checked(item.getJsonArray("parameters"), parameters));
            }
            for (String method : item.fieldNames()) {
                if (!METHODS.contains(method)) {
                    continue;
                }
                JsonObject operation = item.getJsonObject(method);
                operation.put("responses", new JsonObject().put("default", new JsonObject()
                        .put("description", "The answers are in the served document.")));
                if (operation.containsKey("parameters")) {
                    operation.put("parameters", checked(operation.getJsonArray("parameters"), parameters));
                }
            }
        }
        return view;
    }

    /** The path, query and required header parameters of a list, a reference followed to see what the parameter is. */
    private static JsonArray checked(JsonArray declared, JsonObject components) {
        JsonArray kept = new JsonArray();
        for (Object entry : declared) {
            JsonObject parameter = (JsonObject) entry;
            String ref = parameter.getString("$ref");
            JsonObject target = ref != null && ref.startsWith(PARAMETER_REF)
                    ? components.getJsonObject(ref.substring(PARAMETER_REF.length()), new JsonObject())
                    : parameter;
            if (CHECKED_PARAMETERS.contains(target.getString("in"))
                    || HEADER.equals(target.getString("in")) && target.getBoolean("required", false)) {
                kept.add(parameter);
            }
        }
        return kept;
    }
}
