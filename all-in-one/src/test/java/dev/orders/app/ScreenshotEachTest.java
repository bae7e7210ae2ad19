package dev.orders.app;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Saves a screenshot of the browser after every test, passed or failed, as
 * {@code target/screenshots/<test method>.png}. Runs before {@code @AfterEach}, so the page is still
 * as the test left it.
 */
final class ScreenshotEachTest implements AfterTestExecutionCallback {

    private static final Logger LOG = LoggerFactory.getLogger(ScreenshotEachTest.class);

    /**
     * A test class whose tests drive a browser: each starts signed out with nothing remembered, and
     * fails if the page broke its Content-Security-Policy or threw an uncaught error.
     */
    interface WithBrowser {
        Browser browser();

        /** The page's URL. */
        String appUrl();

        @BeforeEach
        default void signedOutWithNothingRemembered() {
            browser().forgetEverything(appUrl());
        }

        @AfterEach
        default void noContentSecurityPolicyViolationNorScriptError() {
            assertThat(browser().consoleProblems())
                    .as("Content-Security-Policy violations and uncaught errors on the browser console").isEmpty();
        }
    }

    @Override
    public void afterTestExecution(ExtensionContext context) {
        if (!(context.getRequiredTestInstance() instanceof WithBrowser test) || test.browser() == null) {
            return;
        }
        String name = context.getRequiredTestMethod().getName();
        try {
            var file = test.browser().screenshot(name);
            LOG.info("{} {}: screenshot {}", name, context.getExecutionException().isPresent() ? "FAILED" : "passed",
                    file.toAbsolutePath());
        } catch (Exception | Error e) {
            LOG.warn("no screenshot of {}: {}", name, e.toString());
        }
    }
}
