package org.epoll4j.examples.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain blocking upstream for the proxy's tests, a thread per connection, on 127.0.0.1 and an ephemeral port. What
 * it does with each connection is the test's {@link Behaviour}; what it saw is reported through {@link #results}.
 */
final class TestUpstream implements AutoCloseable {
    /** What the upstream does with one accepted connection; the returned value goes to {@link #results}. */
    interface Behaviour {
        long serve(Socket s) throws IOException;
    }

    /** Echoes every byte, and half-closes after the client's FIN: returns the bytes echoed. */
    static final Behaviour ECHO = s -> {
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        byte[] buf = new byte[7919]; // a prime: reads and writes of the proxy do not line up with ours
        long total = 0;
        for (int n; (n = in.read(buf)) > 0; ) {
            out.write(buf, 0, n);
            total += n;
        }
        s.shutdownOutput();
        return total;
    };

    private final ServerSocket server;
    private final Behaviour behaviour;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    /** The thread serving each accepted connection: close() waits for them, so that their sockets are closed. */
    private final List<Thread> serving = new CopyOnWriteArrayList<>();
    private final AtomicInteger accepted = new AtomicInteger();
    /** One entry per connection served: what the behaviour returned, or -1 if it failed. */
    final LinkedBlockingQueue<Long> results = new LinkedBlockingQueue<>();
    private final Thread acceptor;

    TestUpstream(Behaviour behaviour) throws IOException {
        this.behaviour = behaviour;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::acceptLoop, "test-upstream-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    int accepted() {
        return accepted.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException closed) {
                return;
            }
            accepted.incrementAndGet();
            open.add(s);
            Thread t = new Thread(() -> {
                long result = -1;
                try {
                    result = behaviour.serve(s);
                } catch (IOException e) {
                    // the proxy closed or reset us: reported as -1
                } finally {
                    try {
                        s.close();
                    } catch (IOException ignored) {
                        // closing
                    }
                    open.remove(s);
                    results.add(result);
                    Changes.ALL.bump(); // its fd is closed: a test waiting for the fds to go re-checks
                }
            }, "test-upstream-conn");
            t.setDaemon(true);
            serving.add(t);
            t.start();
        }
    }

    /**
     * Stops accepting, closes every connection still open, and waits (10 s at most) for the threads serving them to
     * end: a socket closed while its thread is blocked in it is only really closed (its fd released) when that
     * thread leaves the call, and the tests count fds right after this returns.
     */
    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) {
            s.close();
        }
        try {
            acceptor.join(10_000);
            for (Thread t : serving) {
                t.join(10_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the upstream's threads", e);
        }
    }
}
