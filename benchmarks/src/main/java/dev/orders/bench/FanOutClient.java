package dev.orders.bench;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The fan-out benchmark's clients, in a JVM of their own: a process may hold about 20,000 open files
 * here, and the service's end of 10,000 connections already takes half of them, so the client ends
 * cannot live in the service's process. One event loop and one HTTP client with a pool as large as the
 * connections; each connection is an SSE stream {@code GET /api/customers/{id}/orders/stream} with the
 * operator's bearer token (from the environment variable {@value #TOKEN_ENV}), read as fast as it
 * arrives. Of each {@code event: order}, the id (the change-log position) and the arrival time (wall
 * clock, microseconds: the same clock as PostgreSQL's {@code now()} on this machine) are recorded.
 *
 * <p>Driven by {@link FanOut} over stdin, one command a line, answered on stdout with one line:
 * <ul>
 *   <li>{@code open FILE}: opens one stream per line of FILE (a customer id), at most {@value #OPENING} at
 *       a time; answers {@code opened OK FAILED MILLIS REASONS}</li>
 *   <li>{@code record}: forgets what was recorded and starts recording; answers {@code recording}</li>
 *   <li>{@code dump FILE}: stops recording, writes the records (connection, position, arrival micros as
 *       three longs each, after their count) to FILE; answers {@code dumped RECORDS CLOSED_BY_SERVER OPEN}</li>
 *   <li>{@code close}: closes every stream; answers {@code closed}</li>
 *   <li>{@code quit}</li>
 * </ul>
 */
public final class FanOutClient {

    static final String TOKEN_ENV = "ORDERS_BENCH_TOKEN";
    /** Streams being opened at once: enough to keep the service busy, few enough for its pool's wait queue. */
    static final int OPENING = 64;

    private final Vertx vertx;
    private final Context context;
    private final HttpClientAgent http;
    private final String authorization;
    private final List<Stream> open = new ArrayList<>();
    private final Records records = new Records();
    private volatile boolean recording;
    /** Event loop only: the index the next stream gets, streams open now, streams the service ended. */
    private int nextIndex;
    private int connected;
    private int closedByServer;

    private FanOutClient(String host, int port, String token, int maxConnections) {
        this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
        this.context = vertx.getOrCreateContext();
        this.authorization = "Bearer " + token;
        this.http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(host).setDefaultPort(port)
                        .setKeepAlive(true).setTcpNoDelay(true).setIdleTimeout(0).setConnectTimeout(30_000),
                new PoolOptions().setHttp1MaxSize(maxConnections + OPENING).setMaxWaitQueueSize(-1));
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int maxConnections = Integer.parseInt(args[2]);
        String token = System.getenv(TOKEN_ENV);
        if (token == null || token.isBlank()) {
            System.err.println("fanout-client: no token in " + TOKEN_ENV);
            System.exit(2);
        }
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        FanOutClient client = new FanOutClient(host, port, token, maxConnections);
        out.println("ready");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] command = line.strip().split(" ", 2);
            switch (command[0]) {
                case "open" -> out.println(client.open(Files.readAllLines(Path.of(command[1]))));
                case "record" -> {
                    client.records.clear();
                    client.recording = true;
                    out.println("recording");
                }
                case "dump" -> out.println(client.dump(Path.of(command[1])));
                case "close" -> {
                    client.closeAll();
                    out.println("closed");
                }
                case "quit" -> {
                    Http.await(client.vertx.close(), Duration.ofSeconds(30));
                    out.println("bye");
                    return;
                }
                default -> out.println("unknown command " + command[0]);
            }
        }
    }

    /** Opens one stream per customer id (blank lines skipped), {@value #OPENING} at a time. */
    private String open(List<String> customers) throws Exception {
        List<String> ids = customers.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
        long start = System.nanoTime();
        Promise<Void> done = Promise.promise();
        int[] state = new int[4]; // next, finished, ok, failed
        Map<String, Integer> reasons = new TreeMap<>();
        Runnable[] launch = new Runnable[1];
        int[] base = new int[1];
        launch[0] = () -> {
            if (state[0] >= ids.size()) {
                return;
            }
            int connection = base[0] + state[0];
            String customer = ids.get(state[0]++);
            openOne(connection, customer).onComplete(opened -> {
                state[1]++;
                if (opened.succeeded()) {
                    state[2]++;
                    connected++;
                    open.add(opened.result());
                } else {
                    state[3]++;
                    reasons.merge(String.valueOf(opened.cause().getMessage()), 1, Integer::sum);
                }
                if (state[1] == ids.size()) {
                    done.complete();
                } else {
                    launch[0].run();
                }
            });
        };
        context.runOnContext(ignored -> {
            base[0] = nextIndex;
            nextIndex += ids.size();
            if (ids.isEmpty()) {
                done.complete();
            }
            for (int i = 0; i < OPENING; i++) {
                launch[0].run();
            }
        });
        Http.await(done.future(), Duration.ofMinutes(30));
        String why = reasons.isEmpty() ? "-" : reasons.toString().replace(' ', '_');
        return "opened " + state[2] + " " + state[3] + " " + (System.nanoTime() - start) / 1_000_000 + " " + why;
    }

    /** The deadline for a stream's response headers: a stream not open by then counts as failed (TIMEOUT). */
    static final long OPEN_TIMEOUT_MS = 30_000;

    /**
     * Opens a stream and records every order change it carries. Connection indexes follow the lines of
     * the open files, over all of them (a failed open's index is not reused). An open that takes longer
     * than {@link #OPEN_TIMEOUT_MS} fails as {@code TIMEOUT} (its request reset, or its late stream closed).
     */
    private Future<Stream> openOne(int connection, String customer) {
        RequestOptions request = new RequestOptions().setMethod(HttpMethod.GET)
                .setURI("/api/customers/" + customer + "/orders/stream")
                .putHeader("Accept", "text/event-stream")
                .putHeader("Authorization", authorization)
                .setIdleTimeout(0);
        Promise<Stream> result = Promise.promise();
        io.vertx.core.http.HttpClientRequest[] granted = new io.vertx.core.http.HttpClientRequest[1];
        long timer = vertx.setTimer(OPEN_TIMEOUT_MS, id -> {
            if (result.tryFail("TIMEOUT") && granted[0] != null) {
                granted[0].reset();
            }
        });
        http.request(request).compose(req -> {
            granted[0] = req;
            return req.send();
        }).compose(response -> {
            if (response.statusCode() != 200) {
                return response.body().transform(body -> Future.<Stream>failedFuture("HTTP_" + response.statusCode()));
            }
            Stream stream = new Stream(response, new Parser(connection));
            response.handler(stream.parser::feed);
            response.endHandler(ignored -> stream.lost());
            response.exceptionHandler(ignored -> stream.lost());
            return Future.succeededFuture(stream);
        }).onComplete(opened -> {
            vertx.cancelTimer(timer);
            if (opened.succeeded() && !result.tryComplete(opened.result())) {
                opened.result().gone = true; // opened after its deadline: counted as failed, so not held
                opened.result().response.request().connection().close();
            } else if (opened.failed()) {
                result.tryFail(opened.cause());
            }
        });
        return result.future();
    }

    /** An open stream; its end counts as a drop unless this client closed it. */
    private final class Stream {
        final HttpClientResponse response;
        final Parser parser;
        boolean closedHere;
        boolean gone;

        Stream(HttpClientResponse response, Parser parser) {
            this.response = response;
            this.parser = parser;
        }

        void lost() {
            if (gone) {
                return;
            }
            gone = true;
            connected--;
            if (!closedHere) {
                closedByServer++;
            }
        }
    }

    private String dump(Path file) throws Exception {
        recording = false;
        Promise<String> done = Promise.promise();
        // on the event loop, so that every chunk that arrived before this command is in
        context.runOnContext(ignored -> {
            try {
                int count = records.write(file);
                done.complete("dumped " + count + " " + closedByServer + " " + connected);
            } catch (Exception e) {
                done.fail(e);
            }
        });
        return Http.await(done.future(), Duration.ofMinutes(2));
    }

    private void closeAll() throws Exception {
        Promise<Void> done = Promise.promise();
        context.runOnContext(ignored -> {
            for (Stream stream : open) {
                stream.closedHere = true;
                stream.response.request().connection().close();
            }
            open.clear();
            closedByServer = 0;
            done.complete();
        });
        Http.await(done.future(), Duration.ofMinutes(2));
    }

    /** Reads one stream's events: of each {@code event: order}, its id is recorded with the chunk's arrival time. */
    private final class Parser {
        private final int connection;
        private final StringBuilder partial = new StringBuilder();
        private boolean order;
        private long id = -1;

        Parser(int connection) {
            this.connection = connection;
        }

        void feed(Buffer chunk) {
            Instant now = Instant.now();
            long arrivedMicros = TimeUnit.SECONDS.toMicros(now.getEpochSecond()) + now.getNano() / 1_000;
            partial.append(chunk.toString(StandardCharsets.UTF_8));
            int from = 0;
            int end;
            while ((end = partial.indexOf("\n", from)) >= 0) {
                line(partial, from, end, arrivedMicros);
                from = end + 1;
            }
            partial.delete(0, from);
        }

        private void line(CharSequence text, int from, int end, long arrivedMicros) {
            if (end == from) {
                if (order && id >= 0 && recording) {
                    records.add(connection, id, arrivedMicros);
                }
                order = false;
                id = -1;
            } else if (startsWith(text, from, "event:")) {
                order = text.subSequence(from + 6, end).toString().strip().equals("order");
            } else if (startsWith(text, from, "id:")) {
                String value = text.subSequence(from + 3, end).toString().strip();
                id = value.isEmpty() ? -1 : Long.parseLong(value);
            }
        }

        private static boolean startsWith(CharSequence text, int from, String prefix) {
            if (text.length() - from < prefix.length()) {
                return false;
            }
            for (int i = 0; i < prefix.length(); i++) {
                if (text.charAt(from + i) != prefix.charAt(i)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Deliveries, three longs each, in growing arrays: no object per delivery. */
    static final class Records {
        private long[] values = new long[3 * 65_536];
        private int size;

        synchronized void add(int connection, long position, long arrivedMicros) {
            if (size + 3 > values.length) {
                values = Arrays.copyOf(values, values.length * 2);
            }
            values[size++] = connection;
            values[size++] = position;
            values[size++] = arrivedMicros;
        }

        synchronized void clear() {
            size = 0;
        }

        synchronized int write(Path file) throws Exception {
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16))) {
                out.writeInt(size / 3);
                for (int i = 0; i < size; i++) {
                    out.writeLong(values[i]);
                }
            }
            return size / 3;
        }

        /** Reads a file written by {@link #write}: {connection, position, arrival micros} per delivery. */
        static long[][] read(Path file) throws Exception {
            try (var in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
                int count = in.readInt();
                long[][] rows = new long[count][3];
                for (int i = 0; i < count; i++) {
                    rows[i][0] = in.readLong();
                    rows[i][1] = in.readLong();
                    rows[i][2] = in.readLong();
                }
                return rows;
            }
        }
    }
}
