package dev.orders.infra.config;

import static dev.orders.infra.config.ConfigKey.KAFKA_REPLICATION_FACTOR;
import static dev.orders.infra.config.ConfigKey.MODE;

import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The loaded layers' raw values, read and checked as each {@link ConfigKey} says; every failure names the
 * key, the value and where it came from.
 */
final class ConfigValues {

    private static final Pattern TOPIC_PREFIX = Pattern.compile("[A-Za-z0-9._-]{1,100}");
    private static final Pattern HOST_PORT = Pattern.compile("[^\\s,:]+:\\d{1,5}");

    private final ConfigLoader loaded;

    ConfigValues(ConfigLoader loaded) {
        this.loaded = loaded;
    }

    String raw(ConfigKey key) {
        return loaded.values().get(key.key());
    }

    ConfigException bad(ConfigKey key, String expectation) {
        String origin = loaded.origin(key.key());
        String where = origin == null || origin.equals("map") || origin.equals("override")
                ? "" : " (from " + origin + ")";
        return ConfigException.badValue(key.key(), raw(key), expectation + where);
    }

    /** A development key is refused in production, and must be long enough for HMAC-SHA256 otherwise. */
    String devKey(ConfigKey devKey) {
        String key = raw(devKey);
        if (key.isEmpty()) {
            return key;
        }
        if (mode(MODE) == OrdersConfig.Mode.PRODUCTION) {
            throw bad(devKey, "is a development key, refused in production mode: tokens must come from the"
                    + " issuer's keys (auth.public-keys)");
        }
        if (key.length() < 32) {
            throw bad(devKey, "is shorter than 32 characters");
        }
        return key;
    }

    OrdersConfig.Mode mode(ConfigKey key) {
        try {
            return OrdersConfig.Mode.valueOf(raw(key).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw bad(key, "is not a mode (development or production)");
        }
    }

    String nonBlank(ConfigKey key) {
        if (raw(key).isEmpty()) {
            throw bad(key, "is empty");
        }
        return raw(key);
    }

    int port(ConfigKey key) {
        int port = integer(key, "is not a port number (0..65535)");
        if (port < 0 || port > 65535) {
            throw bad(key, "is not a port number (0..65535)");
        }
        return port;
    }

    int intAtLeast(ConfigKey key, int min) {
        String expectation = "is not a whole number >= " + min;
        int value = integer(key, expectation);
        if (value < min) {
            throw bad(key, expectation);
        }
        return value;
    }

    private int integer(ConfigKey key, String expectation) {
        try {
            return Integer.parseInt(raw(key));
        } catch (NumberFormatException e) {
            throw bad(key, expectation);
        }
    }

    boolean bool(ConfigKey key) {
        return switch (raw(key).toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw bad(key, "is not true or false");
        };
    }

    Path path(ConfigKey key) {
        try {
            return Path.of(nonBlank(key));
        } catch (java.nio.file.InvalidPathException e) {
            throw bad(key, "is not a path");
        }
    }

    Duration duration(ConfigKey key) {
        String expectation = "is not a positive ISO-8601 duration (e.g. PT30S, PT0.5S)";
        try {
            Duration duration = Duration.parse(raw(key));
            if (duration.isNegative() || duration.isZero()) {
                throw bad(key, expectation);
            }
            return duration;
        } catch (DateTimeParseException e) {
            throw bad(key, expectation);
        }
    }

    String pgUri(ConfigKey key) {
        String uri = raw(key);
        if (!uri.isEmpty() && !uri.matches("postgres(ql)?://[^\\s]+")) {
            throw bad(key, "is not a PostgreSQL URI (postgresql://user:password@host:port/database)");
        }
        return uri;
    }

    String bootstrap(ConfigKey key) {
        String value = raw(key);
        if (!value.isEmpty() && !Arrays.stream(value.split(",")).map(String::strip)
                .allMatch(s -> HOST_PORT.matcher(s).matches())) {
            throw bad(key, "is not a list of host:port");
        }
        return value;
    }

    int replicationFactor(ConfigKey key) {
        int replicationFactor = intAtLeast(key, 1);
        if (replicationFactor > Short.MAX_VALUE) {
            throw bad(key, "is not a replication factor (1.." + Short.MAX_VALUE + ")");
        }
        return replicationFactor;
    }

    /** At most {@code kafka.replication-factor}: a write with acks=all could never be acknowledged otherwise. */
    int minInsyncReplicas(ConfigKey key) {
        int replicationFactor = replicationFactor(KAFKA_REPLICATION_FACTOR);
        int minInsync = intAtLeast(key, 1);
        if (minInsync > replicationFactor) {
            throw bad(key, "is more than kafka.replication-factor (" + replicationFactor
                    + "): no write could ever be acknowledged");
        }
        return minInsync;
    }

    String groupId(ConfigKey key) {
        String group = raw(key).strip();
        if (!group.isEmpty() && !TOPIC_PREFIX.matcher(group).matches()) {
            throw bad(key, "is not a consumer group id (1..100 of A-Z a-z 0-9 . _ -)");
        }
        return group;
    }

    String httpUrl(ConfigKey key) {
        String url = raw(key).strip();
        if (!url.isEmpty() && !url.matches("https?://[^\\s/]+(/\\S*)?")) {
            throw bad(key, "is not an http(s) URL");
        }
        return url;
    }

    String topicPrefix(ConfigKey key) {
        if (!TOPIC_PREFIX.matcher(raw(key)).matches()) {
            throw bad(key, "is not a topic prefix (1..100 of A-Z a-z 0-9 . _ -)");
        }
        return raw(key);
    }

    /** Free text, without surrounding white space. */
    String stripped(ConfigKey key) {
        return raw(key).strip();
    }

    List<String> list(ConfigKey key) {
        return Arrays.stream(raw(key).split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
