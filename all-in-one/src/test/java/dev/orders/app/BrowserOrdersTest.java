package dev.orders.app;

import dev.orders.testsupport.SharedInfrastructure;
import dev.orders.testsupport.TestInfrastructure;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.Select;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static dev.orders.app.Browser.orderRow;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The browser UI (web-client) in a real headless Chromium against the whole all-in-one system on real
 * PostgreSQL and Kafka: one system and one browser for the class, one customer per test. Every test
 * leaves a screenshot in {@code target/screenshots/}.
 */
@ExtendWith({SharedInfrastructure.class, ScreenshotEachTest.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@DisplayName("The browser UI, in headless Chromium against the all-in-one system")
class BrowserOrdersTest implements ScreenshotEachTest.WithBrowser {

    private static final Logger LOG = LoggerFactory.getLogger(BrowserOrdersTest.class);

    private OrdersApp app;
    private RestApi api;
    private DroppingProxy proxy;
    private Browser browser;

    @BeforeAll
    void start(TestInfrastructure infra) throws Exception {
        long started = System.nanoTime();
        browser = Browser.start(1440, 1000); // first: without a browser, fail before the slow start
        app = OrdersApp.start(infra.isolatedConfig());
        api = new RestApi(app.port());
        proxy = new DroppingProxy(app.port());
        LOG.info("system and browser up in {} ms", (System.nanoTime() - started) / 1_000_000);
    }

    @AfterAll
    void stop() {
        try {
            if (browser != null) {
                browser.close();
            }
        } finally {
            if (proxy != null) {
                proxy.close();
            }
            if (app != null) {
                app.close();
            }
        }
    }

    @Override
    public Browser browser() {
        return browser;
    }

    // ------------------------------------------------------------------ the tests

    @Test
    @DisplayName("an order within the credit limit turns from PENDING to APPROVED on screen, and the credit moves, without a reload")
    void an_order_within_the_limit_turns_approved_live_and_moves_the_credit() {
        openFreshPage(app.url());
        String customerId = createCustomerOnPage("Ada Lovelace", "1000.00");
        browser.awaitMoney("credit-limit", "1000.00", "EUR");
        browser.awaitMoney("credit-reserved", "0", "EUR");
        browser.awaitMoney("credit-available", "1000.00", "EUR");
        browser.awaitText("connection-state", "live");
        assertThat(browser.driver.getCurrentUrl()).endsWith("#customer=" + customerId);

        String mark = browser.markDocument();
        browser.recordChanges();
        String orderId = placeOrderOnPage("250.00");

        browser.awaitStatus(orderId, "APPROVED");
        assertThat(browser.statusesShown(orderId)).as("the statuses the row showed").containsExactly("PENDING", "APPROVED");
        assertThat(browser.rowPart(orderId, "order-total")).contains("250.00 EUR");
        browser.await("the settling marker gone", b -> !b.driver.findElement(orderRow(orderId))
                .findElement(Browser.testId("order-settling")).isDisplayed());
        assertThat(browser.rowPart(orderId, "order-reason")).contains("");

        browser.awaitMoney("credit-reserved", "250.00", "EUR");
        browser.awaitMoney("credit-available", "750.00", "EUR");
        browser.awaitMoney("credit-limit", "1000.00", "EUR");
        assertThat(browser.documentMark()).as("the same document, never reloaded").isEqualTo(mark);
    }

    @Test
    @DisplayName("an order over the credit limit turns REJECTED with its reason in words, and reserves nothing")
    void an_order_over_the_limit_turns_rejected_with_its_reason_in_words() {
        String customerId = api.createCustomer("Grace Hopper", "100.00", "EUR");
        openCustomer(app.url(), customerId);
        browser.recordChanges();

        String orderId = placeOrderOnPage("250.00");

        browser.awaitStatus(orderId, "REJECTED");
        assertThat(browser.statusesShown(orderId)).containsExactly("PENDING", "REJECTED");
        assertThat(browser.rowPart(orderId, "order-status")).contains("REJECTED");
        WebElement reason = browser.driver.findElement(orderRow(orderId)).findElement(Browser.testId("order-reason"));
        assertThat(reason.isDisplayed()).as("the reason is shown").isTrue();
        assertThat(reason.getDomAttribute("data-reason")).isEqualTo("CREDIT_LIMIT_EXCEEDED");
        assertThat(reason.getText()).as("the reason in words, not the code")
                .containsIgnoringCase("credit limit").doesNotContain("_").doesNotContain("CREDIT");
        assertThat(browser.driver.findElement(orderRow(orderId)).findElements(Browser.testId("order-cancel")))
                .as("a rejected order cannot be cancelled").isEmpty();

        browser.awaitMoney("credit-reserved", "0", "EUR");
        browser.awaitMoney("credit-available", "100.00", "EUR");
    }

    @Test
    @DisplayName("cancelling an approved order turns it CANCELLED and releases its credit on screen")
    void cancelling_an_approved_order_turns_it_cancelled_and_releases_the_credit() {
        String customerId = api.createCustomer("Alan Turing", "1000.00", "EUR");
        openCustomer(app.url(), customerId);
        String orderId = placeOrderOnPage("400.00");
        browser.awaitStatus(orderId, "APPROVED");
        browser.awaitMoney("credit-reserved", "400.00", "EUR");
        browser.awaitMoney("credit-available", "600.00", "EUR");
        browser.recordChanges();

        browser.driver.findElement(orderRow(orderId)).findElement(Browser.testId("order-cancel")).click();

        browser.awaitStatus(orderId, "CANCELLED");
        assertThat(browser.statusesShown(orderId)).last().isEqualTo("CANCELLED");
        api.awaitReserved(customerId, "0"); // the system released it; now the page must show it
        browser.await("the cancel button gone", b -> b.driver.findElement(orderRow(orderId))
                .findElements(Browser.testId("order-cancel")).isEmpty());
        browser.await("the settling marker gone", b -> !b.driver.findElement(orderRow(orderId))
                .findElement(Browser.testId("order-settling")).isDisplayed());
        browser.awaitMoney("credit-reserved", "0", "EUR");
        browser.awaitMoney("credit-available", "1000.00", "EUR");
        assertThat(browser.visible("error-message")).as("no error").isFalse();
    }

    @Test
    @DisplayName("when the server drops the stream, the page says so, reconnects by itself and shows what it missed")
    void the_page_recovers_from_a_dropped_stream_and_shows_the_changes_it_missed() throws Exception {
        String customerId = api.createCustomer("Katherine Johnson", "1000.00", "EUR");
        String first = api.placeOrder(customerId, "300.00", "EUR").getString("orderId");
        api.awaitOrder(first, "APPROVED");
        openCustomer(proxy.url(), customerId); // the page talks to the system through the proxy only
        browser.awaitStatus(first, "APPROVED");
        browser.awaitMoney("credit-reserved", "300.00", "EUR");
        String mark = browser.markDocument();
        browser.recordChanges();

        proxy.drop();
        browser.await("the indicator leaving 'live'", b -> !b.text("connection-state").equals("live"));
        assertThat(browser.text("connection-state")).isIn("reconnecting", "offline");

        // While the page cannot reach the server: a new order settles and the shown one is cancelled.
        String second = api.placeOrder(customerId, "200.00", "EUR").getString("orderId");
        api.awaitOrder(second, "APPROVED");
        api.cancelOrder(first);
        api.awaitOrder(first, "CANCELLED");
        api.awaitReserved(customerId, "200.00");
        Thread.sleep(500);
        assertThat(browser.orderIds()).as("the page cannot know the new order yet").doesNotContain(second);
        assertThat(browser.status(first)).as("nor the cancellation").contains("APPROVED");
        assertThat(browser.text("connection-state")).isIn("reconnecting", "offline");
        browser.screenshot("the_page_recovers_from_a_dropped_stream_and_shows_the_changes_it_missed-while-down");

        long restored = System.nanoTime();
        proxy.restore();
        browser.await("the indicator back to 'live'", Duration.ofSeconds(45),
                b -> b.text("connection-state").equals("live"));
        LOG.info("live again {} ms after the server came back", (System.nanoTime() - restored) / 1_000_000);
        browser.awaitStatus(second, "APPROVED");
        browser.awaitStatus(first, "CANCELLED");
        browser.awaitMoney("credit-reserved", "200.00", "EUR");
        browser.awaitMoney("credit-available", "800.00", "EUR");

        List<String> states = browser.connectionStatesShown();
        LOG.info("the connection indicator showed {}", states);
        assertThat(states).as("the indicator's states").startsWith("live").endsWith("live");
        assertThat(states.subList(1, states.size() - 1)).as("between live and live").isNotEmpty()
                .allMatch(s -> s.equals("reconnecting") || s.equals("offline"));
        assertThat(browser.documentMark()).as("recovered without a reload").isEqualTo(mark);
    }

    @Test
    @DisplayName("the history shows the order's events, and the as-of slider shows PENDING at the first and APPROVED at the last")
    void the_history_timeline_and_the_asof_slider_show_the_order_over_time() {
        String customerId = api.createCustomer("Edsger Dijkstra", "1000.00", "EUR");
        openCustomer(app.url(), customerId);
        String orderId = placeOrderOnPage("120.00");
        browser.awaitStatus(orderId, "APPROVED");

        browser.driver.findElement(orderRow(orderId)).findElement(Browser.testId("order-open")).click();

        browser.await("the history panel of " + orderId, b -> b.visible("history-panel")
                && orderId.equals(b.byTestId("history-panel").getDomAttribute("data-order-id")));
        browser.await("two history entries", b -> b.driver.findElements(Browser.testId("history-entry")).size() == 2);
        List<WebElement> entries = browser.driver.findElements(Browser.testId("history-entry"));
        assertThat(entries).extracting(e -> e.getDomAttribute("data-type")).containsExactly("OrderCreated", "OrderApproved");
        assertThat(entries).extracting(e -> e.getDomAttribute("data-version")).containsExactly("1", "2");
        assertThat(entries).extracting(e -> e.findElement(Browser.testId("history-entry-type")).getText())
                .containsExactly("Order created", "Order approved");
        assertThat(browser.text("history-order-id")).contains(orderId);

        WebElement slider = browser.byTestId("asof-slider");
        assertThat(slider.getDomProperty("max")).isEqualTo("1");
        browser.awaitText("asof-status", "APPROVED"); // it starts at the newest

        slider.sendKeys(Keys.HOME);
        browser.await("the slider at the first entry", b -> "0".equals(slider.getDomProperty("value")));
        browser.awaitText("asof-status", "PENDING");
        browser.awaitText("asof-version", "version 1");
        browser.awaitText("asof-total", "120.00 EUR");
        assertThat(browser.text("asof-time")).contains("Order created");

        slider.sendKeys(Keys.END);
        browser.await("the slider at the last entry", b -> "1".equals(slider.getDomProperty("value")));
        browser.awaitText("asof-status", "APPROVED");
        browser.awaitText("asof-version", "version 2");
        assertThat(browser.text("asof-time")).contains("Order approved");
        assertThat(browser.visible("error-message")).as("no error").isFalse();
    }

    @Test
    @DisplayName("an order in another currency than the customer's shows the API's 422 as a readable message")
    void an_order_in_another_currency_shows_the_api_error_as_a_readable_message() throws Exception {
        String customerId = api.createCustomer("Barbara Liskov", "1000.00", "EUR");
        openCustomer(app.url(), customerId);
        List<String> before = browser.orderIds();

        new Select(browser.byTestId("order-currency")).selectByValue("USD");
        WebElement amount = browser.byTestId("order-amount");
        amount.sendKeys("10.00");
        browser.byTestId("place-order").click();

        browser.await("the error message", b -> b.visible("error-message") && !b.text("error-message").isEmpty());
        WebElement error = browser.byTestId("error-message");
        assertThat(error.getDomAttribute("data-status")).isEqualTo("422");
        assertThat(error.getDomAttribute("role")).isEqualTo("alert");
        assertThat(error.getText()).as("a sentence, not a raw body")
                .contains("The order was not placed")
                .doesNotContain("{").doesNotContain("problem+json").doesNotContain("undefined").doesNotContain("null");
        assertThat(browser.orderIds()).as("no order row for a refused order").isEqualTo(before);
        assertThat(browser.byTestId("place-order").isEnabled()).as("the form usable again").isTrue();

        browser.screenshot("an_order_in_another_currency_shows_the_api_error_as_a_readable_message-error");
        browser.byTestId("error-dismiss").click();
        browser.await("the error dismissed", b -> !b.visible("error-message"));
    }

    @Test
    @DisplayName("an unknown customer id shows the API's 404 as a readable message")
    void an_unknown_customer_id_shows_not_found_as_a_readable_message() {
        String customerId = api.createCustomer("Donald Knuth", "500.00", "EUR");
        openCustomer(app.url(), customerId);

        WebElement input = browser.byTestId("customer-id");
        input.clear();
        input.sendKeys(UUID.randomUUID().toString());
        browser.byTestId("use-customer").click();

        browser.await("the error message", b -> b.visible("error-message") && !b.text("error-message").isEmpty());
        WebElement error = browser.byTestId("error-message");
        assertThat(error.getDomAttribute("data-status")).isEqualTo("404");
        assertThat(error.getText()).contains("No customer with this id").doesNotContain("{");
        assertThat(browser.byTestId("customer-card").getDomAttribute("data-customer-id"))
                .as("the current customer stays").isEqualTo(customerId);
    }

    /**
     * The picture of the live page in the README: a customer with approved, rejected and cancelled
     * orders and the history of one open. Always saved to target/screenshots/; copied to
     * docs/screenshot.png only with {@code -Dorders.docs.screenshot=true}, so that an ordinary test run
     * does not change a committed file.
     */
    @Test
    @DisplayName("the live page with orders in every state (the README's screenshot)")
    void the_live_page_shows_orders_in_every_state() throws Exception {
        String customerId = api.createCustomer("Northwind Traders", "5000.00", "EUR");
        Dimension before = browser.driver.manage().window().getSize();
        browser.driver.manage().window().setSize(new Dimension(1600, 1160));
        try {
            pictureOrdersInEveryState(customerId);
        } finally {
            browser.driver.manage().window().setSize(before);
        }
    }

    private void pictureOrdersInEveryState(String customerId) throws Exception {
        openCustomer(app.url(), customerId);

        String approved = placeOrderOnPage("1250.00");
        browser.awaitStatus(approved, "APPROVED");
        String rejected = placeOrderOnPage("9800.00");
        browser.awaitStatus(rejected, "REJECTED");
        String cancelled = placeOrderOnPage("640.50");
        browser.awaitStatus(cancelled, "APPROVED");
        browser.driver.findElement(orderRow(cancelled)).findElement(Browser.testId("order-cancel")).click();
        browser.awaitStatus(cancelled, "CANCELLED");
        String second = placeOrderOnPage("980.00");
        browser.awaitStatus(second, "APPROVED");
        browser.awaitMoney("credit-reserved", "2230.00", "EUR");
        browser.awaitMoney("credit-available", "2770.00", "EUR");

        browser.driver.findElement(orderRow(cancelled)).findElement(Browser.testId("order-open")).click();
        browser.await("the cancelled order's three events", b -> b.driver.findElements(Browser.testId("history-entry")).size() == 3);
        browser.awaitText("asof-status", "CANCELLED");
        WebElement slider = browser.byTestId("asof-slider");
        slider.sendKeys(Keys.LEFT);
        browser.awaitText("asof-status", "APPROVED");

        // Nothing focused or hovered, no alert, scrolled to the top: the page as a person first sees it.
        browser.js("document.activeElement?.blur(); window.scrollTo(0, 0);");
        new Actions(browser.driver).moveToLocation(1, 1).perform();
        assertThat(browser.visible("error-message")).isFalse();
        Thread.sleep(400); // let transitions settle
        Path shot = browser.screenshot("live-page");
        if (Boolean.getBoolean("orders.docs.screenshot")) {
            Path docs = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent().resolve("docs");
            Files.createDirectories(docs);
            Files.copy(shot, docs.resolve("screenshot.png"), StandardCopyOption.REPLACE_EXISTING);
            LOG.info("README screenshot written to {}", docs.resolve("screenshot.png"));
        }
    }

    // ------------------------------------------------------------------ steps

    /** Opens the page with nothing remembered (no recent or current customer). */
    private void openFreshPage(String base) {
        browser.driver.get(base);
        browser.js("localStorage.clear();");
        browser.driver.get("about:blank");
        browser.driver.get(base);
        browser.await("the page loaded", b -> b.visible("create-customer"));
    }

    /** Opens the page on a customer (as a link to it would) and waits until its stream is live. */
    private void openCustomer(String base, String customerId) {
        browser.driver.get("about:blank");
        browser.driver.get(base + "#customer=" + customerId);
        browser.await("the card of customer " + customerId, b -> b.visible("customer-card")
                && customerId.equals(b.byTestId("customer-card").getDomAttribute("data-customer-id")));
        browser.await("the place-order form", b -> b.visible("place-order-section"));
        browser.awaitText("connection-state", "live");
    }

    /** Fills in and submits the new-customer form; returns the id the card shows. */
    private String createCustomerOnPage(String name, String limit) {
        browser.byTestId("customer-name").sendKeys(name);
        browser.byTestId("credit-amount").sendKeys(limit);
        browser.byTestId("create-customer").click();
        browser.await("the card of the new customer " + name, b -> b.visible("customer-card")
                && name.equals(b.text("customer-card-name")));
        String id = browser.byTestId("customer-card").getDomAttribute("data-customer-id");
        assertThat(id).matches("[0-9a-f-]{36}");
        assertThat(browser.text("customer-card-id")).isEqualTo(id);
        JsonObject stored = api.customer(id);
        assertThat(stored.getString("name")).isEqualTo(name);
        return id;
    }

    /** Places an order through the form; returns the id of the row that appears for it. */
    private String placeOrderOnPage(String amount) {
        List<String> before = browser.orderIds();
        WebElement input = browser.byTestId("order-amount");
        input.clear();
        input.sendKeys(amount);
        browser.byTestId("place-order").click();
        return browser.await("a new order row for " + amount,
                b -> b.orderIds().stream().filter(id -> !before.contains(id)).findFirst().orElse(null));
    }
}
