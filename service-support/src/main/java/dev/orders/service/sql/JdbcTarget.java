package dev.orders.service.sql;

import io.vertx.pgclient.PgConnectOptions;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * The JDBC view of the reactive client's connection options, for the one blocking client of the
 * services (Flyway, before they start): the same host, port, database, role, password and TLS mode, and
 * the URI's {@code search_path} as the connection's current schema.
 *
 * @param url      {@code jdbc:postgresql://host:port/database?...}
 * @param user     the role, or null
 * @param password its password, or null
 */
record JdbcTarget(String url, String user, String password) {

    /** The startup parameter of a {@code postgresql://} URI's {@code ?search_path=}. */
    private static final String SEARCH_PATH = "search_path";

    static JdbcTarget of(PgConnectOptions connect, String applicationName) {
        String host = connect.getHost().contains(":") ? "[" + connect.getHost() + "]" : connect.getHost();
        StringBuilder url = new StringBuilder("jdbc:postgresql://").append(host).append(':').append(connect.getPort())
                .append('/').append(encode(connect.getDatabase()))
                .append("?sslmode=").append(connect.getSslMode().value)
                .append("&ApplicationName=").append(encode(applicationName));
        String searchPath = connect.getProperties().get(SEARCH_PATH);
        if (searchPath != null && !searchPath.isBlank()) {
            url.append("&currentSchema=").append(encode(searchPath));
        }
        return new JdbcTarget(url.toString(), connect.getUser(), connect.getPassword());
    }

    /** @return the role and password as {@link java.sql.DriverManager} takes them */
    Properties properties() {
        Properties properties = new Properties();
        if (user != null) {
            properties.setProperty("user", user);
        }
        if (password != null) {
            properties.setProperty("password", password);
        }
        return properties;
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public String toString() {
        return "JdbcTarget[" + url + " as " + user + "]";
    }
}
