package dev.orders.service;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Properties;

/** What {@code --version} prints: the build's version, Vert.x's and the Java runtime's. */
public final class Version {

    private static final String RESOURCE = "/dev/orders/service/version.properties";

    private Version() {
    }

    /** Whether the command line asks for the version ({@code --version} or {@code -V}). */
    public static boolean requested(String[] args) {
        return Arrays.stream(args).anyMatch(arg -> arg.equals("--version") || arg.equals("-V"));
    }

    /** One line, e.g. {@code orders-all-in-one 1.0.0 (Vert.x 5.0.7, Java 25+36)}. */
    public static String line(String program) {
        Properties build = new Properties();
        try (InputStream in = Version.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the classpath; the build writes it");
            }
            build.load(in);
        } catch (IOException unreadable) {
            throw new UncheckedIOException(unreadable);
        }
        return program + " " + build.getProperty("version") + " (Vert.x " + build.getProperty("vertx")
                + ", Java " + Runtime.version() + ")";
    }
}
