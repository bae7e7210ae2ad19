package dev.orders.service.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaValidationException;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.json.schema.Validator;
import io.vertx.openapi.contract.MediaType;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.contract.RequestBody;
import io.vertx.openapi.contract.Style;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatableRequest;
import io.vertx.openapi.validation.ValidationContext;
import io.vertx.openapi.validation.ValidatorErrorType;
import io.vertx.openapi.validation.ValidatorException;
import io.vertx.openapi.validation.analyser.ContentAnalyser;
import io.vertx.openapi.validation.transformer.FormTransformer;
import io.vertx.openapi.validation.transformer.LabelTransformer;
import io.vertx.openapi.validation.transformer.MatrixTransformer;
import io.vertx.openapi.validation.transformer.ParameterTransformer;
import io.vertx.openapi.validation.transformer.SimpleTransformer;

import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * vertx-openapi's checks of one operation's request (its {@code RequestValidatorImpl.validateParameter} for
 * each parameter in the operation's order, then {@code validateBody}), step for step and with the same
 * exceptions, but with each schema's validator built once, here, when the document is loaded. vertx-openapi
 * builds one per parameter and per body on every request ({@code SchemaRepository.validator}: a copy of the
 * whole repository's schema map and a URL parse each time), which cost more than the check itself. And it runs
 * on the calling thread (the event loop), where vertx-openapi's own {@code RequestValidator.validate} would hand
 * the same work to a worker thread and back ({@code executeBlocking}, ordered: one request's check at a time per
 * event loop).
 *
 * <p>One instance serves every event loop at once: a json-schema {@link Validator} keeps nothing of a check
 * (its fields are final, its copy of the schema map is only read, each check's state is the call's own), the
 * schemas are only read, and the parameter transformers hold no state.
 */
final class OperationValidator {

    private static final Map<Style, ParameterTransformer> TRANSFORMERS = transformers();

    private final List<CheckedParameter> parameters;
    private final RequestBody body;
    /** The validator of each media type of the body that has a schema to check; by identity, as the operation's own. */
    private final Map<MediaType, Validator> bodySchemas = new IdentityHashMap<>();

    /** A parameter of the operation and the validator of its schema. */
    private record CheckedParameter(Parameter parameter, Validator schema) {
    }

    OperationValidator(OpenAPIContract contract, Operation operation) {
        SchemaRepository schemas = contract.getSchemaRepository();
        this.parameters = operation.getParameters().stream()
                .map(parameter -> new CheckedParameter(parameter, schemas.validator(parameter.getSchema())))
                .toList();
        this.body = operation.getRequestBody();
        if (body != null) {
            body.getContent().values().stream().filter(OperationValidator::isSchemaValidationRequired)
                    .forEach(mediaType -> bodySchemas.put(mediaType, schemas.validator(mediaType.getSchema())));
        }
    }

    /**
     * Checks each parameter in the operation's order, then the body.
     *
     * @throws ValidatorException the first mismatch, as vertx-openapi's request validator throws it
     */
    void validate(ValidatableRequest request) {
        for (CheckedParameter checked : parameters) {
            Parameter parameter = checked.parameter();
            Map<String, RequestParameter> values = switch (parameter.getIn()) {
                case PATH -> request.getPathParameters();
                case QUERY -> request.getQuery();
                case HEADER -> request.getHeaders();
                case COOKIE -> request.getCookies();
            };
            validateParameter(checked, values.get(parameter.getName()));
        }
        validateBody(request);
    }

    /** {@code RequestValidatorImpl.validateParameter}, with the schema's validator built once. */
    private static void validateParameter(CheckedParameter checked, RequestParameter value) {
        Parameter parameter = checked.parameter();
        if (value == null || value.isNull()) {
            if (parameter.isRequired()) {
                throw ValidatorException.createMissingRequiredParameter(parameter);
            }
            return;
        }
        ParameterTransformer transformer = TRANSFORMERS.get(parameter.getStyle());
        if (transformer == null) {
            throw ValidatorException.createUnsupportedValueFormat(parameter);
        }
        Object transformed = transformer.transform(parameter, String.valueOf(value.get()));
        OutputUnit result = checked.schema().validate(transformed);
        try {
            result.checkValidity();
        } catch (JsonSchemaValidationException invalid) {
            throw SchemaValidationException.createErrorFromOutputUnitType(parameter, result, invalid);
        }
    }

    /** {@code RequestValidatorImpl.validateBody} and {@code BaseValidator.validate}, with each validator built once. */
    private void validateBody(ValidatableRequest request) {
        if (body == null) {
            return;
        }
        if (request.getBody() == null || request.getBody().isEmpty()) {
            if (body.isRequired()) {
                throw new ValidatorException("The related request does not contain the required body.",
                        ValidatorErrorType.MISSING_REQUIRED_PARAMETER);
            }
            return;
        }
        MediaType mediaType = mediaType(request.getContentType());
        Buffer content = request.getBody().getBuffer(Buffer.buffer());
        ContentAnalyser analyser = mediaType == null ? null
                : ContentAnalyser.getContentAnalyser(mediaType, request.getContentType(), content, ValidationContext.REQUEST);
        if (analyser == null) {
            throw new ValidatorException("The format of the " + ValidationContext.REQUEST + " body is not supported",
                    ValidatorErrorType.UNSUPPORTED_VALUE_FORMAT);
        }
        analyser.checkSyntacticalCorrectness();
        Validator schema = bodySchemas.get(mediaType);
        if (schema != null) {
            OutputUnit result = schema.validate(analyser.transform());
            try {
                result.checkValidity();
            } catch (JsonSchemaValidationException invalid) {
                throw SchemaValidationException.createInvalidValueBody(result, ValidationContext.REQUEST, invalid);
            }
        }
    }

    /**
     * {@code RequestBody.determineContentType}: the media type the content type names, its white space removed,
     * exactly or as a prefix. A content type with no white space that names one exactly is looked up without
     * removing any (vertx-openapi compiles a regular expression for it on every request), with the same answer.
     */
    private MediaType mediaType(String contentType) {
        if (contentType != null && contentType.chars().noneMatch(OperationValidator::isRegexWhiteSpace)) {
            MediaType exact = body.getContent().get(contentType);
            if (exact != null) {
                return exact;
            }
        }
        return body.determineContentType(contentType);
    }

    /** What {@code \s} matches in {@code java.util.regex}: space, tab, line feed, vertical tab, form feed, carriage return. */
    private static boolean isRegexWhiteSpace(int c) {
        return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
    }

    /**
     * {@code BaseValidator.isSchemaValidationRequired}: a media type without a schema, or whose schema is a bare
     * binary string, is not checked against it.
     */
    private static boolean isSchemaValidationRequired(MediaType mediaType) {
        JsonSchema schema = mediaType.getSchema();
        if (schema == null) {
            return false;
        }
        boolean bareBinary = "string".equalsIgnoreCase(schema.get("type")) && "binary".equalsIgnoreCase(schema.get("format"))
                && schema.fieldNames().size() == 2;
        return !bareBinary;
    }

    private static Map<Style, ParameterTransformer> transformers() {
        Map<Style, ParameterTransformer> transformers = new EnumMap<>(Style.class);
        transformers.put(Style.SIMPLE, new SimpleTransformer());
        transformers.put(Style.LABEL, new LabelTransformer());
        transformers.put(Style.MATRIX, new MatrixTransformer());
        transformers.put(Style.FORM, new FormTransformer());
        return transformers;
    }
}
