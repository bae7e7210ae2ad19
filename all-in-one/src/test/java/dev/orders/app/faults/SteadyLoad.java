package dev.orders.app.faults;

import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Steady load of orders, cancels and reads, one client per customer at a fixed pace, kept up through a
 * fault. Every command the service acknowledged ({@code 2xx}) is written down, for the audit.
 */
final class SteadyLoad {

    /** An order the service acknowledged: {@code 202} to {@code POST /api/orders}. */
    record PlacedOrder(UUID orderId, UUID customerId, BigDecimal total) {
    }

    /** A customer of the load, with its token. */
    record Customer(UUID id, String token) {
    }

    private final ServiceClient client;
    private final List<Customer> customers;
    private final double commandsPerSecondEach;
    final Queue<PlacedOrder> placed = new ConcurrentLinkedQueue<>();
    /** Orders whose cancel the service acknowledged. */
    final Queue<UUID> cancelled = new ConcurrentLinkedQueue<>();
    final AtomicInteger reads = new AtomicInteger();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running;

    private SteadyLoad(ServiceClient client, List<Customer> customers, double commandsPerSecondEach) {
        this.client = client;
        this.customers = customers;
        this.commandsPerSecondEach = commandsPerSecondEach;
    }

    /** Creates the customers (each with {@code limit} EUR of credit) through the API, before the load starts. */
    static SteadyLoad forCustomers(ServiceClient client, int count, BigDecimal limit, double commandsPerSecondEach)
            throws Exception {
        String operator = client.operatorToken();
        List<Customer> customers = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ServiceClient.Answer created = client.command("POST", "api/customers", operator, new JsonObject()
                    .put("name", "Fault " + i)
                    .put("creditLimit", money(limit)));
            if (created.status() != 201) {
                throw new IllegalStateException("creating a customer answered " + created);
            }
            UUID id = UUID.fromString(created.body().getString("customerId"));
            customers.add(new Customer(id, client.customerToken(id)));
        }
        return new SteadyLoad(client, customers, commandsPerSecondEach);
    }

    List<Customer> customers() {
        return customers;
    }

    void start() {
        running = true;
        for (int i = 0; i < customers.size(); i++) {
            Customer customer = customers.get(i);
            long seed = i;
            threads.add(Thread.ofVirtual().name("load-" + i).start(() -> run(customer, new Random(seed))));
        }
    }

    /** Stops sending new commands and waits for those under way (each retried until answered). */
    void stop() throws InterruptedException {
        running = false;
        for (Thread thread : threads) {
            thread.join();
        }
    }

    private void run(Customer customer, Random random) {
        List<UUID> mine = new ArrayList<>();
        long pauseMillis = (long) (1000 / commandsPerSecondEach);
        try {
            while (running) {
                double dice = random.nextDouble();
                if (dice < 0.2 && !mine.isEmpty()) {
                    UUID order = mine.remove(random.nextInt(mine.size()));
                    ServiceClient.Answer answer = client.command("POST", "api/orders/" + order + "/cancel", customer.token(), null);
                    if (answer.status() == 202) {
                        cancelled.add(order);
                    }
                } else if (dice < 0.4 && !mine.isEmpty()) {
                    if (client.get("api/orders/" + mine.get(random.nextInt(mine.size())), customer.token()).isPresent()) {
                        reads.incrementAndGet();
                    }
                } else {
                    BigDecimal total = BigDecimal.valueOf(500 + random.nextInt(5500), 2);
                    ServiceClient.Answer answer = client.command("POST", "api/orders", customer.token(), new JsonObject()
                            .put("customerId", customer.id().toString()).put("total", money(total)));
                    if (answer.status() == 202) {
                        UUID order = UUID.fromString(answer.body().getString("orderId"));
                        placed.add(new PlacedOrder(order, customer.id(), total));
                        mine.add(order);
                    }
                }
                Thread.sleep(pauseMillis);
            }
        } catch (Exception e) {
            throw new IllegalStateException("the load of customer " + customer.id() + " stopped", e);
        }
    }

    Map<UUID, PlacedOrder> placedById() {
        Map<UUID, PlacedOrder> byId = new ConcurrentHashMap<>();
        placed.forEach(order -> byId.put(order.orderId(), order));
        return byId;
    }

    private static JsonObject money(BigDecimal amount) {
        return new JsonObject().put("amount", amount.setScale(2).toPlainString()).put("currency", "EUR");
    }
}
