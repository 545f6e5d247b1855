package org.epoll4j.net;

import org.epoll4j.Reactor;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/** Helpers shared by the net integration tests. */
final class NetTests {
    private NetTests() {
    }

    /** A reactor running on its own daemon thread. */
    static Reactor startReactor(String name) throws Exception {
        Reactor r = Reactor.builder().name(name).build();
        r.start();
        return r;
    }

    /** Closes the reactor (and so every connection and server on it) and waits for its thread. */
    static void stop(Reactor r) throws InterruptedException {
        if (r != null) {
            r.close();
            assertTrue(r.awaitTermination(Duration.ofSeconds(10)), "reactor terminated");
        }
    }

    /** Evaluates {@code what} on the reactor's thread (where server and connection state live). */
    static <T> T onLoop(Reactor r, Supplier<T> what) throws Exception {
        return CompletableFuture.supplyAsync(what, r).get(10, TimeUnit.SECONDS);
    }

    /** A blocking client socket with a 10 s read timeout. */
    static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        s.setSoTimeout(10_000);
        s.setTcpNoDelay(true);
        return s;
    }

    static byte[] readFully(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        assertEquals(n, b.length, "bytes before EOF");
        return b;
    }

    /** Reads until EOF or a reset; true if the peer closed (either way) within the socket's timeout. */
    static boolean readsEofOrReset(Socket s) throws IOException {
        try {
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            while (in.read(buf) >= 0) {
                // drain whatever the server sent before closing
            }
            return true;
        } catch (java.net.SocketException reset) {
            return true;
        }
    }
}
