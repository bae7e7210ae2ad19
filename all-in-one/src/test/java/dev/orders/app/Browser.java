package dev.orders.app;

import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.chromium.ChromiumDriverLogLevel;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.FluentWait;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.stream.Stream;

/**
 * A real headless Chromium (Debian's {@code chromium} driven by its {@code chromedriver}) and the few
 * helpers the browser tests share. Nothing is downloaded: both paths are given explicitly, so Selenium
 * Manager never runs. A missing browser fails the test with the command that installs it.
 */
final class Browser implements AutoCloseable {

    /** The name of Chromium as a resource of the tests (surefire runs two test classes at a time): one browser test class at a time. */
    static final String LOCK = "chromium";

    static final Path SCREENSHOTS = Path.of("target", "screenshots");
    static final Duration WAIT = Duration.ofSeconds(20);

    private static final String CHROMIUM = System.getProperty("orders.test.chromium", "/usr/bin/chromium");
    private static final String CHROMEDRIVER = System.getProperty("orders.test.chromedriver", "/usr/bin/chromedriver");

    private static final Logger CONSOLE = LoggerFactory.getLogger(Browser.class);

    final ChromeDriver driver;
    private final ChromeDriverService service;
    private final Path profile;

    private Browser(ChromeDriver driver, ChromeDriverService service, Path profile) {
        this.driver = driver;
        this.service = service;
        this.profile = profile;
    }

