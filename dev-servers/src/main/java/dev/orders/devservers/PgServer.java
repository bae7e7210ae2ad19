package dev.orders.devservers;

/**
 * A PostgreSQL server that this process started and administers (embedded or in a container).
 *
 * @param host          host name or address
 * @param port          port
 * @param superUser     a superuser's name
 * @param superPassword its password, "" if none is needed
 * @param description   how it runs, for logs
 */
public record PgServer(String host, int port, String superUser, String superPassword, String description) {

    /**
     * @param database a database name
     * @return a JDBC URL of that database for the superuser
     */
    public String superuserJdbcUrl(String database) {
        String url = "jdbc:postgresql://" + host + ":" + port + "/" + database + "?user=" + superUser;
        return superPassword.isEmpty() ? url : url + "&password=" + superPassword;
    }
}
