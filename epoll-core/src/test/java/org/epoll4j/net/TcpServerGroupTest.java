package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.ReactorGroup;
import org.epoll4j.net.TcpServerGroup.AcceptStrategy;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.epoll4j.net.NetTestKit.WAIT_SECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TcpServerGroup: each accept strategy spreads connections over the reactors; broadcast; graceful shutdown. */
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
@Timeout(120)
class TcpServerGroupTest {
    private static final String NAME = ThreadLeakCheck.REACTOR_PREFIX + "sg";

    /** Echoes, and records on which reactor each connection opened. */
    private static final class Recorder extends NetTestKit.Echo {
        final Map<String, Integer> opened = new ConcurrentHashMap<>();
        final CountDownLatch allOpen;

        Recorder(int expected) {
            allOpen = new CountDownLatch(expected);
        }

        @Override
        public void onOpen(Connection c) throws Exception {
            super.onOpen(c);
            assertTrue(c.reactor().inEventLoop());
            opened.merge(c.reactor().name(), 1, Integer::sum);
            allOpen.countDown();
        }
    }

    private static List<SocketChannel> connect(TcpServerGroup server, int n) throws IOException {
        List<SocketChannel> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            clients.add(NetTestKit.connect(server.localAddress()));
        }
        return clients;
    }

    private static void closeAll(List<SocketChannel> clients) throws IOException {
        for (SocketChannel c : clients) {
            c.close();
        }
    }

    @ParameterizedTest
    @EnumSource(AcceptStrategy.class)
    void everyStrategyServesEveryConnectionOnOneOfTheReactors(AcceptStrategy strategy) throws Exception {
        int n = 64;
        Recorder h = new Recorder(n);
        try (ReactorGroup group = ReactorGroup.builder().size(2).name(NAME).build()) {
            TcpServerGroup server = TcpServerGroup.builder(group).accept(strategy).handler(h).start();
            assertEquals(strategy, server.strategy());
            assertEquals(strategy == AcceptStrategy.HANDOFF ? 1 : 2, server.servers().size());
            List<SocketChannel> clients = connect(server, n);
            try {
                assertTrue(h.allOpen.await(WAIT_SECONDS, TimeUnit.SECONDS));
                for (int i = 0; i < n; i++) {
                    byte[] msg = ("hello " + i).getBytes(StandardCharsets.US_ASCII);
                    NetTestKit.writeFully(clients.get(i), msg);
                    assertArrayEquals(msg, NetTestKit.readFully(clients.get(i), msg.length));
                }
                assertEquals(n, server.activeConnections());
                assertEquals(n, server.acceptedCount());
                Map<String, Integer> perReactor = server.connectionsPerReactor();
                Map<String, Integer> nonZero = new java.util.HashMap<>(perReactor);
                nonZero.values().removeIf(count -> count == 0);
                assertEquals(h.opened, nonZero);
                assertEquals(n, perReactor.values().stream().mapToInt(Integer::intValue).sum());
                System.out.println("[" + strategy + "] connections per reactor: " + perReactor);
                if (strategy == AcceptStrategy.HANDOFF) {
                    // Round-robin: exactly even.
                    assertEquals(Map.of(NAME + "-0", n / 2, NAME + "-1", n / 2), perReactor);
                } else if (strategy == AcceptStrategy.REUSEPORT) {
                    // 64 different source ports hashed onto 2 listeners: all on one has odds of 2^-63.
                    perReactor.forEach((r, c) -> assertTrue(c > 0, r + " got no connection: " + perReactor));
                }
            } finally {
                closeAll(clients);
                server.close();
            }
        }
    }

    @Test
    void exclusiveLeavesTheAcceptsOfABusyReactorToAnIdleOne() throws Exception {
        try (ReactorGroup group = ReactorGroup.builder().size(2).name(NAME).build()) {
            for (int busy = 0; busy < 2; busy++) {
                Recorder h = new Recorder(8);
                TcpServerGroup server = TcpServerGroup.builder(group).accept(AcceptStrategy.EXCLUSIVE).handler(h)
                        .start();
                CountDownLatch release = new CountDownLatch(1);
                CountDownLatch blocked = new CountDownLatch(1);
                group.reactor(busy).execute(() -> { // a handler hogging this reactor
                    blocked.countDown();
                    try {
                        release.await(WAIT_SECONDS, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                assertTrue(blocked.await(WAIT_SECONDS, TimeUnit.SECONDS));
                List<SocketChannel> clients = connect(server, 8);
                try {
                    assertTrue(h.allOpen.await(WAIT_SECONDS, TimeUnit.SECONDS), "the idle reactor accepted them all");
                    assertEquals(Map.of(NAME + "-" + (1 - busy), 8), h.opened);
                } finally {
                    release.countDown();
                    closeAll(clients);
                    server.close();
                }
            }
        }
    }

    /**
     * A burst of connections all at once: EPOLLEXCLUSIVE alone wakes the same idle reactor first for each, which
     * then takes a whole accept budget per wake-up; the fair-share rule keeps every reactor within 9/8 of the mean
     * (plus one).
     */
    @Test
    void exclusiveSpreadsABurstOfConnectionsNearEvenly() throws Exception {
        int n = 100;
        try (ReactorGroup group = ReactorGroup.builder().size(2).name(NAME).build()) {
            for (int round = 0; round < 3; round++) {
                Recorder h = new Recorder(n);
                TcpServerGroup server = TcpServerGroup.builder(group).accept(AcceptStrategy.EXCLUSIVE).handler(h)
                        .start();
                List<SocketChannel> clients = new ArrayList<>();
                try {
                    for (int i = 0; i < n; i++) { // every SYN first, so that they arrive as one burst
                        SocketChannel c = SocketChannel.open();
                        clients.add(c);
                        c.configureBlocking(false);
                        c.connect(server.localAddress());
                    }
                    for (SocketChannel c : clients) {
                        c.configureBlocking(true);
                        c.finishConnect();
                    }
                    assertTrue(h.allOpen.await(WAIT_SECONDS, TimeUnit.SECONDS));
                    Map<String, Integer> perReactor = server.connectionsPerReactor();
                    System.out.println("[EXCLUSIVE burst] connections per reactor: " + perReactor);
                    int max = perReactor.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
                    assertTrue(max <= n / 2 * 9 / 8 + 2, "one reactor took " + max + " of " + n + ": " + perReactor);
                } finally {
                    closeAll(clients);
                    server.close();
                }
            }
        }
    }

    @Test
    void broadcastReachesEveryConnectionOnEveryReactor() throws Exception {
        int n = 10;
        Recorder h = new Recorder(n);
        try (ReactorGroup group = ReactorGroup.builder().size(2).name(NAME).build()) {
            TcpServerGroup server = TcpServerGroup.builder(group).accept(AcceptStrategy.HANDOFF).handler(h).start();
            List<SocketChannel> clients = connect(server, n);
            try {
                assertTrue(h.allOpen.await(WAIT_SECONDS, TimeUnit.SECONDS));
                byte[] news = "news\n".getBytes(StandardCharsets.US_ASCII);
                ByteBuffer buf = ByteBuffer.wrap(news);
                assertEquals(n, server.broadcast(buf));
                assertEquals(news.length, buf.remaining(), "broadcast does not consume the buffer");
                for (SocketChannel c : clients) {
                    assertArrayEquals(news, NetTestKit.readFully(c, news.length));
                }
            } finally {
                closeAll(clients);
                server.close();
            }
        }
    }

    @Test
    void writesFromSeveralProducerThreadsArriveInPerProducerOrder() throws Exception {
        int producers = 4;
        int perProducer = 5000;
        Recorder h = new Recorder(1);
        try (ReactorGroup group = ReactorGroup.builder().size(2).name(NAME).build()) {
            TcpServerGroup server = TcpServerGroup.builder(group).handler(h).start();
            try (SocketChannel client = NetTestKit.connect(server.localAddress())) {
                assertTrue(h.allOpen.await(WAIT_SECONDS, TimeUnit.SECONDS));
                Connection c = server.connections().iterator().next();
                List<Thread> threads = new ArrayList<>();
                for (int p = 0; p < producers; p++) {
                    int id = p;
                    threads.add(new Thread(() -> {
                        ByteBuffer record = ByteBuffer.allocate(8);
                        for (int seq = 0; seq < perProducer; seq++) {
                            record.clear();
                            record.putInt(id).putInt(seq).flip();
                            c.write(record); // copied off the loop thread: the buffer is ours again at once
                        }
                    }, "producer-" + p));
                }
                threads.forEach(Thread::start);
                ByteBuffer in = ByteBuffer.allocate(8 * producers * perProducer);
                while (in.hasRemaining()) {
                    if (client.read(in) < 0) {
                        throw new java.io.EOFException("EOF after " + in.position() + " bytes");
                    }
                }
                for (Thread t : threads) {
                    t.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                }
                in.flip();
                int[] next = new int[producers];
                while (in.hasRemaining()) {
                    int id = in.getInt();
                    int seq = in.getInt();
                    assertEquals(next[id], seq, "producer " + id + "'s records out of order");
                    next[id]++;
                }
                for (int p = 0; p < producers; p++) {
                    assertEquals(perProducer, next[p]);
                }
            } finally {
                server.close();
            }
        }
    }

    @Test
    void gracefulShutdownSendsEveryQueuedByteBeforeClosing() throws Exception {
        int size = 8 << 20;
        CountDownLatch queued = new CountDownLatch(2);
        NetTestKit.Tracking h = new NetTestKit.Tracking() {
            @Override
            public void onOpen(Connection c) throws Exception {
                super.onOpen(c);
                c.write(ByteBuffer.wrap(NetTestKit.bytes(7, 0, size)));
                assertTrue(c.queuedBytes() > 0, "the client does not read yet: most of it is queued");
                queued.countDown();
            }
        };
        ReactorGroup group = ReactorGroup.builder().size(2).name(NAME).build();
        List<SocketChannel> clients = new ArrayList<>();
        try {
            TcpServerGroup server = TcpServerGroup.builder(group).accept(AcceptStrategy.HANDOFF).handler(h).start();
            for (int i = 0; i < 2; i++) {
                SocketChannel c = SocketChannel.open();
                c.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
                c.connect(server.localAddress());
                clients.add(c);
            }
            assertTrue(queued.await(WAIT_SECONDS, TimeUnit.SECONDS));
            var done = group.shutdownGracefully(Duration.ofMillis(20), Duration.ofSeconds(60));
            for (SocketChannel c : clients) {
                NetTestKit.Verifier v = new NetTestKit.Verifier(7, "graceful shutdown");
                assertEquals(size, NetTestKit.readToEof(c, v), "every queued byte, then EOF");
            }
            done.get(WAIT_SECONDS, TimeUnit.SECONDS);
            for (int i = 0; i < 2; i++) {
                NetTestKit.Closed closed = h.closed.poll(WAIT_SECONDS, TimeUnit.SECONDS);
                assertTrue(closed != null && closed.cause() == null, "closed cleanly: " + closed);
            }
        } finally {
            closeAll(clients);
            group.close();
        }
    }

    @ParameterizedTest
    @EnumSource(AcceptStrategy.class)
    void closingTheGroupWhileClientsConnectLeaksNothing(AcceptStrategy strategy) throws Exception {
        ReactorGroup group = ReactorGroup.builder().size(2).name(NAME).build();
        TcpServerGroup server = TcpServerGroup.builder(group).accept(strategy).handler(new NetTestKit.Echo()).start();
        InetSocketAddress address = (InetSocketAddress) server.localAddress();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch someConnected = new CountDownLatch(20);
        Thread storm = new Thread(() -> {
            while (!stop.get()) {
                try (SocketChannel c = SocketChannel.open(address)) {
                    someConnected.countDown();
                } catch (IOException refusedOnceClosed) {
                    someConnected.countDown();
                }
            }
        }, "storm");
        storm.start();
        try {
            assertTrue(someConnected.await(WAIT_SECONDS, TimeUnit.SECONDS));
            group.close();
        } finally {
            stop.set(true);
            storm.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        }
        assertTrue(group.isTerminated());
        assertTrue(server.closeFuture().isDone());
        // FdLeakCheck and ThreadLeakCheck check the rest: listeners, accepted sockets and threads are all gone.
    }

    @Test
    void startOnOneOfTheGroupsOwnThreadsIsRefused() throws Exception {
        try (ReactorGroup group = ReactorGroup.builder().size(2).name(NAME).build()) {
            java.util.concurrent.CompletableFuture<Throwable> thrown = new java.util.concurrent.CompletableFuture<>();
            group.reactor(0).execute(() -> {
                try {
                    TcpServerGroup.builder(group).handler(new NetTestKit.Echo()).start();
                    thrown.complete(null);
                } catch (Throwable t) {
                    thrown.complete(t);
                }
            });
            Throwable t = thrown.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(t instanceof IllegalStateException && t.getMessage().contains("own threads"), String.valueOf(t));
            assertThrows(IllegalStateException.class, () -> TcpServerGroup.builder(group).start());
        }
    }

    @Test
    void aGroupOfOneIsAPlainServer() throws Exception {
        Recorder h = new Recorder(1);
        try (ReactorGroup group = ReactorGroup.builder().size(1).name(NAME).build()) {
            TcpServerGroup server = TcpServerGroup.builder(group).handler(h).start();
            try (SocketChannel c = NetTestKit.connect(server.localAddress())) {
                assertTrue(h.allOpen.await(WAIT_SECONDS, TimeUnit.SECONDS));
                assertEquals(Map.of(NAME + "-0", 1), server.connectionsPerReactor());
                Reactor only = group.reactor(0);
                assertEquals(only, server.servers().get(0).reactor());
            } finally {
                server.close();
            }
        }
    }
}
