package dev.orders.query.rebuild;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.orders.events.EventEnvelope;
import dev.orders.events.EventFormatException;
import dev.orders.events.EventJson;
import dev.orders.query.store.RebuildStore;
import dev.orders.query.store.RebuildStore.PageResult;
import dev.orders.query.store.RebuildStore.PreparedPage;
import dev.orders.query.store.RebuildStore.SwapResult;
import dev.orders.service.http.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Rebuilds every projection from the event store without downtime: reads the command side's event
 * feed ({@code GET <feed>/api/admin/events?after=P&limit=N}, never its tables, never Kafka) page by
 * page from position 0, folds it into fresh tables with the projector's own logic
 * ({@link RebuildStore#applyPage}), catches up with what the live projector applied meanwhile, and then
 * switches to the new tables in one transaction ({@link RebuildStore#swap}) while queries keep being
 * answered from the old ones until that commit. The order-change log is kept, so push resume ids stay
 * valid (see {@link RebuildStore}). Progress is logged (events, position, rate) and answered by
 * {@link #status()}.
 *
 * <p>One rebuild at a time: in this process by state, across processes by a PostgreSQL advisory lock.
 */
public final class Rebuilder {

    private static final Logger LOG = LoggerFactory.getLogger(Rebuilder.class);
    private static final long LOG_EVERY_MS = 2_000;
    private static final int SWAP_ATTEMPTS = 3;

    /** Where a rebuild is. */
    public enum State { IDLE, BUILDING, CATCHING_UP, SWITCHING, DONE, FAILED }

    private final Vertx vertx;
    private final PgConnectOptions connect;
    private final WebClient client;
    private final String feedUrl;
    private final int pageSize;
    private final Supplier<String> token;
    private volatile String bearer;

    private volatile State state = State.IDLE;
    /** Whether the current or last run refilled a lost schema ({@link #restore}) rather than rebuilt. */
    private volatile boolean restore;
    private volatile Instant startedAt;
    private volatile Instant finishedAt;
    private volatile long eventsRead;
    private volatile long feedPosition;
    private volatile long ordersWritten;
    private volatile long customersWritten;
    private volatile long pages;
    private volatile SwapResult swap;
    private volatile String error;
    private volatile long lastLogNanos;
    private volatile long eventsTotal;
    private volatile Supplier<Future<Long>> headPosition = () -> Future.succeededFuture(0L);

    /**
     * @param connect  the query side's PostgreSQL: a rebuild runs on a connection of its own, outside the
     *                 pool, so that its session lock ends with it whatever happens
     * @param feedUrl  base URL of the command side (its {@code /api/admin/events})
     * @param pageSize events per feed page and per rebuild transaction
     * @param token    the operator token presented to the event feed, asked for once per rebuild, and again
     *                 when the feed answers 401
     */
    public Rebuilder(Vertx vertx, PgConnectOptions connect, String feedUrl, int pageSize, Supplier<String> token) {
        this.vertx = vertx;
        this.token = Objects.requireNonNull(token, "token");
        this.connect = new PgConnectOptions(connect).setCachePreparedStatements(false);
        this.feedUrl = Objects.requireNonNull(feedUrl, "feedUrl").replaceAll("/+$", "");
        this.pageSize = pageSize;
        this.client = WebClient.create(vertx, new WebClientOptions()
                .setConnectTimeout(5_000).setIdleTimeout(60));
    }

    /**
     * Where the events end, for progress: the query side plugs in the last position its projector applied
     * (positions are gap-free from 1, so it is about the number of events the feed will give).
     */
    public Rebuilder headPosition(Supplier<Future<Long>> head) {
        this.headPosition = Objects.requireNonNull(head, "head");
        return this;
    }

    /**
     * Starts a rebuild in the background and answers its status at once.
     *
     * @return failed with a 409 problem when a rebuild is already running here
     */
    public synchronized JsonObject start() {
        begin(false);
        LOG.info("rebuild started from the event feed {}", feedUrl);
        finish(run(), "rebuild", "the live tables are unchanged");
        return status();
    }

    /**
     * Refills the live tables of a query schema that was lost and created again (empty) from the event
     * feed: every event from position 0, page by page, through {@code fold} (the projector's own
     * transaction), so that the views, the event log, the order-change log and each order's newest change
     * are written exactly as the projector writes them. No tables of its own and no switch: the tables are
     * new and nothing else writes them meanwhile. Shows in {@link #status()} like a rebuild, with
     * {@code "restore": true}.
     *
     * @return failed with a 409 problem when a rebuild is already running here
     */
    public synchronized Future<Void> restore(Function<List<EventEnvelope>, Future<PageResult>> fold) {
        if (running()) {
            return Future.failedFuture(ProblemException.conflict("a rebuild is already running (" + state + ")"));
        }
        begin(true);
        LOG.info("restore of the lost read model started from the event feed {}", feedUrl);
        return finish(readFeed(page -> fold.apply(page.prepared().events()), 0), "restore",
                "it starts again from the beginning");
    }

    private void begin(boolean restoring) {
        if (running()) {
            throw ProblemException.conflict("a rebuild is already running (" + state + "); see GET /api/admin/rebuild");
        }
        bearer = null;
        restore = restoring;
        state = State.BUILDING;
        startedAt = Instant.now();
        finishedAt = null;
        eventsRead = 0;
        feedPosition = 0;
        ordersWritten = 0;
        customersWritten = 0;
        pages = 0;
        eventsTotal = 0;
        readHead();
        swap = null;
        error = null;
        lastLogNanos = System.nanoTime();
    }

    private Future<Void> finish(Future<Void> work, String what, String ifFailed) {
        return work.andThen(done -> {
            finishedAt = Instant.now();
            if (done.succeeded()) {
                state = State.DONE;
                LOG.info("{} done: {} events in {} ms ({} events/s), {} order and {} customer rows written; switch: {}",
                        what, eventsRead, elapsedMs(), rate(), ordersWritten, customersWritten,
                        swap == null ? "-" : swap.toJson().encode());
            } else {
                state = State.FAILED;
                error = String.valueOf(done.cause().getMessage());
                LOG.warn("{} failed after {} events; {}: {}", what, eventsRead, ifFailed, error, done.cause());
            }
        });
    }

    /** Whether a rebuild is under way in this process. */
    public boolean running() {
        return state == State.BUILDING || state == State.CATCHING_UP || state == State.SWITCHING;
    }

    /** The status of the current or last rebuild: state, counts, rate, the switch's figures, the error. */
    public JsonObject status() {
        JsonObject json = new JsonObject()
                .put("state", state.name())
                .put("restore", restore)
                .put("feed", feedUrl)
                .put("startedAt", startedAt == null ? null : startedAt.toString())
                .put("finishedAt", finishedAt == null ? null : finishedAt.toString())
                .put("elapsedMs", startedAt == null ? 0 : elapsedMs())
                .put("eventsRead", eventsRead)
                .put("feedPosition", feedPosition)
                .put("pages", pages)
                .put("orderRowsWritten", ordersWritten)
                .put("customerRowsWritten", customersWritten)
                .put("eventsPerSecond", rate());
        long total = Math.max(eventsTotal, feedPosition);
        if (total > 0) {
            long left = state == State.DONE ? 0 : Math.max(0, total - feedPosition);
            long perSecond = rate();
            json.put("eventsTotal", total)
                    .put("progress", state == State.DONE ? 1.0 : Math.min(1.0, (double) feedPosition / total))
                    .put("secondsLeft", state == State.DONE ? Long.valueOf(0)
                            : perSecond > 0 ? Long.valueOf((left + perSecond - 1) / perSecond) : null);
        }
        if (swap != null) {
            json.put("switch", swap.toJson());
        }
        if (error != null) {
            json.put("error", error);
        }
        return json;
    }

    public Future<Void> close() {
        client.close();
        return Future.succeededFuture();
    }

    // --- the run ---------------------------------------------------------------------------------------

    private Future<Void> run() {
        return PgConnection.connect(vertx, connect).compose(conn -> {
            RebuildStore store = new RebuildStore(conn);
            return store.tryLock().compose(locked -> {
                if (!locked) {
                    return Future.<Void>failedFuture(new IllegalStateException(
                            "another process is rebuilding the query side's projections"));
                }
                long created = System.nanoTime();
                return store.createTables()
                        .onSuccess(v -> LOG.info("rebuild: fresh tables created in {} ms",
                                Duration.ofNanos(System.nanoTime() - created).toMillis()))
                        .compose(v -> readFeed(page -> store.applyPage(page.prepared()), 0))
                        .compose(v -> {
                            state = State.CATCHING_UP;
                            return store.copyFromLive();
                        })
                        .compose(copied -> {
                            LOG.info("rebuild: feed read to position {}; {} live events copied beside it", feedPosition,
                                    copied);
                            // The feed may have grown while the live copy ran: read its tail once more.
                            return readFeed(page -> store.applyPage(page.prepared()), feedPosition);
                        })
                        .compose(v -> store.analyze().otherwiseEmpty())
                        .compose(v -> {
                            state = State.SWITCHING;
                            long switching = System.nanoTime();
                            return swapWithRetries(store, 1).onSuccess(result -> LOG.info(
                                    "rebuild: switched to the rebuilt tables in {} ms",
                                    Duration.ofNanos(System.nanoTime() - switching).toMillis()));
                        })
                        .<Void>map(result -> {
                            swap = result;
                            return null;
                        })
                        .recover(failure -> store.dropTables().otherwiseEmpty()
                                .transform(ignored -> Future.<Void>failedFuture(failure)))
                        .eventually(() -> store.unlock().otherwiseEmpty());
            }).eventually(conn::close);
        });
    }

    private Future<SwapResult> swapWithRetries(RebuildStore store, int attempt) {
        return store.swap().recover(failure -> {
            if (attempt >= SWAP_ATTEMPTS) {
                return Future.failedFuture(failure);
            }
            LOG.warn("rebuild: switch attempt {} failed, retrying: {}", attempt, failure.getMessage());
            Promise<Void> pause = Promise.promise();
            vertx.setTimer(200L * attempt, id -> pause.complete());
            return pause.future().compose(v -> swapWithRetries(store, attempt + 1));
        });
    }

    /**
     * Reads and folds pages until a page shorter than the page size says the head is reached. Pipelined,
     * one page ahead at most: while a page is folded, the next one is fetched and decoded (on a worker), so
     * that at most two pages are in memory.
     */
    private Future<Void> readFeed(Function<Page, Future<PageResult>> fold, long after) {
        return foldPages(fold, fetch(after));
    }

    private Future<Void> foldPages(Function<Page, Future<PageResult>> fold, Future<Page> pending) {
        return pending.compose(page -> {
            boolean more = page.size() >= pageSize;
            Future<Page> next = more ? fetch(page.lastPosition()) : null;
            long folding = System.nanoTime();
            return fold.apply(page).compose(result -> {
                // A restore is rare and the service waits for it: each page is told.
                LOG.atLevel(restore ? Level.INFO : Level.DEBUG).log(
                        "{}: page after {} fetched and decoded in {} ms, folded in {} ms", restore ? "restore" : "rebuild",
                        page.after(), Duration.ofNanos(page.fetchNanos()).toMillis(),
                        Duration.ofNanos(System.nanoTime() - folding).toMillis());
                progress(page, result);
                return more ? foldPages(fold, next) : Future.<Void>succeededFuture();
            });
        });
    }

    private void progress(Page page, PageResult result) {
        pages++;
        eventsRead += page.size();
        feedPosition = page.lastPosition();
        ordersWritten += result.ordersWritten();
        customersWritten += result.customersWritten();
        readHead();
        long now = System.nanoTime();
        if (now - lastLogNanos >= Duration.ofMillis(LOG_EVERY_MS).toNanos()) {
            lastLogNanos = now;
            LOG.info("rebuild: {} events read (position {}), {} order and {} customer rows written, {} events/s",
                    eventsRead, feedPosition, ordersWritten, customersWritten, rate());
        }
    }

    /** A decoded page of the feed, ready to fold; {@code fetchNanos} from the request to the decoded page. */
    record Page(long after, PreparedPage prepared, long lastPosition, long fetchNanos) {
        int size() {
            return prepared.events().size();
        }
    }

    /** A page of the feed; a 401 (the token expired during a long rebuild) asks for a fresh token once. */
    private Future<Page> fetch(long after) {
        return fetch(after, true, System.nanoTime());
    }

    private Future<Page> fetch(long after, boolean mayRenewToken, long started) {
        String authorization;
        try {
            authorization = bearer();
        } catch (RuntimeException noToken) {
            return Future.failedFuture(noToken);
        }
        return client.getAbs(feedUrl + "/api/admin/events")
                .addQueryParam("after", Long.toString(after))
                .addQueryParam("limit", Integer.toString(pageSize))
                .bearerTokenAuthentication(authorization)
                .timeout(30_000)
                .send()
                .compose(response -> {
                    if (response.statusCode() == 200) {
                        // decoding a page is CPU work: off the event loop
                        Buffer body = response.body();
                        return vertx.executeBlocking(() -> parse(body, after, started), false);
                    }
                    if (response.statusCode() == 401 && mayRenewToken) {
                        bearer = null;
                        return fetch(after, false, started);
                    }
                    return Future.failedFuture(new IllegalStateException("the event feed answered "
                            + response.statusCode() + ": " + response.bodyAsString()));
                });
    }

    private String bearer() {
        String current = bearer;
        if (current == null) {
            current = token.get();
            bearer = current;
        }
        return current;
    }

    /**
     * Decodes a feed page, {@code {"events": [envelope, ...], ...}}, and prepares its fold. Each envelope is
     * decoded once, from its own bytes: the page itself is only tokenized to find where each one begins and
     * ends. An event that does not decode fails the rebuild (the live tables stay).
     */
    static Page parse(Buffer body, long after, long started) {
        byte[] bytes = body == null ? new byte[0] : body.getBytes();
        List<EventEnvelope> events = new ArrayList<>();
        long last = after;
        try (JsonParser parser = EventJson.mapper().getFactory().createParser(bytes)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalStateException("the event feed's answer is not a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if (!"events".equals(field) || value != JsonToken.START_ARRAY) {
                    parser.skipChildren();
                    continue;
                }
                for (JsonToken element = parser.nextToken(); element != JsonToken.END_ARRAY; element = parser.nextToken()) {
                    if (element != JsonToken.START_OBJECT) {
                        throw new IllegalStateException("event after position " + last
                                + " of the feed does not decode: not a JSON object");
                    }
                    int start = Math.toIntExact(parser.currentTokenLocation().getByteOffset());
                    parser.skipChildren();
                    int end = Math.toIntExact(parser.currentLocation().getByteOffset());
                    EventEnvelope envelope;
                    try {
                        envelope = EventJson.decode(Arrays.copyOfRange(bytes, start, end));
                    } catch (EventFormatException e) {
                        throw new IllegalStateException("event after position " + last + " of the feed does not decode: "
                                + e.getMessage(), e);
                    }
                    if (envelope.globalPosition() <= last) {
                        throw new IllegalStateException("the event feed went backwards at position " + envelope.globalPosition());
                    }
                    last = envelope.globalPosition();
                    events.add(envelope);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("the event feed's answer is not JSON: " + e.getMessage(), e);
        }
        return new Page(after, RebuildStore.prepare(events), last, System.nanoTime() - started);
    }

    private long elapsedMs() {
        Instant end = finishedAt == null ? Instant.now() : finishedAt;
        return Duration.between(startedAt, end).toMillis();
    }

    /** Refreshes {@link #eventsTotal} in the background; a failed read keeps the last value. */
    private void readHead() {
        headPosition.get().onSuccess(head -> eventsTotal = Math.max(eventsTotal, head));
    }

    private long rate() {
        long ms = startedAt == null ? 0 : elapsedMs();
        return ms <= 0 ? 0 : eventsRead * 1000 / ms;
    }
}
