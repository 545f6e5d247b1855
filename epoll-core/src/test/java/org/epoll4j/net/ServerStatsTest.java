package org.epoll4j.net;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.epoll4j.ReactorGroup;
import org.epoll4j.ReactorStats;
import org.epoll4j.internal.EventBuffer;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.Loop;
import static org.epoll4j.net.NetTestKit.Tracking;
import static org.epoll4j.net.NetTestKit.WAIT_SECONDS;
import static org.epoll4j.net.NetTestKit.connect;
import static org.epoll4j.net.NetTestKit.readFully;
import static org.epoll4j.net.NetTestKit.writeFully;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a server's and a reactor's snapshots say about their connections: open, paused, bytes queued, read and
 * written (closed connections' bytes kept in totals), direct memory held; the same through the server MXBean and the
 * reactor's JFR statistics event.
 */
@Timeout(120)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class ServerStatsTest {
    private static final MBeanServer MBEANS = ManagementFactory.getPlatformMBeanServer();

    /** Counts the bytes it reads: each one releases a permit. */
    private static final class Counting extends Tracking {
        final Semaphore received = new Semaphore(0);

        @Override
        public void onData(Connection connection, ByteBuffer data) {
            received.release(data.remaining());
            data.position(data.limit());
        }

        void awaitReceived(int bytes) throws InterruptedException {
            assertTrue(received.tryAcquire(bytes, WAIT_SECONDS, TimeUnit.SECONDS), () -> "fewer than " + bytes
                    + " bytes arrived");
        }
    }

    /** What the loop saw in one turn: both snapshots and the figures they must agree with. */
    private record Seen(ServerStats server, ReactorStats reactor, long queued, long read, long written) {
    }

    /** Both snapshots, and the connections' own counts summed, taken on the loop thread: one consistent cut. */
    private static Seen seen(Loop loop, TcpServer server, List<Connection> all) throws Exception {
        return loop.call(() -> {
            long queued = 0;
            long read = 0;
            long written = 0;
            for (Connection c : all) { // closed ones keep their final counts
                queued += c.queuedBytes();
                read += c.bytesRead();
                written += c.bytesWritten();
            }
            return new Seen(server.stats(), loop.reactor.stats(), queued, read, written);
        });
    }

    /** The direct memory of the reactor's connection layer that no write queue accounts for. */
    private static long fixedDirect(Loop loop) throws Exception {
        return loop.call(() -> {
            NetContext ctx = NetContext.of(loop.reactor);
            return (long) ctx.readBuffer.capacity() + ctx.bounce.capacity() + ctx.iov.capacity();
        });
    }

    @Test
    void openPausedQueuedReadWrittenAndDirectMemoryThenClosedTotals() throws Exception {
        Counting h = new Counting();
        int big = 8 << 20;
        try (Loop loop = Loop.start("stats")) {
            // Small socket buffers: the kernel takes little of the slow reader's 8 MiB, the rest waits in the queue.
            TcpServer server = TcpServer.builder(loop.reactor).handler(h)
                    .childOptions(SockOpts.empty().with(SockOpt.SO_SNDBUF, 8192)).start();
            List<SocketChannel> clients = new ArrayList<>();
            List<Connection> conns = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    SocketChannel ch = SocketChannel.open();
                    ch.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
                    ch.connect(server.localAddress());
                    clients.add(ch);
                    conns.add(h.nextOpen()); // accepted in connect order: one at a time
                    assertEquals(ch.getLocalAddress(), conns.get(i).remoteAddress());
                }
                for (SocketChannel ch : clients) {
                    writeFully(ch, new byte[1000]);
                }
                h.awaitReceived(4000);
                Connection paused = conns.get(0);
                Connection slow = conns.get(1);
                loop.call(() -> {
                    paused.pauseReading();
                    slow.write(new byte[big]); // its client never reads
                    conns.get(2).write(new byte[100]);
                    conns.get(3).write(new byte[100]);
                    return null;
                });
                readFully(clients.get(2), 100);
                readFully(clients.get(3), 100);
                writeFully(clients.get(0), new byte[500]); // not read: its connection is paused
                loop.barrier();

                Seen s = seen(loop, server, conns);
                for (var v : List.of(new long[]{s.server.openConnections(), s.server.pausedConnections(),
                        s.server.queuedBytes(), s.server.bytesRead(), s.server.bytesWritten()},
                        new long[]{s.reactor.openConnections(), s.reactor.pausedConnections(),
                                s.reactor.queuedBytes(), s.reactor.bytesRead(), s.reactor.bytesWritten()})) {
                    assertEquals(4, v[0], "open");
                    assertEquals(1, v[1], "paused");
                    assertEquals(s.queued, v[2], "queued");
                    assertEquals(4000, v[3], "read");
                    assertEquals(s.written, v[4], "written");
                }
                assertEquals(big - slow.bytesWritten(), s.server.queuedBytes(), "the slow reader's backlog");
                assertEquals(200 + slow.bytesWritten(), s.server.bytesWritten());
                assertTrue(s.server.queuedBytes() > (long) NetContext.MAX_POOLED_CHUNKS * NetContext.CHUNK_SIZE,
                        () -> "the kernel took more than expected: only " + s.server.queuedBytes() + " B queued");
                long fixed = fixedDirect(loop);
                long direct = s.server.directMemoryBytes();
                // Every queued byte sits in a chunk; the chunks ever made held the 8 MiB the kernel did not take.
                assertTrue(direct >= fixed + s.server.queuedBytes() && direct <= fixed + big + NetContext.CHUNK_SIZE,
                        () -> "direct " + direct + " B, fixed " + fixed + " B, queued " + s.server.queuedBytes());
                assertEquals(0, (direct - fixed) % NetContext.CHUNK_SIZE);
                assertTrue(s.reactor.directMemoryBytes()
                        >= direct + (long) s.reactor.eventCapacity() * EventBuffer.EVENT_SIZE, "plus the event array");
                assertEquals(4, s.server.acceptedConnections());

                // From another thread: recent values; what cannot move now is exact, the rest within bounds.
                ServerStats other = server.stats();
                assertEquals(4, other.openConnections());
                assertEquals(1, other.pausedConnections());
                assertEquals(4000, other.bytesRead());
                assertTrue(other.queuedBytes() > 0 && other.queuedBytes() <= big);

                // A client leaves: its connection's bytes move to the closed totals.
                clients.get(2).close();
                assertEquals(conns.get(2), h.nextClose().connection());
                Seen afterClose = seen(loop, server, conns);
                assertEquals(3, afterClose.server.openConnections());
                assertEquals(3, afterClose.reactor.openConnections());
                assertEquals(4000, afterClose.server.bytesRead());
                assertEquals(4000, afterClose.reactor.bytesRead());
                assertEquals(afterClose.written, afterClose.server.bytesWritten());
                assertEquals(afterClose.written, afterClose.reactor.bytesWritten());

                // The slow reader is cut off: its queue is dropped, its chunks go back to the pool (up to the pool's
                // size, the rest to the GC), and what the kernel took stays counted.
                long[] cut = loop.call(() -> {
                    long before = server.stats().directMemoryBytes();
                    slow.abort();
                    ServerStats after = server.stats();
                    return new long[]{before, after.directMemoryBytes(), after.queuedBytes(), after.openConnections(),
                            after.bytesWritten(), after.pausedConnections()};
                });
                assertEquals(slow, h.nextClose().connection());
                long chunksBefore = (cut[0] - fixed) / NetContext.CHUNK_SIZE;
                assertTrue(chunksBefore > NetContext.MAX_POOLED_CHUNKS, "chunks " + chunksBefore);
                assertEquals(fixed + (long) NetContext.MAX_POOLED_CHUNKS * NetContext.CHUNK_SIZE, cut[1],
                        "pooled chunks are still held; the ones the pool had no room for are not");
                assertEquals(0, cut[2], "nothing queued any more");
                assertEquals(2, cut[3]);
                assertEquals(seen(loop, server, conns).written, cut[4]);
                assertEquals(1, cut[5], "still paused");
            } finally {
                loop.call(() -> {
                    conns.forEach(Connection::abort); // the paused one would not notice its client leave
                    return null;
                });
                for (SocketChannel ch : clients) {
                    ch.close();
                }
                server.close();
            }
            assertEquals(conns.size(), h.closeCalls.size());
            ServerStats end = server.stats();
            assertEquals(0, end.openConnections());
            assertEquals(0, end.queuedBytes());
            assertEquals(4000, end.bytesRead(), "a paused connection's unread bytes were never read");
            assertEquals(seen(loop, server, conns).written, end.bytesWritten());
        }
    }

    @Test
    void tlsPlaintextHeldBackCountsAsQueued() throws Exception {
        TlsTestKit kit = TlsTestKit.get();
        int total = 2 << 20;
        CompletableFuture<Connection> wrote = new CompletableFuture<>();
        Tracking h = new Tracking() {
            @Override
            public void onOpen(Connection c) throws Exception {
                super.onOpen(c);
                c.write(new byte[total]); // encrypted only as the socket drains: the plaintext waits
                wrote.complete(c);
            }
        };
        try (Loop loop = Loop.start("stats-tls")) {
            TcpServer server = TcpServer.builder(loop.reactor).handler(h)
                    .childOptions(SockOpts.empty().with(SockOpt.SO_SNDBUF, 64 * 1024))
                    .tls(TlsConfig.server(kit.serverContext())).start();
            java.net.InetSocketAddress at = (java.net.InetSocketAddress) server.localAddress();
            try (java.net.Socket plain = new java.net.Socket()) {
                plain.setReceiveBufferSize(64 * 1024);
                plain.connect(at);
                javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) kit.clientContext().getSocketFactory()
                        .createSocket(plain, "localhost", at.getPort(), true);
                s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                s.startHandshake(); // and read nothing yet
                Connection c = wrote.get(WAIT_SECONDS, TimeUnit.SECONDS);
                Seen seen = seen(loop, server, List.of(c));
                assertEquals(1, seen.server.openConnections());
                assertEquals(seen.queued, seen.server.queuedBytes());
                assertEquals(seen.queued, seen.reactor.queuedBytes());
                assertTrue(seen.server.queuedBytes() > total / 2, () -> "queued " + seen.server.queuedBytes());
                assertEquals(seen.written, seen.server.bytesWritten(), "ciphertext the kernel took, handshake included");
                byte[] back = s.getInputStream().readNBytes(total);
                assertEquals(total, back.length);
                loop.barrier();
                assertEquals(0, server.stats().queuedBytes());
            }
            h.nextClose();
            server.close();
        }
    }

    @Test
    void mxBeanWhileListeningUnregisteredOnClose() throws Exception {
        Counting h = new Counting();
        ObjectName name = new ObjectName("org.epoll4j:type=TcpServer,name=stats-mx");
        try (Loop loop = Loop.start("stats-mx")) {
            TcpServer server = TcpServer.builder(loop.reactor).handler(h).jmxName("stats-mx").start();
            try (SocketChannel a = connect(server.localAddress()); SocketChannel b = connect(server.localAddress())) {
                assertTrue(MBEANS.isRegistered(name));
                writeFully(a, new byte[5]);
                writeFully(b, new byte[7]);
                h.awaitReceived(12);
                assertEquals(2, MBEANS.getAttribute(name, "OpenConnections"));
                assertEquals(12L, MBEANS.getAttribute(name, "BytesRead"));
                assertEquals("stats-mx", MBEANS.getAttribute(name, "Name"));
                assertEquals(server.localAddress().toString(), MBEANS.getAttribute(name, "LocalAddress"));
                TcpServerMXBean proxy = JMX.newMXBeanProxy(MBEANS, name, TcpServerMXBean.class);
                assertEquals(0, proxy.getPausedConnections());
                assertEquals(0, proxy.getQueuedBytes());
                assertEquals(2, proxy.getAcceptedConnections());
                assertTrue(proxy.getDirectMemoryBytes() >= 2L * NetContext.READ_BUFFER_SIZE);
                assertTrue(JMX.isMXBeanInterface(TcpServerMXBean.class));

                IllegalStateException dup = assertThrows(IllegalStateException.class,
                        () -> TcpServer.builder(loop.reactor).handler(h).jmxName("stats-mx").start());
                assertTrue(dup.getMessage().contains(name.toString()), dup.getMessage());
                assertTrue(MBEANS.isRegistered(name), "the first keeps its name");
                assertThrows(IllegalArgumentException.class, () -> TcpServer.builder(loop.reactor).jmxName(""));
            } finally {
                server.close();
            }
            assertFalse(MBEANS.isRegistered(name), "unregistered on close");
            h.nextClose();
            h.nextClose();
        }
    }

    @ParameterizedTest
    @EnumSource(TcpServerGroup.AcceptStrategy.class)
    void aGroupSumsItsServersAndCountsEachReactorsMemoryOnce(TcpServerGroup.AcceptStrategy strategy)
            throws Exception {
        Counting h = new Counting();
        ObjectName name = new ObjectName("org.epoll4j:type=TcpServer,name=stats-group-" + strategy);
        try (ReactorGroup group = ReactorGroup.builder().size(2).name(ThreadLeakCheck.REACTOR_PREFIX + "stats-g")
                .build()) {
            TcpServerGroup server = TcpServerGroup.builder(group).accept(strategy).handler(h)
                    .jmxName("stats-group-" + strategy).start();
            List<SocketChannel> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    clients.add(connect(server.localAddress()));
                    writeFully(clients.get(i), new byte[10]);
                }
                h.awaitReceived(80);
                ServerStats s = server.stats();
                assertEquals(8, s.openConnections());
                assertEquals(80, s.bytesRead());
                assertEquals(8, s.acceptedConnections());
                assertEquals(0, s.pausedConnections());
                long perReactor = 0;
                for (var r : group) {
                    ReactorStats rs = r.stats();
                    perReactor += rs.bytesRead();
                    assertEquals(server.connectionsPerReactor().get(r.name()).intValue(), rs.openConnections());
                }
                assertEquals(80, perReactor, "the reactors' figures add up to the group's");
                long direct = 0;
                for (var r : group) {
                    direct += directOf(r);
                }
                assertEquals(direct, s.directMemoryBytes(), "each reactor's connection-layer memory, once");
                assertEquals(80L, MBEANS.getAttribute(name, "BytesRead"));
                assertEquals(8, MBEANS.getAttribute(name, "OpenConnections"));
            } finally {
                for (SocketChannel ch : clients) {
                    ch.close();
                }
                server.close();
            }
            assertFalse(MBEANS.isRegistered(name), "unregistered on close");
            for (int i = 0; i < 8; i++) {
                h.nextClose();
            }
        }
    }

    /** A reactor's connection-layer direct memory (none if no connection ever ran there), read on its loop. */
    private static long directOf(org.epoll4j.Reactor r) throws Exception {
        CompletableFuture<Long> f = new CompletableFuture<>();
        r.execute(() -> {
            NetContext ctx = NetContext.peek(r);
            f.complete(ctx == null ? 0 : ctx.directMemoryBytes());
        });
        return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void theReactorStatisticsEventCarriesTheConnectionFigures() throws Exception {
        Counting h = new Counting();
        try (Loop loop = Loop.start("stats-jfr");
             RecordingStream rs = new RecordingStream()) {
            String reactor = loop.reactor.name();
            rs.enable("org.epoll4j.ReactorStatistics").withPeriod(Duration.ofMillis(100));
            CompletableFuture<RecordedEvent> got = new CompletableFuture<>();
            rs.onEvent("org.epoll4j.ReactorStatistics", e -> {
                if (reactor.equals(e.getString("reactor")) && e.getInt("openConnections") == 2
                        && e.getLong("bytesRead") == 30) {
                    got.complete(e);
                }
            });
            TcpServer server = TcpServer.builder(loop.reactor).handler(h).start();
            try (SocketChannel a = connect(server.localAddress()); SocketChannel b = connect(server.localAddress())) {
                writeFully(a, new byte[10]);
                writeFully(b, new byte[20]);
                h.awaitReceived(30);
                Connection first = h.nextOpen();
                h.nextOpen();
                loop.call(() -> {
                    first.pauseReading();
                    first.write(new byte[3]);
                    return null;
                });
                readFully(a, 3);
                rs.startAsync();
                RecordedEvent e = got.get(WAIT_SECONDS, TimeUnit.SECONDS);
                ReactorStats now = loop.reactor.stats();
                assertEquals(1, e.getInt("pausedConnections"));
                assertEquals(0, e.getLong("queuedBytes"));
                assertEquals(3, e.getLong("bytesWritten"));
                assertEquals(now.directMemoryBytes(), e.getLong("directMemoryBytes"));
                first.resumeReading(); // a paused connection would not notice its client leave
            } finally {
                server.close();
            }
            h.nextClose();
            h.nextClose();
        }
    }

    /** A client's connections count in their reactor's figures too, from connect to close. */
    @Test
    void aClientsConnectionsCountInTheirReactorsFigures() throws Exception {
        Counting serverSide = new Counting();
        try (Loop serverLoop = Loop.start("stats-srv"); Loop clientLoop = Loop.start("stats-cli")) {
            TcpServer server = TcpServer.builder(serverLoop.reactor).handler(serverSide).start();
            Tracking clientSide = new Tracking();
            Connection c = TcpClient.builder(clientLoop.reactor).remote(server.localAddress()).handler(clientSide)
                    .connect().get(WAIT_SECONDS, TimeUnit.SECONDS);
            clientLoop.call(() -> {
                c.write(new byte[100]);
                return null;
            });
            serverSide.awaitReceived(100);
            ReactorStats open = clientLoop.call(clientLoop.reactor::stats);
            assertEquals(1, open.openConnections(), "the client's connection");
            assertEquals(100, open.bytesWritten());
            c.close();
            clientSide.nextClose();
            ReactorStats closed = clientLoop.call(clientLoop.reactor::stats);
            assertEquals(0, closed.openConnections());
            assertEquals(100, closed.bytesWritten(), "kept in the closed totals");
            server.close();
        }
    }
}
