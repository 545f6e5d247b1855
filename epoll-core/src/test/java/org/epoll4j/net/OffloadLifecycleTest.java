package org.epoll4j.net;

import org.epoll4j.ReactorGroup;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.WAIT_SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Offload against the rest of the connection's life: other pause reasons, a peer that half-closes, a graceful
 * shutdown (in time and out of time), and ready values that keep their place.
 */
@Timeout(60)
@ExtendWith(FdLeakCheck.class)
class OffloadLifecycleTest {

    /** Lines in, each answered by a gated task on the pool ("slow ...") or at once in order ("fast ..."). */
    private static final class Server implements FrameHandler<String> {
        final ExecutorService pool = Executors.newCachedThreadPool();
        final CountDownLatch gate = new CountDownLatch(1);
        final CountDownLatch submitted;
        final CompletableFuture<Connection> connection = new CompletableFuture<>();
        final CompletableFuture<Offload> offload = new CompletableFuture<>();
        final List<String> failures = new CopyOnWriteArrayList<>();
        final java.util.concurrent.atomic.AtomicInteger frames = new java.util.concurrent.atomic.AtomicInteger();
        final int cap;

        Server(int expectedRequests, int cap) {
            this.submitted = new CountDownLatch(expectedRequests);
            this.cap = cap;
        }

        @Override
        public void onOpen(Connection c) {
            Offload o = Offload.of(c, pool, cap);
            c.attach(o);
            offload.complete(o);
            connection.complete(c);
        }

        @Override
        public void onFrame(Connection c, String line) {
            Offload o = (Offload) c.attachment();
            frames.incrementAndGet();
            if (line.startsWith("fast")) {
                o.complete(line, (reply, error) -> c.write("done " + reply + "\n"));
            } else {
                o.submit(() -> {
                    gate.await(WAIT_SECONDS, TimeUnit.SECONDS);
                    return line;
                }, (reply, error) -> {
                    try {
                        c.write("done " + reply + "\n");
                    } catch (ClosedConnectionException e) {
                        failures.add(line + ": " + e);
                    }
                });
            }
            submitted.countDown();
        }

