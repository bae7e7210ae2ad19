package dev.orders.app;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy in front of the system that can play a server going away: {@link #drop()} cuts every
 * open connection (the page's event stream included) and answers every new one by closing it at
 * once, until {@link #restore()}. The page, opened through the proxy, sees exactly what a browser
 * sees when the server or the network between drops: its stream ends, reconnects fail, then work.
 * {@link #refuse()} plays a balancer with no node behind it instead: the open connections are cut and
 * every new request is answered {@code 503}, an HTTP error after which a browser's stream gives up.
 */
final class DroppingProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final int targetPort;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final List<Exchange> exchanges = new CopyOnWriteArrayList<>();
    private final AtomicLong requests = new AtomicLong();
    private volatile boolean down;
    private volatile boolean refusing;
    private volatile boolean closed;

    DroppingProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread.ofVirtual().name("proxy-accept").start(this::acceptLoop);
    }

    int port() {
        return listener.getLocalPort();
    }

    String url() {
        return "http://localhost:" + port() + "/";
    }

    /** Cuts every connection and refuses service (accept, then close) until {@link #restore()}. */
    void drop() {
        down = true;
        for (Socket socket : open) {
            closeQuietly(socket);
        }
        open.clear();
    }

    /**
     * What went through one connection, as the bytes were (ISO-8859-1, one char a byte): what the browser
     * sent, what it was answered (the first MiB of each), and the number of the last request it carried.
     */
    static final class Exchange {
        private final StringBuffer request = new StringBuffer();
        private final StringBuffer response = new StringBuffer();
        private volatile long lastRequest;

        String request() {
            return request.toString();
        }

        String response() {
            return response.toString();
        }

        /** Requests through the proxy are numbered in the order they came: this connection's last one. */
        long lastRequest() {
            return lastRequest;
        }
    }

    /** Every connection so far, refused ones included, in the order they were accepted. */
    List<Exchange> exchanges() {
        return List.copyOf(exchanges);
    }

    /** Cuts every connection and answers every new request {@code 503} until {@link #restore()}. */
    void refuse() {
        refusing = true;
        drop();
        down = false;
    }

    void restore() {
        down = false;
        refusing = false;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (down) {
                closeQuietly(client);
                continue;
            }
            if (refusing) {
                Exchange exchange = new Exchange();
                exchanges.add(exchange);
                Thread.ofVirtual().start(() -> answer503(client, exchange));
                continue;
            }
            Thread.ofVirtual().start(() -> connect(client));
        }
    }

    private void connect(Socket client) {
        Socket server = new Socket();
        try {
            server.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5_000);
            client.setTcpNoDelay(true);
            server.setTcpNoDelay(true);
        } catch (IOException e) {
            closeQuietly(client);
            closeQuietly(server);
            return;
        }
        open.add(client);
        open.add(server);
        if (down) { // dropped while connecting
            drop();
            return;
        }
        Exchange exchange = new Exchange();
        exchanges.add(exchange);
        Thread.ofVirtual().start(() -> pump(client, server, exchange, true));
        Thread.ofVirtual().start(() -> pump(server, client, exchange, false));
    }

    /** Reads the request's head (closing before would reset the connection under the answer), answers 503, closes. */
    private void answer503(Socket client, Exchange exchange) {
        try (client) {
            client.setSoTimeout(5_000);
            InputStream in = client.getInputStream();
            String end = "\r\n\r\n";
            int matched = 0;
            while (matched < end.length()) {
                int b = in.read();
                if (b < 0) {
                    return;
                }
                exchange.request.append((char) b);
                matched = b == end.charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
            }
            exchange.lastRequest = requests.incrementAndGet();
            String answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            exchange.response.append(answer);
            OutputStream out = client.getOutputStream();
            out.write(answer.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            client.shutdownOutput();
            while (in.read() >= 0) {
                // until the browser closes its side
            }
        } catch (IOException e) {
            // the browser went away
        }
    }

    private void pump(Socket from, Socket to, Exchange exchange, boolean fromBrowser) {
        byte[] buffer = new byte[16 * 1024];
        StringBuffer record = fromBrowser ? exchange.request : exchange.response;
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                if (record.length() < 1 << 20) {
                    String bytes = new String(buffer, 0, n, StandardCharsets.ISO_8859_1);
                    if (fromBrowser && bytes.contains("HTTP/1.1\r\n")) {
                        exchange.lastRequest = requests.incrementAndGet();
                    }
                    record.append(bytes);
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // one side went away: close both below
        } finally {
            closeQuietly(from);
            closeQuietly(to);
            open.remove(from);
            open.remove(to);
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already gone
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        drop();
    }

    private static void closeQuietly(ServerSocket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // already closed
        }
    }
}
