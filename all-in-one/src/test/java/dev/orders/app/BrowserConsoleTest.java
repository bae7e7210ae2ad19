package dev.orders.app;

import dev.orders.events.StreamType;
import dev.orders.events.Topics;
import dev.orders.infra.config.OrdersConfig;
import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator's console (web-client {@code console.js}) in a real headless Chromium against the whole
 * all-in-one system on real PostgreSQL and Kafka: counts by status and the latest orders live, the
 * customers list, a backlog on the pipeline strip while the saga is paused, a dead letter parked and
 * re-driven from the page, and a rebuild to its switch-over; a customer sees none of it. Every test
 * leaves a screenshot in {@code target/screenshots/}, and fails if the page broke its
 * Content-Security-Policy or threw an uncaught error.
 */
@ExtendWith({SharedInfrastructure.class, ScreenshotEachTest.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The operator's console, in headless Chromium against the all-in-one system")
@Order(2)
@ResourceLock(Browser.LOCK)
class BrowserConsoleTest implements ScreenshotEachTest.WithBrowser {

    private static final Logger LOG = LoggerFactory.getLogger(BrowserConsoleTest.class);

    private OrdersApp app;
    private OrdersConfig config;
    private TestInfrastructure infra;
    private RestApi api;
    private Browser browser;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        this.infra = infra;
        browser = Browser.start(1440, 1000);
        // A fixed port, so that the rebuild's event feed (http://127.0.0.1:<http.port>) is this process.
        config = infra.isolatedConfig().with(Map.of("http.port", Integer.toString(freePort())));
        app = OrdersApp.start(config);
        api = new RestApi(app.port());
    }

    @AfterAll
    void stop() {
        try {
            if (browser != null) {
                browser.close();
            }
        } finally {
            if (app != null) {
                app.close();
            }
        }
    }

    @Override
    public Browser browser() {
        return browser;
    }

    @Override
    public String appUrl() {
        return app.url();
    }

    // ------------------------------------------------------------------ the tests

    @Test
    @DisplayName("a customer sees no console, and every operator route answers it 403")
    void a_customer_sees_no_console_and_is_refused_every_operator_route() {
        String customerId = api.createCustomer("Grace Hopper", "500.00", "EUR");
        openSignedOut();
        WebElement input = browser.byTestId("sign-in-customer-id");
        input.sendKeys(customerId);
        browser.byTestId("sign-in-customer").click();
        browser.await("signed in as the customer", b -> "customer".equals(b.byTestId("session-who").getDomAttribute("data-role")));
        browser.await("the customer's card", b -> b.visible("customer-card"));
        assertThat(browser.visible("console")).as("the console is an operator's").isFalse();
        assertThat(browser.visible("skip-to-console")).isFalse();
        for (String path : List.of("/api/orders", "/api/orders?status=APPROVED", "/api/orders/stream",
                "/api/admin/status/stream", "/api/admin/dead-letters", "/api/admin/rebuild")) {
            assertThat(browser.fetchStatus(path)).as("GET %s as a customer", path).isEqualTo(403);
        }
        assertThat(browser.fetchStatus("POST", "/api/admin/rebuild")).isEqualTo(403);
    }

    @Test
    @DisplayName("counts by status and the latest orders update live; the customers list filters by available credit and opens a customer")
    void counts_and_latest_orders_update_live_and_customers_open_their_workspace() {
        openSignedOut();
        signInAsOperator();
        browser.await("counts by status shown", b -> count(b, "ALL") >= 0);
        long approvedBefore = count(browser, "APPROVED");
        long rejectedBefore = count(browser, "REJECTED");
        browser.awaitText("operator-stream-state", "live");
        String mark = browser.markDocument();

        String customerId = api.createCustomer("Katherine Johnson", "987654.00", "EUR");
        List<String> approved = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            approved.add(api.placeOrder(customerId, "100.00", "EUR").getString("orderId"));
        }
        String rejected = api.placeOrder(customerId, "999999.00", "EUR").getString("orderId");

        for (String orderId : approved) {
            browser.await("order " + orderId + " APPROVED among the latest orders",
                    b -> "APPROVED".equals(latestStatus(b, orderId)));
        }
        browser.await("order " + rejected + " REJECTED among the latest orders", b -> "REJECTED".equals(latestStatus(b, rejected)));
        browser.await("three more approved and one more rejected in the counts",
                b -> count(b, "APPROVED") == approvedBefore + 3 && count(b, "REJECTED") == rejectedBefore + 1);

        // Only rejected ones, on the filter's button.
        browser.byTestId("status-REJECTED").click();
        browser.await("only rejected orders listed", b -> {
            List<?> statuses = (List<?>) b.js("return [...document.querySelectorAll('[data-testid=\"latest-order\"]')]"
                    + ".map(o => o.dataset.status);");
            return !statuses.isEmpty() && statuses.stream().allMatch("REJECTED"::equals);
        });
        assertThat(browser.byTestId("status-REJECTED").getDomAttribute("aria-pressed")).isEqualTo("true");

        // The customers list: the available-credit filter (keyboard only), then the customer's workspace.
        WebElement min = browser.byTestId("min-available");
        min.sendKeys("987000", Keys.ENTER);
        browser.await("only the customer with that much credit", b -> {
            List<?> rows = (List<?>) b.js("return [...document.querySelectorAll('[data-testid=\"customer-row\"]')]"
                    + ".map(r => r.dataset.customerId);");
            return rows.equals(List.of(customerId));
        });
        browser.await("its available credit, live: the limit less three approved orders",
                b -> b.text("customer-available").equals("987354.00 EUR"));
        browser.driver.findElement(Browser.testId("customer-row")).findElement(org.openqa.selenium.By.tagName("button")).click();
        browser.await("the customer's workspace", b -> b.visible("customer-card")
                && "Katherine Johnson".equals(b.text("customer-card-name")));
        browser.await("its four orders", b -> b.orderIds().size() == 4);
        assertThat(browser.documentMark()).as("no reload").isEqualTo(mark);
    }

    @Test
    @DisplayName("a paused saga shows as a backlog on the pipeline strip, which drains when it resumes")
    void a_paused_saga_shows_a_backlog_that_drains() throws Exception {
        String customerId = api.createCustomer("Backlog Ltd", "100000.00", "EUR");
        openSignedOut();
        signInAsOperator();
        browser.await("the pipeline's figures", b -> !b.text("stage-saga-lag").equals("—"));
        assertThat(browser.text("stage-relay-lag")).as("the all-in-one knows the command side's figures")
                .endsWith("unpublished");

        List<String> orders = new ArrayList<>();
        api.saga("pause");
        try {
            for (int i = 0; i < 6; i++) {
                orders.add(api.placeOrder(customerId, "10.00", "EUR").getString("orderId"));
            }
            browser.await("the saga's backlog on the strip", Duration.ofSeconds(30), b -> stageLag(b, "saga") >= 6
                    && b.byTestId("stage-saga").getDomAttribute("class").contains("stage--behind"));
            browser.await("the orders waiting as PENDING", b -> count(b, "PENDING") >= 6);
            assertThat(browser.byTestId("pipeline-chart").getDomAttribute("aria-label")).contains("saga now");
            browser.js("document.querySelector('[data-testid=\"pipeline\"]').scrollIntoView();");
            browser.screenshot("saga-backlog");
        } finally {
            api.saga("resume");
        }
        for (String orderId : orders) {
            api.awaitOrder(orderId, "APPROVED");
        }
        browser.await("the backlog drained", Duration.ofSeconds(30), b -> stageLag(b, "saga") == 0 && count(b, "PENDING") == 0);
        String label = browser.byTestId("pipeline-chart").getDomAttribute("aria-label");
        assertThat(label).as("the chart remembers the peak").containsPattern("saga now 0, peak ([6-9]|\\d\\d)");
    }

    @Test
    @DisplayName("a parked record is listed under dead letters and re-driven from the page, with the outcome shown")
    void a_dead_letter_is_parked_and_re_driven_from_the_page() throws Exception {
        String customerId = api.createCustomer("Parked Goods", "300.00", "EUR");
        JsonObject created = eventOf(customerId);
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, infra.kafkaBootstrap()), new StringSerializer(),
                new ByteArraySerializer())) {
            // The event itself is sound, but the record's streamId header names another stream: parked.
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.of(config.kafkaTopicPrefix(), StreamType.CUSTOMER),
                    customerId, created.encode().getBytes(StandardCharsets.UTF_8));
            record.headers().add(Topics.HEADER_STREAM_ID, UUID.randomUUID().toString().getBytes(StandardCharsets.UTF_8));
            producer.send(record).get(30, TimeUnit.SECONDS);
        }
        openSignedOut();
        signInAsOperator();
        // The list is drawn anew as it refreshes: each read finds its elements again (a stale one is read again).
        List<String> parked = browser.await("the parked record with its re-drive button", b -> b.driver
                .findElements(org.openqa.selenium.By.cssSelector("[data-testid=\"dead-letter\"][data-redriven=\"false\"]"))
                .stream().findFirst().map(item -> List.of(item.getText(), item.getDomAttribute("data-id"),
                        item.findElement(Browser.testId("redrive")).getDomAttribute("aria-label"))).orElse(null));
        String id = parked.get(1);
        assertThat(parked.get(0)).contains("projector").contains("is not the event's stream id");
        assertThat(parked.get(2)).isEqualTo("Re-drive projector dead letter " + id);
        browser.await("the re-drive button pressed", b -> {
            b.driver.findElement(org.openqa.selenium.By.cssSelector("[data-testid=\"dead-letter\"][data-id=\"" + id
                    + "\"] [data-testid=\"redrive\"]")).sendKeys(Keys.ENTER);
            return true;
        });
        browser.await("the outcome", b -> "redriven".equals(b.byTestId("dead-letter-outcome").getDomAttribute("data-outcome")));
        assertThat(browser.text("dead-letter-outcome")).contains("#" + id + " re-driven").contains("CustomerCreated");
        browser.await("the record marked re-driven", b -> b.driver.findElements(org.openqa.selenium.By.cssSelector(
                "[data-testid=\"dead-letter\"][data-id=\"" + id + "\"][data-redriven=\"true\"]")).size() == 1);
        JsonArray listed = api.get("/api/admin/dead-letters").json().getJsonArray("items");
        assertThat(listed.stream().map(JsonObject.class::cast).filter(d -> d.getLong("id") == Long.parseLong(id)))
                .singleElement().satisfies(d -> assertThat(d.getString("redrivenAt")).isNotNull());
    }

    @Test
    @DisplayName("a rebuild started from the page shows its progress until the switch-over, and queries answer throughout")
    void a_rebuild_runs_to_the_switch_over_with_its_progress_bar() {
        String customerId = api.createCustomer("Rebuilt & Co", "5000.00", "EUR");
        List<String> orders = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            orders.add(api.placeOrder(customerId, "20.00", "EUR").getString("orderId"));
        }
        orders.forEach(orderId -> api.awaitOrder(orderId, "APPROVED"));
        openSignedOut();
        signInAsOperator();
        browser.js("""
                window.__rebuild = [];
                const bar = document.querySelector('[data-testid="rebuild-progress"]');
                new MutationObserver(() => window.__rebuild.push([bar.dataset.state, bar.value]))
                    .observe(bar, { attributes: true });""");
        browser.byTestId("rebuild-start").click();
        browser.await("the rebuild switched over", Duration.ofSeconds(60),
                b -> "DONE".equals(b.byTestId("rebuild-progress").getDomAttribute("data-state")));
        assertThat((Double) ((Number) browser.js("return document.querySelector('[data-testid=\"rebuild-progress\"]').value;")).doubleValue())
                .isEqualTo(1.0);
        assertThat(browser.text("rebuild-state")).isEqualTo("Rebuilt and switched over.");
        assertThat(browser.text("rebuild-figures")).containsPattern("\\d+ of \\d+ events folded");
        List<?> seen = (List<?>) browser.js("return window.__rebuild;");
        assertThat(seen).as("states the bar went through").isNotEmpty();
        assertThat(browser.byTestId("rebuild-start").isEnabled()).isTrue();
        assertThat(api.get("/api/orders/" + orders.get(0)).json().getString("status")).isEqualTo("APPROVED");
    }

    /**
     * The console while orders flow: several customers ordering for some seconds. Always saved to
     * target/screenshots/; copied to docs/console.png only with {@code -Dorders.docs.screenshot=true}.
     */
    @Test
    @DisplayName("the console while orders flow (the README's screenshot)")
    void the_console_while_orders_flow() throws Exception {
        List<String> customers = new ArrayList<>();
        String[] names = {"Northwind Traders", "Contoso", "Fabrikam", "Tailspin Toys", "Wide World Importers"};
        for (int i = 0; i < names.length; i++) {
            customers.add(api.createCustomer(names[i], (2000 + 1500 * i) + ".00", "EUR"));
        }
        Dimension before = browser.driver.manage().window().getSize();
        browser.driver.manage().window().setSize(new Dimension(1600, 1400));
        AtomicBoolean flowing = new AtomicBoolean(true);
        Thread load = Thread.ofVirtual().start(() -> {
            int n = 0;
            while (flowing.get()) {
                String customer = customers.get(n % customers.size());
                api.placeOrder(customer, (n % 7 == 0 ? "1900.00" : (15 + n % 90) + ".00"), "EUR");
                n++;
                try {
                    Thread.sleep(60);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        try {
            openSignedOut();
            signInAsOperator();
            browser.await("the console filling", Duration.ofSeconds(30), b -> count(b, "ALL") >= 30);
            boolean forTheReadme = Boolean.getBoolean("orders.docs.screenshot");
            if (forTheReadme) {
                Thread.sleep(3_000); // a few seconds of the chart
            }
            browser.js("document.activeElement?.blur(); document.getElementById('console-heading').scrollIntoView();");
            new Actions(browser.driver).moveToLocation(1, 1).perform();
            Path shot = browser.screenshot("console-while-orders-flow");
            if (forTheReadme) {
                Path docs = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent().resolve("docs");
                Files.createDirectories(docs);
                Files.copy(shot, docs.resolve("console.png"), StandardCopyOption.REPLACE_EXISTING);
                LOG.info("README console screenshot written to {}", docs.resolve("console.png"));
            }
        } finally {
            flowing.set(false);
            load.join(10_000);
            browser.driver.manage().window().setSize(before);
        }
    }

    // ------------------------------------------------------------------ steps

    private void openSignedOut() {
        browser.driver.get(app.url());
        browser.await("the sign-in panel", b -> b.visible("sign-in-panel") && b.visible("sign-in-operator"));
    }

    private void signInAsOperator() {
        browser.byTestId("sign-in-operator").click();
        browser.await("the operator's console", b -> b.visible("console"));
    }

    private static long count(Browser b, String status) {
        String text = (String) b.js("return document.querySelector('[data-testid=\"count-" + status + "\"]').dataset.count ?? null;");
        return text == null ? -1 : Long.parseLong(text);
    }

    private static String latestStatus(Browser b, String orderId) {
        return (String) b.js("return document.querySelector('[data-testid=\"latest-order\"][data-order-id=\"'"
                + " + arguments[0] + '\"]')?.dataset.status ?? null;", orderId);
    }

    private static long stageLag(Browser b, String stage) {
        String lag = b.byTestId("stage-" + stage).getDomAttribute("data-lag");
        return lag == null || lag.isEmpty() ? -1 : Long.parseLong(lag);
    }

    /** The customer's CustomerCreated, as the event feed (and Kafka) carries it. */
    private JsonObject eventOf(String customerId) {
        JsonArray events = api.get("/api/admin/events?after=0&limit=5000").json().getJsonArray("events");
        return events.stream().map(JsonObject.class::cast)
                .filter(e -> customerId.equals(e.getString("streamId")))
                .findFirst().orElseThrow(() -> new AssertionError("no event of " + customerId + " in the feed: " + events));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
