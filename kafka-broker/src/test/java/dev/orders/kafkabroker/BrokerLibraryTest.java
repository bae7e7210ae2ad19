package dev.orders.kafkabroker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerLibraryTest {

    @TempDir
    Path dir;

    @Test
    void extractsEveryJarAndTheLauncher() throws Exception {
        BrokerLibrary library = BrokerLibrary.extractTo(dir);

        assertThat(library.classpath()).allMatch(Files::exists);
        assertThat(BrokerLibrary.jarNames()).anyMatch(name -> name.startsWith("kafka_2.13-"))
                .anyMatch(name -> name.startsWith("kafka-clients-4."))
                .anyMatch(name -> name.startsWith("logback-classic-"));
        for (String file : BrokerLibrary.LAUNCHER_FILES) {
            assertThat(dir.resolve(file)).isRegularFile();
        }
    }

    @Test
    void secondExtractionKeepsUnchangedFilesAndDropsStaleJars() throws Exception {
        BrokerLibrary first = BrokerLibrary.extractTo(dir);
        Path jar = first.classpath().get(0);
        FileTime old = FileTime.fromMillis(1_000_000L);
        Files.setLastModifiedTime(jar, old);
        Path stale = Files.writeString(dir.resolve("kafka-clients-0.0.1.jar"), "old");

        BrokerLibrary.extractTo(dir);

        assertThat(Files.getLastModifiedTime(jar)).isEqualTo(old);
        assertThat(stale).doesNotExist();
    }

    @Test
    void launcherRunsInAChildJvmWithTheBrokerJars() throws Exception {
        BrokerLibrary library = BrokerLibrary.extractTo(dir);
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path log = dir.resolve("out.log");
        Process child = new ProcessBuilder(List.of(java, "-cp", library.classpathString(),
                BrokerLibrary.MAIN_CLASS, dir.resolve("missing.properties").toString()))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();

        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        // kafka.Kafka was found and loaded, and failed on the missing file, as it should
        assertThat(child.exitValue()).isNotZero();
        assertThat(Files.readString(log)).contains("missing.properties").doesNotContain("NoClassDefFoundError");
    }
}
