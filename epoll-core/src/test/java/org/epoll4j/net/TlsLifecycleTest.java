package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A TLS connection's life around its handshake: it is published to {@link TcpServer#connections()} (and so to
 * broadcasts) only once the handshake finished, a peer that fails the handshake is a connection event, not a handler
 * failure, and a delegated task in flight neither spins the loop nor outlives the connection.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class TlsLifecycleTest {
    private static TlsTestKit kit;

    @BeforeAll
    static void certificates() throws Exception {
        kit = TlsTestKit.get();
    }

    private static SSLSocket client(TcpServer server) throws Exception {
        InetSocketAddress at = (InetSocketAddress) server.localAddress();
        SSLSocket s = (SSLSocket) kit.peerClientContext().getSocketFactory().createSocket(at.getAddress(), at.getPort());
        s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        return s;
    }

    /** A broadcast while the handshake runs must not overtake the greeting onOpen writes. */
    @Test
    void broadcastNeverOvertakesTheGreeting() throws Exception {
        Tracking h = new Tracking() {
            @Override
            public void onOpen(Connection c) throws Exception {
                super.onOpen(c);
                c.write("WELCOME\n");
            }
        };
        try (Loop loop = Loop.start("tls-publish")) {
            TcpServer server = TcpServer.builder(loop.reactor).tls(TlsConfig.server(kit.serverContext())).handler(h)
                    .start();
            try (SSLSocket s = client(server)) { // connected, handshake not started
                loop.barrier(); // accepted
                int during = server.broadcast(ByteBuffer.wrap("EARLY\n".getBytes(StandardCharsets.US_ASCII)));
                s.startHandshake();
                h.nextOpen();
                assertEquals(1, loop.call(() -> server.connections().size()), "published once open");
                assertEquals(1, server.broadcast(ByteBuffer.wrap("LATE\n".getBytes(StandardCharsets.US_ASCII))));
                BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                        StandardCharsets.US_ASCII));
                assertEquals("WELCOME", in.readLine(), "the greeting comes first (broadcast during the handshake "
                        + "reached " + during + ")");
                assertEquals(0, during, "not published before the handshake");
                assertEquals("LATE", in.readLine());
            }
            h.nextClose();
            server.close();
        }
    }

    /**
     * A plaintext client on a TLS port: the connection closes with the SSLException, counted as a handshake failure;
     * no handler failure (no WARNING with a stack, no ReactorStats.handlerFailures, no JFR HandlerFailure).
     */
    @Test
    void aPeersBadHandshakeIsNotAHandlerFailure() throws Exception {
        Tracking h = new Tracking();
        try (Loop loop = Loop.start("tls-bad-peer")) {
            TcpServer server = TcpServer.builder(loop.reactor).tls(TlsConfig.server(kit.serverContext())).handler(h)
                    .start();
            InetSocketAddress at = (InetSocketAddress) server.localAddress();
            for (int i = 1; i <= 3; i++) {
                try (Socket raw = new Socket()) {
                    raw.connect(at);
                    raw.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                    raw.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    Closed closed = h.nextClose();
                    assertInstanceOf(SSLException.class, closed.cause());
                    InputStream in = raw.getInputStream();
                    while (in.read() >= 0) {
                        // an alert, maybe, then EOF
                    }
                }
                int n = i;
                assertEquals(n, loop.call(server::tlsHandshakeFailures), "handshake failures counted");
            }
            assertEquals(0, loop.reactor.stats().handlerFailures(), "handler failures");
            assertTrue(loop.failures.isEmpty(), () -> "reported to the error handler: " + loop.failures);
            assertTrue(h.opened.isEmpty(), "never opened");
            server.close();
        }
    }

    /**
     * TLS 1.2 renegotiation with a task executor: while the delegated task waits, a write must be held, not wrapped
     * (the engine answers NEED_TASK with nothing consumed and nothing produced; the write once looped on wrap, and
     * the loop thread never came back). Once the task ran, the held bytes follow the new handshake.
     */
    @Test
    void aWriteDuringADelegatedTaskIsHeldNotSpun() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(TlsTestProvider.isConscrypt(),
                "Conscrypt's engine has no delegated tasks (and refuses renegotiation)");
        java.util.concurrent.BlockingQueue<Runnable> tasks = new java.util.concurrent.LinkedBlockingQueue<>();
        java.util.concurrent.atomic.AtomicBoolean hold = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor(
                r -> new Thread(r, "tls-held-tasks"));
        Tracking h = new Tracking();
        try (Loop loop = Loop.start("tls-task-spin")) {
            TcpServer server = TcpServer.builder(loop.reactor).handler(h)
                    .tls(TlsConfig.server(kit.serverContext()).clientRenegotiation(true).taskExecutor(t -> {
                        if (hold.get()) {
                            tasks.add(t);
                        } else {
                            pool.execute(t);
                        }
                    })).start();
            try (SSLSocket s = client(server)) {
                s.setEnabledProtocols(new String[]{"TLSv1.2"});
                s.startHandshake();
                Connection c = h.nextOpen();
                hold.set(true);
                java.util.concurrent.CompletableFuture<String> read = java.util.concurrent.CompletableFuture
                        .supplyAsync(() -> {
                            try {
                                s.startHandshake(); // renegotiate: the server's task will wait in `tasks`
                                return new BufferedReader(new InputStreamReader(s.getInputStream(),
                                        StandardCharsets.US_ASCII)).readLine();
                            } catch (java.io.IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                        });
                Runnable task = tasks.poll(WAIT_SECONDS, TimeUnit.SECONDS);
                assertNotNull(task, "a delegated task of the renegotiation");
                boolean answered;
                try {
                    c.write("AFTER\n"); // queued to the loop: wraps, or is held while the task waits
                    // a spinning loop never runs another task; a healthy one answers at once
                    answered = java.util.concurrent.CompletableFuture.supplyAsync(() -> true, loop.reactor)
                            .completeOnTimeout(false, 5, TimeUnit.SECONDS).get();
                } finally {
                    hold.set(false); // release the task either way, so that a spinning loop recovers
                    pool.execute(task);
                    Runnable more;
                    while ((more = tasks.poll()) != null) {
                        pool.execute(more);
                    }
                }
                assertTrue(answered, "the loop answered while the task waited");
                assertEquals("AFTER", read.get(WAIT_SECONDS, TimeUnit.SECONDS));
            }
            h.nextClose();
            server.close();
        } finally {
            pool.shutdown();
            assertTrue(pool.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS));
        }
    }

    /**
     * LEVEL, with the handshake's delegated task held in the executor: reading is paused (TLS_TASK), so the peer
     * leaving (a FIN, or a reset, whose EPOLLERR|EPOLLHUP epoll reports whatever the interest) must not make the
     * loop spin on an event it cannot clear. A reset closes the connection at once; after a FIN it waits quietly
     * for the task, then fails the handshake. No onOpen, no handler failure either way.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aPeerLeavingWhileADelegatedTaskWaitsDoesNotSpin(boolean reset) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(TlsTestProvider.isConscrypt(),
                "Conscrypt's engine has no delegated tasks");
        java.util.concurrent.BlockingQueue<Runnable> tasks = new java.util.concurrent.LinkedBlockingQueue<>();
        Tracking h = new Tracking();
        try (Loop loop = Loop.start("tls-task-hup")) {
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withTrigger(org.epoll4j.TriggerMode.LEVEL)).handler(h)
                    .tls(TlsConfig.server(kit.serverContext()).taskExecutor(tasks::add)).start();
            InetSocketAddress at = (InetSocketAddress) server.localAddress();
            Socket plain = new Socket(at.getAddress(), at.getPort());
            SSLSocket s = (SSLSocket) kit.peerClientContext().getSocketFactory().createSocket(plain,
                    at.getHostString(), at.getPort(), false);
            java.util.concurrent.CompletableFuture<Void> handshake = java.util.concurrent.CompletableFuture.runAsync(
                    () -> {
                        try {
                            s.startHandshake(); // sends the hello; fails once the socket below is closed
                        } catch (java.io.IOException expected) {
                            // the test closes the connection mid-handshake
                        }
                    });
            Runnable task = tasks.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(task, "the handshake's delegated task");
            if (reset) {
                plain.setSoLinger(true, 0);
            }
            plain.close();
            handshake.get(WAIT_SECONDS, TimeUnit.SECONDS);
            loop.barrier();
            long before = loop.reactor.stats().eventsDispatched();
            for (int i = 0; i < 20; i++) {
                loop.barrier();
            }
            long dispatched = loop.reactor.stats().eventsDispatched() - before;
            assertTrue(dispatched <= 2, () -> dispatched + " events dispatched in 20 loop turns: spinning");
            Thread runner = new Thread(task, "tls-held-task");
            runner.start();
            runner.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            NetTestKit.Closed closed = h.nextClose();
            assertNotNull(closed.cause(), "the handshake did not finish");
            assertTrue(h.opened.isEmpty(), "never opened");
            assertEquals(0, loop.reactor.stats().handlerFailures(), "handler failures");
            server.close();
        }
    }
}
