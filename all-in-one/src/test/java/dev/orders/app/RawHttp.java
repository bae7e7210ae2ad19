package dev.orders.app;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 written byte for byte on a socket, for requests that a well-behaved client refuses to send:
 * odd request lines, raw path bytes, conflicting framing headers, header lines that are not headers.
 * Every request asks for {@code Connection: close}, so its answer is everything the server sends.
 */
final class RawHttp {

    /**
     * What the server answered: the status (-1 when it closed or timed out without a status line), the
     * headers (names in lower case, the first of each), the body, and what went wrong on the wire.
     */
    record Exchange(int status, Map<String, String> headers, String body, String error) {

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        @Override
        public String toString() {
            String text = body.length() > 300 ? body.substring(0, 300) + "..." : body;
            return status + (error == null ? "" : " (" + error + ")") + " " + text.replace("\r", "").replace("\n", " ");
        }
    }

    private RawHttp() {
    }

    /** A request: the request line, the headers as given, then {@code Connection: close} and the body as is. */
    static byte[] request(String requestLine, String headerLines, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes((requestLine + "\r\n" + headerLines + "Connection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        if (body != null) {
            out.writeBytes(body);
        }
        return out.toByteArray();
    }

    /** The body as one chunk and the last, empty one. */
    static byte[] chunked(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes((Integer.toHexString(body.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(body);
        out.writeBytes("\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return out.toByteArray();
    }

    /** Sends the bytes on a new connection and reads the answer until the server closes it. */
    static Exchange exchange(int port, byte[] request, int timeoutMillis) {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        String error = null;
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            socket.setSoTimeout(timeoutMillis);
            try {
                OutputStream out = socket.getOutputStream();
                out.write(request);
                out.flush();
            } catch (IOException refusedMidway) {
                // the server answered (413, 431) and closed before taking the whole request: read what it said
                error = "write: " + refusedMidway.getMessage();
            }
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[16 * 1024];
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    received.write(buffer, 0, n);
                }
            } catch (SocketTimeoutException timeout) {
                error = "no end of the answer within " + timeoutMillis + " ms";
            } catch (IOException reset) {
                error = (error == null ? "" : error + "; ") + "read: " + reset.getMessage();
            }
        } catch (IOException e) {
            error = "connect: " + e.getMessage();
        }
        return parse(received.toByteArray(), error);
    }

    private static Exchange parse(byte[] bytes, String error) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/1.") || end < 0) {
            return new Exchange(-1, Map.of(), text, error == null ? "no status line" : error);
        }
        String[] lines = text.substring(0, end).split("\r\n");
        int status;
        try {
            status = Integer.parseInt(lines[0].split(" ")[1]);
        } catch (RuntimeException e) {
            return new Exchange(-1, Map.of(), text, "bad status line: " + lines[0]);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.putIfAbsent(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        byte[] rest = java.util.Arrays.copyOfRange(bytes, end + 4, bytes.length);
        String body = "chunked".equalsIgnoreCase(headers.get("transfer-encoding")) ? dechunk(rest)
                : new String(rest, StandardCharsets.UTF_8);
        return new Exchange(status, headers, body, error);
    }

    private static String dechunk(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        StringBuilder body = new StringBuilder();
        int at = 0;
        while (at < text.length()) {
            int lineEnd = text.indexOf("\r\n", at);
            if (lineEnd < 0) {
                break;
            }
            int size;
            try {
                size = Integer.parseInt(text.substring(at, lineEnd).split(";")[0].trim(), 16);
            } catch (NumberFormatException e) {
                break;
            }
            if (size == 0) {
                break;
            }
            int start = lineEnd + 2;
            body.append(text, start, Math.min(text.length(), start + size));
            at = start + size + 2;
        }
        return new String(body.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }
}
