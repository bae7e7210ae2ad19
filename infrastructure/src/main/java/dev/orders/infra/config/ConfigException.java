package dev.orders.infra.config;

/** A configuration value that is missing, unknown or malformed; the message names the key and the value. */
public final class ConfigException extends IllegalArgumentException {

    /** @param message what is wrong, naming the key and the bad value */
    public ConfigException(String message) {
        super(message);
    }

    static ConfigException badValue(String key, String value, String expectation) {
        String shown = OrdersConfig.isSecret(key) && !value.isEmpty() ? "***" : value;
        return new ConfigException("config key '" + key + "': '" + shown + "' " + expectation);
    }
}