        void shutdown() throws InterruptedException {
            gate.countDown();
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS));
        }
    }

    private static String readAll(InputStream in) throws Exception {
        return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }

    private static void send(Socket s, String text) throws Exception {
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
    }

    @Test
    void aHalfClosedPeerStillGetsTheRepliesInFlight() throws Exception {
        Server h = new Server(3, 16);
        try (NetTestKit.Loop loop = NetTestKit.Loop.start("offload-halfclose");
             TcpServer server = loop.call(() -> TcpServer.builder(loop.reactor)
                     .bind(new InetSocketAddress("127.0.0.1", 0))
                     .handlerFactory(() -> LineDecoder.handler(64, h)).start());
             Socket s = NetTestKit.connect(server.port())) {
            send(s, "slow 1\nslow 2\nfast 3\n");
            s.shutdownOutput(); // like nc -N: the requests, then FIN
            assertTrue(h.submitted.await(WAIT_SECONDS, TimeUnit.SECONDS));
            Connection c = h.connection.get(WAIT_SECONDS, TimeUnit.SECONDS);
            loop.barrier();
            assertTrue(loop.call(c::isOpen), "results outstanding: the FIN does not close the connection");
            h.gate.countDown();
            assertEquals("done slow 1\ndone slow 2\ndone fast 3\n", readAll(s.getInputStream()),
                    "every reply, in order, then EOF");
            assertEquals(List.of(), h.failures);
        } finally {
            h.shutdown();
        }
    }

    @Test
    void aReadyValueKeepsItsPlaceBehindOffloadedOnesAndGoesAtOnceWhenNothingIsAhead() throws Exception {
        Server h = new Server(4, 16);
        try (NetTestKit.Loop loop = NetTestKit.Loop.start("offload-ready");
             TcpServer server = loop.call(() -> TcpServer.builder(loop.reactor)
                     .bind(new InetSocketAddress("127.0.0.1", 0))
                     .handlerFactory(() -> LineDecoder.handler(64, h)).start());
             Socket s = NetTestKit.connect(server.port())) {
            send(s, "fast 0\n");
            assertEquals("done fast 0\n", new String(NetTestKit.readFully(s.getInputStream(), 12),
                    StandardCharsets.US_ASCII), "nothing ahead: delivered at once, the gate still closed");
            send(s, "slow 1\nfast 2\nslow 3\n");
            assertTrue(h.submitted.await(WAIT_SECONDS, TimeUnit.SECONDS));
            Offload o = h.offload.get(WAIT_SECONDS, TimeUnit.SECONDS);
            loop.barrier();
            assertEquals(3, (int) loop.call(o::outstanding), "the ready value waits behind slow 1");
            assertEquals(2, (int) loop.call(o::inFlight), "only the tasks went to the pool");
            h.gate.countDown();
            String want = "done slow 1\ndone fast 2\ndone slow 3\n";
            assertEquals(want, new String(NetTestKit.readFully(s.getInputStream(), want.length()),
                    StandardCharsets.US_ASCII));
        } finally {
            h.shutdown();
        }
    }

    /**
     * Offload's own pause (at its cap) and the other reasons (the user's, backpressure) never undo each other:
     * for every combination of reasons and every order of lifting them, reading stays paused until the last one is
     * lifted, and a request sent meanwhile is only read then.
     */
    @Test
    void offloadAndTheOtherPauseReasonsCombine() throws Exception {
        List<List<String>> orders = new ArrayList<>();
        permutations(new ArrayList<>(List.of("OFFLOAD", "USER", "BACKPRESSURE")), 0, orders);
        List<List<String>> cases = new ArrayList<>();
        for (List<String> order : orders) {
            for (int mask = 1; mask < 8; mask++) {
                List<String> held = new ArrayList<>();
                for (String r : order) {
                    int bit = r.equals("OFFLOAD") ? 1 : r.equals("USER") ? 2 : 4;
                    if ((mask & bit) != 0) {
                        held.add(r);
                    }
                }
                if (!cases.contains(held)) {
                    cases.add(held);
                }
            }
        }
        assertEquals(15, cases.size(), "every non-empty subset in every order");
        for (List<String> reasons : cases) {
            combination(reasons);
        }
    }

    private static void permutations(List<String> a, int k, List<List<String>> out) {
        if (k == a.size()) {
            out.add(List.copyOf(a));
            return;
        }
        for (int i = k; i < a.size(); i++) {
            java.util.Collections.swap(a, k, i);
            permutations(a, k + 1, out);
            java.util.Collections.swap(a, k, i);
        }
    }

    /** Imposes {@code reasons} (OFFLOAD first: its request must still be read), then lifts them in their order. */
    private static void combination(List<String> reasons) throws Exception {
        Server h = new Server(1, 1);
        try (NetTestKit.Loop loop = NetTestKit.Loop.start("offload-pauses");
             TcpServer server = loop.call(() -> TcpServer.builder(loop.reactor)
                     .bind(new InetSocketAddress("127.0.0.1", 0))
                     .handlerFactory(() -> LineDecoder.handler(64, h)).start());
             Socket s = NetTestKit.connect(server.port())) {
            Connection c = h.connection.get(WAIT_SECONDS, TimeUnit.SECONDS);
            Offload o = h.offload.get(WAIT_SECONDS, TimeUnit.SECONDS);
            List<String> imposed = new ArrayList<>(reasons);
            imposed.sort(java.util.Comparator.comparing(r -> !r.equals("OFFLOAD")));
            for (String r : imposed) {
                switch (r) {
                    case "OFFLOAD" -> {
                        send(s, "slow 0\n"); // the cap is 1: one request outstanding pauses reading
                        assertTrue(h.submitted.await(WAIT_SECONDS, TimeUnit.SECONDS));
                        loop.barrier();
                        assertTrue(loop.call(o::isReadingPaused), reasons + ": offload paused");
                    }
                    case "USER" -> loop.call(() -> { c.pauseReading(); return null; });
                    default -> loop.call(() -> { c.pauseReading(ReadPause.BACKPRESSURE); return null; });
                }
            }
            send(s, "fast probe\n");
            for (int i = 0; i < reasons.size(); i++) {
                loop.barrier();
                assertTrue(loop.call(c::isReadingPaused), reasons + ": paused while " + reasons.subList(i,
                        reasons.size()) + " hold");
                assertEquals(reasons.contains("OFFLOAD") ? 1 : 0, h.frames.get(),
                        reasons + ": the probe was not read while paused");
                switch (reasons.get(i)) {
                    case "OFFLOAD" -> h.gate.countDown();
                    case "USER" -> loop.call(() -> { c.resumeReading(); return null; });
                    default -> loop.call(() -> { c.resumeReading(ReadPause.BACKPRESSURE); return null; });
                }
            }
            String want = (reasons.contains("OFFLOAD") ? "done slow 0\n" : "") + "done fast probe\n";
            assertEquals(want, new String(NetTestKit.readFully(s.getInputStream(), want.length()),
                    StandardCharsets.US_ASCII), reasons + ": read once the last reason was lifted");
            assertTrue(!loop.call(c::isReadingPaused), reasons.toString());
        } finally {
            h.shutdown();
        }
    }

    @Test
    void gracefulShutdownLetsOffloadedWorkFinishAndBeWritten() throws Exception {
        Server h = new Server(2, 16);
        ReactorGroup group = ReactorGroup.builder().size(1).name("offload-shutdown").build();
        TcpServerGroup server = TcpServerGroup.builder(group).bind(new InetSocketAddress("127.0.0.1", 0))
                .handlerFactory(() -> LineDecoder.handler(64, h)).start();
        try (Socket s = NetTestKit.connect(server.port())) {
            send(s, "slow 1\nslow 2\n");
            assertTrue(h.submitted.await(WAIT_SECONDS, TimeUnit.SECONDS));
            CompletableFuture<Void> done = group.shutdownGracefully(Duration.ofMillis(50), Duration.ofSeconds(20));
            Connection c = h.connection.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(c.isOpen(), "work in flight keeps the connection open");
            h.gate.countDown();
            assertEquals("done slow 1\ndone slow 2\n", readAll(s.getInputStream()));
            done.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(0, server.offloadResultsDropped());
            assertEquals(List.of(), h.failures);
        } finally {
            group.close();
            h.shutdown();
        }
    }

    @Test
    void whatAShutdownTimeoutCutsOffIsCounted() throws Exception {
        Server h = new Server(2, 16);
        ReactorGroup group = ReactorGroup.builder().size(1).name("offload-timeout").build();
        TcpServerGroup server = TcpServerGroup.builder(group).bind(new InetSocketAddress("127.0.0.1", 0))
                .handlerFactory(() -> LineDecoder.handler(64, h)).start();
        try (Socket s = NetTestKit.connect(server.port())) {
            send(s, "slow 1\nslow 2\n");
            assertTrue(h.submitted.await(WAIT_SECONDS, TimeUnit.SECONDS));
            group.shutdownGracefully(Duration.ofMillis(50), Duration.ofMillis(300)).get(WAIT_SECONDS,
                    TimeUnit.SECONDS);
            assertEquals("", readAll(s.getInputStream()), "closed without replies");
            assertEquals(2, server.offloadResultsDropped(), "both outstanding results are reported");
            assertEquals(2, h.offload.get().dropped());
            h.gate.countDown(); // the late results find the reactor closed: not counted twice
            h.pool.shutdown();
            assertTrue(h.pool.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS));
            assertEquals(2, server.offloadResultsDropped());
        } finally {
            group.close();
            h.shutdown();
        }
    }
}
