package dev.orders.service;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

@DisplayName("--version")
class VersionTest {

    @Test
    void is_asked_for_by_the_long_and_the_short_flag_only() {
        assertThat(Version.requested(new String[] {"--http.port=0", "--version"})).isTrue();
        assertThat(Version.requested(new String[] {"-V"})).isTrue();
        assertThat(Version.requested(new String[] {"--help", "--version.x=1"})).isFalse();
    }

    @Test
    void names_the_program_the_builds_version_vertx_and_java() {
        String line = Version.line("orders-test");
        assertThat(line).matches("orders-test \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(Vert\\.x 5\\.[^,]+, Java .+\\)");
        assertThat(line).doesNotContain("${");
    }
}
