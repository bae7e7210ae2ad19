package dev.orders.devservers;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/** Free loopback ports and checks that a port can be bound or answers. */
final class Ports {

    static final String LOOPBACK = "127.0.0.1";

    private Ports() {
    }

    /** @return a port that was free on 127.0.0.1 a moment ago */
    static int free() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new InfrastructureException("no free port on " + LOOPBACK + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param port the configured port, 0 for any free one
     * @param key  the config key that set it, for the error message
     * @return the port, checked to be free
     */
    static int freeOrConfigured(int port, String key) {
        if (port == 0) {
            return free();
        }
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getByName(LOOPBACK))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new InfrastructureException("port " + port + " on " + LOOPBACK + " (config key '" + key
                    + "') is already in use; choose another or 0 for any free port");
        }
    }

    /** @return whether something accepts connections on 127.0.0.1:port */
    static boolean answers(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(LOOPBACK, port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