    /** Starts a headless Chromium with a fresh profile; fails (not skips) when it is not installed. */
    static Browser start(int width, int height) throws IOException {
        for (String binary : List.of(CHROMIUM, CHROMEDRIVER)) {
            if (!Files.isExecutable(Path.of(binary))) {
                throw new AssertionError(binary + " is missing: the browser tests need Debian's chromium and its driver"
                        + " (apt-get install chromium chromium-driver; .ci/run installs them)");
            }
        }
        // Selenium Manager must never try the network: the driver and the browser are both given.
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER);
        System.setProperty("SE_OFFLINE", "true");
        Files.createDirectories(Path.of("target"));
        Path profile = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "chromium-profile-");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER))
                .usingAnyFreePort()
                .withLogFile(Path.of("target", "chromedriver.log").toFile())
                .withLogLevel(ChromiumDriverLogLevel.WARNING)
                .build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments(
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions", "--lang=en-GB",
                "--hide-scrollbars", "--force-device-scale-factor=1",
                // A page left for the next test must not live on in the back/forward cache with its
                // event stream open: six such streams use up Chromium's six HTTP/1.1 connections per
                // host, and the next page's fetches would wait for a free one.
                "--disable-features=BackForwardCache",
                "--window-size=" + width + "," + height,
                "--user-data-dir=" + profile);
        // The console, so that a test can see what the page itself complained about (CSP violations).
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability(ChromeOptions.LOGGING_PREFS, logs);
        try {
            ChromeDriver driver = new ChromeDriver(service, options);
            driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(10));
            driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
            return new Browser(driver, service, profile);
        } catch (RuntimeException e) {
            service.stop();
            deleteQuietly(profile);
            throw e;
        }
    }

    // ------------------------------------------------------------------ finding

    static By testId(String id) {
        return By.cssSelector("[data-testid=\"" + id + "\"]");
    }

    static By orderRow(String orderId) {
        return By.cssSelector("[data-testid=\"order-row\"][data-order-id=\"" + orderId + "\"]");
    }

    WebElement byTestId(String id) {
        return driver.findElement(testId(id));
    }

    String text(String testId) {
        return (String) js("return arguments[0].textContent.trim();", byTestId(testId));
    }

    /** The order row's part with this test id, read in one script so that a re-render cannot get in between. */
    Optional<String> rowPart(String orderId, String part) {
        Object value = js("""
                const row = document.querySelector('[data-testid="order-row"][data-order-id="' + arguments[0] + '"]');
                if (!row) return null;
                if (arguments[1].startsWith('@')) return row.dataset[arguments[1].slice(1)] ?? null;
                const el = row.querySelector('[data-testid="' + arguments[1] + '"]');
                return el ? el.textContent.trim() : null;""", orderId, part);
        return Optional.ofNullable((String) value);
    }

    Optional<String> status(String orderId) {
        return rowPart(orderId, "@status");
    }

    List<String> orderIds() {
        @SuppressWarnings("unchecked")
        List<String> ids = (List<String>) js(
                "return [...document.querySelectorAll('[data-testid=\"order-row\"]')].map(r => r.dataset.orderId);");
        return ids;
    }

    boolean visible(String testId) {
        List<WebElement> found = driver.findElements(testId(testId));
        return !found.isEmpty() && found.get(0).isDisplayed();
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /**
     * Fetches a path from inside the page, as the page's own code would (same origin, with its session
     * cookie); returns the HTTP status, without waiting for the body (a stream never ends).
     */
    int fetchStatus(String method, String path) {
        Object status = ((JavascriptExecutor) driver).executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                const controller = new AbortController();
                const init = { method: arguments[0], credentials: 'same-origin', signal: controller.signal,
                               headers: { Accept: 'application/json' } };
                if (arguments[0] === 'POST') {
                  init.headers['Content-Type'] = 'application/json';
                  init.headers['Idempotency-Key'] = crypto.randomUUID();
                  init.body = arguments[2];
                }
                fetch(arguments[1], init).then((r) => { done(r.status); controller.abort(); }, (e) => done(String(e)));""",
                method, path, "{}");
        if (!(status instanceof Number number)) {
            throw new AssertionError(method + " " + path + " from the page failed: " + status);
        }
        return number.intValue();
    }

    int fetchStatus(String path) {
        return fetchStatus("GET", path);
    }

    /**
     * Forgets every session and everything remembered: the session cookie (it is HttpOnly, so only
     * the browser itself can remove it) and the app origin's storage. Leaves the browser on a blank page.
     */
    void forgetEverything(String base) {
        driver.get("about:blank");
        driver.get(base + "favicon.svg"); // a page of the app's origin that runs no script and opens no stream
        driver.manage().deleteAllCookies();
        js("localStorage.clear(); sessionStorage.clear();");
        driver.get("about:blank");
    }

    // ------------------------------------------------------------------ the console

    /**
     * What the page did wrong, as Chromium's console reported it since the last call (each read drains
     * the console log): Content-Security-Policy violations and uncaught script errors. Other console
     * messages (a 401 or 404 the page expected, say) are logged, not returned.
     */
    List<String> consoleProblems() {
        List<String> problems = new ArrayList<>();
        for (LogEntry entry : driver.manage().logs().get(LogType.BROWSER)) {
            String message = entry.getLevel() + " " + entry.getMessage();
            String lower = message.toLowerCase(Locale.ROOT);
            if (lower.contains("content security policy") || lower.contains("uncaught")) {
                problems.add(message);
            } else {
                CONSOLE.debug("console: {}", message);
            }
        }
        return problems;
    }

    // ------------------------------------------------------------------ waiting

    /** Waits until the condition answers a non-null, non-false value; the message says what was awaited. */
    <T> T await(String what, Function<Browser, T> condition) {
        return await(what, WAIT, condition);
    }

    <T> T await(String what, Duration timeout, Function<Browser, T> condition) {
        return new FluentWait<>(this)
                .withTimeout(timeout)
                .pollingEvery(Duration.ofMillis(100))
                .ignoring(StaleElementReferenceException.class)
                .withMessage(() -> what + "\n  the page showed: " + describePage())
                .until(condition);
    }

    /** What the page shows, in one line, for failure messages. */
    String describePage() {
        try {
            return String.valueOf(js("""
                    const t = (id) => document.querySelector('[data-testid="' + id + '"]')?.textContent.trim();
                    const rows = [...document.querySelectorAll('[data-testid="order-row"]')]
                        .map(r => r.dataset.orderId.slice(0, 8) + ' ' + r.dataset.status + ' v' + r.dataset.version);
                    return 'session=' + JSON.stringify(t('session-who')) + ', sign-in message=' + JSON.stringify(t('sign-in-message'))
                        + ', connection=' + t('connection-state') + ', customer=' + t('customer-card-name')
                        + ', reserved=' + t('credit-reserved') + ', available=' + t('credit-available')
                        + ', error=' + JSON.stringify(t('error-message')) + ', orders=[' + rows.join('; ') + ']'
                        + ', url=' + location.href;"""));
        } catch (RuntimeException e) {
            return "(unreadable: " + e.getMessage().lines().findFirst().orElse("") + ")";
        }
    }

    /** A money field's text, amount and currency ({@code data-amount}, {@code data-currency}). */
    record Money(String text, String amount, String currency) {
        boolean is(String expectedAmount, String expectedCurrency) {
            return amount != null && !amount.isEmpty() && expectedCurrency.equals(currency)
                    && new java.math.BigDecimal(amount).compareTo(new java.math.BigDecimal(expectedAmount)) == 0
                    && text.equals(amount + " " + currency);
        }
    }

    Money money(String testId) {
        @SuppressWarnings("unchecked")
        List<String> parts = (List<String>) js("""
                const el = document.querySelector('[data-testid="' + arguments[0] + '"]');
                return [el.textContent.trim(), el.dataset.amount ?? '', el.dataset.currency ?? ''];""", testId);
        return new Money(parts.get(0), parts.get(1), parts.get(2));
    }

    void awaitMoney(String testId, String amount, String currency) {
        await(testId + " showing " + amount + " " + currency, b -> b.money(testId).is(amount, currency));
    }

    void awaitStatus(String orderId, String status) {
        await("order " + orderId + " shown as " + status + " (shown: " + status(orderId).orElse("no row") + ")",
                b -> b.status(orderId).filter(status::equals).isPresent());
    }

    void awaitText(String testId, String expected) {
        await(testId + " = '" + expected + "'", b -> expected.equals(b.text(testId)));
    }

    // ------------------------------------------------------------------ recording what the page showed

    /**
     * Records, in the page, every status each order row shows and every connection state, so that a
     * test can check a sequence that passes faster than it polls (PENDING lasts only as long as the saga).
     */
    void recordChanges() {
        js("""
                if (window.__recording) return;
                window.__recording = true;
                window.__statuses = [];
                window.__connection = [document.querySelector('[data-testid="connection-state"]').textContent];
                const rows = new MutationObserver((mutations) => {
                  for (const m of mutations) {
                    const nodes = m.type === 'childList' ? [...m.addedNodes] : [m.target];
                    for (const n of nodes) {
                      if (n.nodeType === 1 && n.dataset.testid === 'order-row') window.__statuses.push([n.dataset.orderId, n.dataset.status]);
                    }
                  }
                });
                rows.observe(document.querySelector('[data-testid="orders-list"]'),
                    { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
                const state = document.querySelector('[data-testid="connection-state"]');
                new MutationObserver(() => {
                  const s = state.textContent;
                  if (window.__connection[window.__connection.length - 1] !== s) window.__connection.push(s);
                }).observe(state, { subtree: true, childList: true, characterData: true });""");
    }

    /** The statuses the order's row showed since {@link #recordChanges()}, consecutive repeats folded. */
    List<String> statusesShown(String orderId) {
        @SuppressWarnings("unchecked")
        List<List<String>> all = (List<List<String>>) js("return window.__statuses || [];");
        List<String> shown = new java.util.ArrayList<>();
        for (List<String> entry : all) {
            if (entry.get(0).equals(orderId) && (shown.isEmpty() || !shown.getLast().equals(entry.get(1)))) {
                shown.add(entry.get(1));
            }
        }
        return shown;
    }

    @SuppressWarnings("unchecked")
    List<String> connectionStatesShown() {
        return (List<String>) js("return window.__connection || [];");
    }

    /** Marks the document, so that a test can prove later that the page was not reloaded. */
    String markDocument() {
        String mark = java.util.UUID.randomUUID().toString();
        js("window.__documentMark = arguments[0];", mark);
        return mark;
    }

    String documentMark() {
        return (String) js("return window.__documentMark ?? null;");
    }

    // ------------------------------------------------------------------ screenshots

    /** Saves the visible page as a PNG; returns the path. */
    Path screenshot(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        File shot = driver.getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), file, StandardCopyOption.REPLACE_EXISTING);
        return file;
    }

    Path screenshot(String name) throws IOException {
        return screenshot(SCREENSHOTS.resolve(name + ".png"));
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
            deleteQuietly(profile);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException e) {
            // a profile left in target/ is harmless
        }
    }
}
