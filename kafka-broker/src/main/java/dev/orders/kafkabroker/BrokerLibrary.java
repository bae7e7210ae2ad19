package dev.orders.kafkabroker;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The Kafka broker's jars and launcher, carried as class path resources under {@value #ROOT}/, and
 * their extraction to a folder from which a child JVM can run them.
 *
 * <p>Works the same whether this module is a jar (plain or merged into a fat jar) or a
 * {@code target/classes} folder: it reads an index written at build time, never lists folders.
 * This class uses nothing but the JDK, so a service may load it without the broker's dependencies.
 */
public final class BrokerLibrary {

    /** The resource folder that holds the broker's jars, the index and the launcher. */
    public static final String ROOT = "kafka-broker-lib";

    /** The class to run in the child JVM; see {@code BrokerMain} for its arguments. */
    public static final String MAIN_CLASS = "dev.orders.kafkabroker.launcher.BrokerMain";

    /** The launcher's files, relative to {@link #ROOT}; the folder {@value #LAUNCHER_DIR} goes on the class path. */
    static final List<String> LAUNCHER_FILES = List.of(
            "launcher/dev/orders/kafkabroker/launcher/BrokerMain.class",
            "launcher/logback.xml");

    private static final String INDEX = ROOT + "/index.txt";
    private static final String LAUNCHER_DIR = "launcher";

    private final List<Path> classpath;

    private BrokerLibrary(List<Path> classpath) {
        this.classpath = List.copyOf(classpath);
    }

    /**
     * Copies the broker's jars and launcher into {@code dir}, skipping jars already there with the
     * same size (their names carry their versions) and deleting jars that are no longer part of it.
     *
     * @param dir the folder to fill, created if missing
     * @return the extracted library
     * @throws IOException if a resource is missing or the folder cannot be written
     */
    public static BrokerLibrary extractTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<String> jars = jarNames();
        List<Path> classpath = new ArrayList<>();
        for (String jar : jars) {
            Path target = dir.resolve(jar);
            copyIfChanged(ROOT + "/" + jar, target);
            classpath.add(target);
        }
        for (String file : LAUNCHER_FILES) {
            copyIfChanged(ROOT + "/" + file, dir.resolve(file));
        }
        classpath.add(dir.resolve(LAUNCHER_DIR));
        deleteStaleJars(dir, new HashSet<>(jars));
        return new BrokerLibrary(classpath);
    }

    /** @return the jar names in the index, in class path order */
    static List<String> jarNames() throws IOException {
        String index = new String(open(INDEX).readAllBytes(), StandardCharsets.UTF_8);
        return Arrays.stream(index.split(","))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .map(s -> s.substring(s.lastIndexOf('/') + 1))
                .toList();
    }

    /** @return the class path entries, the launcher folder last */
    public List<Path> classpath() {
        return classpath;
    }

    /** @return the class path as one string for {@code java -cp} */
    public String classpathString() {
        return String.join(java.io.File.pathSeparator, classpath.stream().map(Path::toString).toList());
    }

    private static void copyIfChanged(String resource, Path target) throws IOException {
        URLConnection connection = resourceUrl(resource).openConnection();
        connection.setUseCaches(false);
        boolean exists = Files.isRegularFile(target);
        boolean versionedJar = resource.endsWith(".jar");
        if (versionedJar && exists && Files.size(target) == connection.getContentLengthLong()) {
            return;
        }
        byte[] bytes;
        try (InputStream in = connection.getInputStream()) {
            bytes = in.readAllBytes();
        }
        if (exists && Arrays.equals(Files.readAllBytes(target), bytes)) {
            return;
        }
        Files.createDirectories(target.getParent());
        Path temp = Files.createTempFile(target.getParent(), ".extract", ".tmp");
        Files.write(temp, bytes);
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void deleteStaleJars(Path dir, Set<String> wanted) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                String name = file.getFileName().toString();
                if (name.endsWith(".jar") && !wanted.contains(name)) {
                    Files.deleteIfExists(file);
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static InputStream open(String resource) throws IOException {
        return resourceUrl(resource).openStream();
    }

    private static URL resourceUrl(String resource) throws IOException {
        URL url = BrokerLibrary.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IOException("class path resource '" + resource + "' is missing: is the kafka-broker jar"
                    + " complete (built with 'mvn package', not only compiled by an IDE)?");
        }
        return url;
    }
}
