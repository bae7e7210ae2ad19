package dev.orders.infra.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Collects the raw values in layers, each overriding the one before: defaults, a properties file,
 * system properties, environment variables, {@code --key=value} arguments. Values are only parsed
 * afterwards, by {@link OrdersConfig}.
 */
final class ConfigLoader {

    static final String CONFIG_PROPERTY = "orders.config";
    static final String CONFIG_ENV = "ORDERS_CONFIG";

    private final Map<String, String> values = new LinkedHashMap<>();
    private final Map<String, String> origins = new LinkedHashMap<>();

    ConfigLoader() {
        for (ConfigKey key : ConfigKey.values()) {
            put(key.key(), key.defaultValue(), "default");
        }
    }

    ConfigLoader load(String[] args, Map<String, String> env, Properties systemProperties) {
        Map<String, String> argValues = parseArgs(args);
        String file = argValues.remove("config");
        if (file == null) {
            file = systemProperties.getProperty(CONFIG_PROPERTY, env.get(CONFIG_ENV));
        }
        if (file != null && !file.isBlank()) {
            file(Path.of(file));
        }
        for (ConfigKey key : ConfigKey.values()) {
            String property = systemProperties.getProperty(key.systemProperty());
            if (property != null) {
                put(key.key(), property, "system property " + key.systemProperty());
            }
        }
        for (ConfigKey key : ConfigKey.values()) {
            String variable = env.get(key.environmentVariable());
            if (variable != null) {
                put(key.key(), variable, "environment variable " + key.environmentVariable());
            }
        }
        argValues.forEach((key, value) -> putKnown(key, value, "argument --" + key));
        return this;
    }

    ConfigLoader file(Path file) {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            properties.load(reader);
        } catch (IOException e) {
            throw new ConfigException("config file '" + file + "' cannot be read: " + e);
        }
        properties.stringPropertyNames().forEach(key ->
                putKnown(key, properties.getProperty(key), "file " + file));
        return this;
    }

    ConfigLoader map(Map<String, String> map, String origin) {
        map.forEach((key, value) -> putKnown(key, value, origin));
        return this;
    }

    Map<String, String> values() {
        return values;
    }

    String origin(String key) {
        return origins.get(key);
    }

    private void putKnown(String key, String value, String origin) {
        if (ConfigKey.of(key).isEmpty()) {
            throw new ConfigException("unknown config key '" + key + "' (from " + origin + "); --help lists them");
        }
        put(key, value, origin);
    }

    private void put(String key, String value, String origin) {
        values.put(key, value == null ? "" : value.strip());
        origins.put(key, origin);
    }

    /** {@code --config FILE}, {@code --config=FILE} and {@code --key=value}; {@code --help} is ignored here. */
    static Map<String, String> parseArgs(String[] args) {
        Map<String, String> result = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--help") || arg.equals("-h")) {
                continue;
            }
            if (arg.equals("--config") && i + 1 < args.length) {
                result.put("config", args[++i]);
            } else if (arg.startsWith("--") && arg.indexOf('=') > 2) {
                result.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
            } else {
                throw new ConfigException("argument '" + arg + "' is not of the form --key=value"
                        + " or --config FILE; --help lists the keys");
            }
        }
        return result;
    }
}
