package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.Reactor;
import org.epoll4j.TriggerMode;
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
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Peers misbehaving in the ways the design calls normal events: resetting mid-write, half-closing, never reading,
 * trickling slower than the idle timeout, refusing the connection. Each must end (or keep) the one connection
 * cleanly while the reactor goes on serving the others.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class NetPeerFaultsTest {
    private static final int MIB = 1 << 20;

    // ------------------------------------------------------------------ reset mid-write

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void peerResetWhileServerWritesMegabytesClosesOnlyThatConnection(TriggerMode mode) throws Exception {
        ConnectionConfig config = ConnectionConfig.defaults().withTrigger(mode);
        try (Loop loop = Loop.start("reset-" + mode)) {
            Producer producer = new Producer(7, 256L * MIB, 64 * 1024, true);
            TcpServer blaster = TcpServer.builder(loop.reactor).config(config).handler(producer).start();
            Echo echo = new Echo();
            TcpServer echoServer = TcpServer.builder(loop.reactor).config(config).handler(echo).start();

            // a bystander connected before the reset
            try (SocketChannel bystander = connect(echoServer.localAddress())) {
                echo.nextOpen();
                SocketChannel victim = connect(blaster.localAddress());
                try {
                    Connection server = producer.nextOpen();
                    Verifier v = new Verifier(7, "blast");
                    ByteBuffer b = ByteBuffer.allocate(64 * 1024);
                    while (v.position() < 2 * MIB) {
                        b.clear();
                        assertTrue(victim.read(b) > 0);
                        v.check(b.array(), 0, b.position());
                    }
                    victim.setOption(StandardSocketOptions.SO_LINGER, 0);
                } finally {
                    victim.close(); // RST: the server is still writing (it has 254 MiB to go)
                }
                Closed c = producer.nextClose();
                EpollException e = assertInstanceOf(EpollException.class, c.cause(), () -> "cause: " + c.cause());
                assertTrue(Set.of("ECONNRESET", "EPIPE").contains(e.errnoName()), e::getMessage);
                assertTrue(producer.produced < 256L * MIB, "the server was still producing");

                // the reactor and the other connections go on: the bystander and a brand-new connection echo
                assertEchoes(bystander, "still here");
                try (SocketChannel late = connect(echoServer.localAddress())) {
                    assertEchoes(late, "and a new one");
                }
                assertTrue(loop.thread.isAlive());
                loop.barrier();
                producer.assertClosedOnceEach(1);
            }
            assertEquals(List.of(), loop.failures);
            blaster.close();
            echoServer.close();
        }
    }

    private static void assertEchoes(SocketChannel ch, String text) throws IOException {
        byte[] msg = text.getBytes(StandardCharsets.UTF_8);
        writeFully(ch, msg);
        assertArrayEquals(msg, readFully(ch, msg.length));
    }

    // ------------------------------------------------------------------ half-close

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void peerHalfClosesAndStillReceivesEveryEchoedByte(TriggerMode mode) throws Exception {
        int total = 3 * MIB + 17;
        try (Loop loop = Loop.start("halfclose-" + mode)) {
            Echo echo = new Echo();
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withTrigger(mode)).handler(echo).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                CompletableFuture<Void> written = CompletableFuture.runAsync(() -> {
                    try {
                        for (int pos = 0; pos < total; pos += 10_000) {
                            writeFully(ch, bytes(11, pos, Math.min(10_000, total - pos)));
                        }
                        ch.shutdownOutput();
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                assertEquals(total, readToEof(ch, new Verifier(11, "echo after half-close")));
                written.get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
            Closed c = echo.nextClose();
            assertNull(c.cause(), "default onReadHangup closes gracefully");
            assertTrue(c.connection().isInputClosed());
            assertEquals(total, c.connection().bytesWritten());
            loop.barrier();
            echo.assertClosedOnceEach(1);
            server.close();
        }
    }

    /** Collects the request; after the peer's FIN writes a long answer, then half-closes itself. */
    static final class AnswerAfterFin extends Tracking {
        final int answer;
        final Verifier request = new Verifier(21, "request");
        final CompletableFuture<Throwable> writeAfterShutdown = new CompletableFuture<>();
        volatile long requestBytesAtFin = -1;

        AnswerAfterFin(int answer) {
            this.answer = answer;
        }

        @Override
        public void onData(Connection c, ByteBuffer data) {
            request.check(data);
        }

        @Override
        public void onReadHangup(Connection c) {
            requestBytesAtFin = request.position();
            for (int pos = 0; pos < answer; pos += 50_000) {
                c.write(bytes(22, pos, Math.min(50_000, answer - pos)));
            }
            c.shutdownOutput();
            try {
                c.write("too late");
                writeAfterShutdown.complete(null);
            } catch (Throwable t) {
                writeAfterShutdown.complete(t);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void handlerKeepsWritingAfterPeerFinThenShutsDownOutput(TriggerMode mode) throws Exception {
        int request = 100_003;
        int answer = 5 * MIB + 1;
        try (Loop loop = Loop.start("answer-" + mode)) {
            AnswerAfterFin handler = new AnswerAfterFin(answer);
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withTrigger(mode)).handler(handler).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                writeFully(ch, bytes(21, 0, request));
                ch.shutdownOutput();
                assertEquals(answer, readToEof(ch, new Verifier(22, "answer")));
            }
            Closed c = handler.nextClose();
            assertNull(c.cause(), () -> "cause: " + c.cause());
            assertEquals(request, handler.requestBytesAtFin, "every request byte arrived before onReadHangup");
            assertInstanceOf(ClosedConnectionException.class,
                    handler.writeAfterShutdown.get(WAIT_SECONDS, TimeUnit.SECONDS));
            assertTrue(c.connection().isOutputShutdown());
            assertTrue(c.connection().isInputClosed());
            assertEquals(answer, c.connection().bytesWritten());
            loop.barrier();
            handler.assertClosedOnceEach(1);
            server.close();
        }
    }

    // ------------------------------------------------------------------ a peer that reads nothing

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void nonReadingPeerTurnsConnectionUnwritableAndProducerResumesWhenItReads(TriggerMode mode) throws Exception {
        int chunk = 16 * 1024;
        long total = 24L * MIB;
        ConnectionConfig config = ConnectionConfig.defaults().withTrigger(mode);
        try (Loop loop = Loop.start("slowpeer-" + mode)) {
            Producer producer = new Producer(31, total, chunk, true);
            TcpServer server = TcpServer.builder(loop.reactor).config(config).handler(producer)
                    .childOptions(SockOpts.empty().with(SockOpt.SO_SNDBUF, 64 * 1024))
                    .start();
            try (SocketChannel ch = SocketChannel.open()) {
                ch.setOption(StandardSocketOptions.SO_RCVBUF, 64 * 1024);
                ch.connect(server.localAddress());
                Connection conn = producer.nextOpen();

                Boolean first = producer.writability.poll(WAIT_SECONDS, TimeUnit.SECONDS);
                assertEquals(Boolean.FALSE, first, "the connection turns unwritable while the peer reads nothing");
                // While the peer reads nothing the producer is held back. The kernel may still take a little more
                // as the peer's window opens (delayed ACKs, autotuning), so writability may come and go once or
                // twice; what must hold at every moment is the bound: produced minus what the kernel took is the
                // queue, never above the high watermark plus one chunk, and the producer never reaches the end.
                for (int i = 0; i < 3; i++) {
                    long[] s = loop.call(() -> new long[] {conn.queuedBytes(), producer.produced,
                            conn.bytesWritten()});
                    assertEquals(s[1] - s[2], s[0], "what was produced and not sent is queued");
                    assertTrue(s[0] <= config.highWatermark() + chunk, () -> "queued " + s[0]);
                    assertTrue(s[1] < total, "the producer stays held back");
                    loop.barrier();
                }

                // now read everything: writability comes back, the producer resumes, every byte arrives in order
                assertEquals(total, readToEof(ch, new Verifier(31, "produced stream")));
            }
            Closed c = producer.nextClose();
            assertNull(c.cause());
            assertTrue(producer.maxQueued > config.highWatermark());
            assertTrue(producer.maxQueued <= config.highWatermark() + chunk,
                    () -> "queued up to " + producer.maxQueued + " bytes; bound " + (config.highWatermark() + chunk));
            List<Boolean> changes = new ArrayList<>(producer.writability);
            changes.add(0, Boolean.FALSE);
            assertTrue(changes.size() >= 2 && changes.contains(Boolean.TRUE), () -> "writability " + changes);
            for (int i = 0; i < changes.size(); i++) {
                assertEquals(i % 2 == 1, changes.get(i), () -> "writability changes alternate: " + changes);
            }
            loop.barrier();
            producer.assertClosedOnceEach(1);
            server.close();
        }
    }

    // ------------------------------------------------------------------ idle timeouts

    @Test
    void tricklingPeerIsClosedByReadIdleTimeout() throws Exception {
        Duration readIdle = Duration.ofMillis(200);
        try (Loop loop = Loop.start("trickle")) {
            Tracking handler = new Tracking();
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withIdleTimeouts(readIdle, Duration.ZERO, Duration.ZERO))
                    .handler(handler).start();
            AtomicBoolean stop = new AtomicBoolean();
            try (SocketChannel ch = connect(server.localAddress())) {
                long start = System.nanoTime();
                Thread trickler = new Thread(() -> {
                    try {
                        while (!stop.get()) {
                            ch.write(ByteBuffer.wrap(new byte[] {'.'}));
                            Thread.sleep(400); // slower than the idle timeout: the behaviour under test
                        }
                    } catch (IOException | InterruptedException e) {
                        // the server closed the connection, or the test is over
                    }
                }, "trickler");
                trickler.start();
                try {
                    Closed c = handler.nextClose();
                    long after = System.nanoTime() - start;
                    IdleTimeoutException e = assertInstanceOf(IdleTimeoutException.class, c.cause());
                    assertEquals(IdleState.READER_IDLE, e.state());
                    assertTrue(c.connection().bytesRead() >= 1, "the peer did send something");
                    assertTrue(after >= readIdle.toNanos(), "closed after " + after / 1_000_000 + " ms");
                    // the peer sees the connection end
                    ByteBuffer b = ByteBuffer.allocate(16);
                    int n;
                    try {
                        n = ch.read(b);
                    } catch (IOException reset) {
                        n = -1;
                    }
                    assertEquals(-1, n);
                } finally {
                    stop.set(true);
                    trickler.interrupt();
                    trickler.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                }
            }
            loop.barrier();
            handler.assertClosedOnceEach(1);
            server.close();
        }
    }

    @Test
    void writerIdleAndAllIdleReachTheHandler() throws Exception {
        record Idle(IdleState state, long bytesWritten) {
        }
        BlockingQueue<Idle> idles = new LinkedBlockingQueue<>();
        try (Loop loop = Loop.start("writeridle")) {
            Tracking handler = new Tracking() {
                @Override
                public void onIdle(Connection c, IdleState state) throws Exception {
                    idles.add(new Idle(state, c.bytesWritten()));
                    if (idles.size() == 1) {
                        c.write("ping"); // writing resets the writer-idle clock
                    } else {
                        super.onIdle(c, state); // the default: close with the exception
                    }
                }
            };
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults()
                            .withIdleTimeouts(Duration.ZERO, Duration.ofMillis(100), Duration.ZERO))
                    .handler(handler).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                assertEquals("ping", new String(readFully(ch, 4), StandardCharsets.UTF_8));
                Closed c = handler.nextClose();
                IdleTimeoutException e = assertInstanceOf(IdleTimeoutException.class, c.cause());
                assertEquals(IdleState.WRITER_IDLE, e.state());
                assertEquals(new Idle(IdleState.WRITER_IDLE, 0), idles.poll());
                assertEquals(new Idle(IdleState.WRITER_IDLE, 4), idles.poll());
                assertTrue(idles.isEmpty(), () -> "idle events: " + idles);
                assertEquals(-1, ch.read(ByteBuffer.allocate(4)));
            }
            server.close();

            Tracking allIdle = new Tracking();
            TcpServer quiet = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults()
                            .withIdleTimeouts(Duration.ZERO, Duration.ZERO, Duration.ofMillis(100)))
                    .handler(allIdle).start();
            try (SocketChannel ch = connect(quiet.localAddress())) {
                Closed c = allIdle.nextClose();
                assertEquals(IdleState.ALL_IDLE, assertInstanceOf(IdleTimeoutException.class, c.cause()).state());
                assertEquals(-1, ch.read(ByteBuffer.allocate(4)));
            }
            loop.barrier();
            handler.assertClosedOnceEach(1);
            allIdle.assertClosedOnceEach(1);
            quiet.close();
        }
    }

    // ------------------------------------------------------------------ connection refused

    private static InetSocketAddress closedPort() throws IOException {
        try (ServerSocketChannel s = ServerSocketChannel.open()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return (InetSocketAddress) s.getLocalAddress();
        }
    }

    @Test
    void connectToClosedPortReportsEconnrefusedWithoutOnOpen_polled() throws Exception {
        InetSocketAddress nobody = closedPort();
        try (Reactor reactor = Reactor.builder().name("nettest-refused-polled").build()) {
            Tracking handler = new Tracking();
            CompletableFuture<Connection> f = TcpClient.builder(reactor).remote(nobody).handler(handler).connect();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (!(f.isDone() && handler.closed.size() == 1)) {
                assertTrue(System.nanoTime() < deadline, "connect did not fail in time");
                reactor.poll(Duration.ofMillis(100));
            }
            reactor.poll(Duration.ZERO);
            assertRefused(handler, f);
        }
    }

    @Test
    void connectToClosedPortReportsEconnrefusedWithoutOnOpen_threaded() throws Exception {
        InetSocketAddress nobody = closedPort();
        try (Loop loop = Loop.start("refused")) {
            Tracking handler = new Tracking();
            CompletableFuture<Connection> f = TcpClient.builder(loop.reactor).remote(nobody).handler(handler)
                    .config(ConnectionConfig.defaults().withTrigger(TriggerMode.EDGE)).connect();
            Closed c = handler.nextClose();
            handler.closed.add(c); // put back for assertRefused
            loop.barrier();
            assertRefused(handler, f);
        }
    }

    private static void assertRefused(Tracking handler, CompletableFuture<Connection> f) throws Exception {
        ExecutionException ee = assertThrows(ExecutionException.class, () -> f.get(WAIT_SECONDS, TimeUnit.SECONDS));
        EpollException fe = assertInstanceOf(EpollException.class, ee.getCause());
        assertEquals("ECONNREFUSED", fe.errnoName(), fe::getMessage);
        Closed c = handler.nextClose();
        EpollException e = assertInstanceOf(EpollException.class, c.cause());
        assertEquals("ECONNREFUSED", e.errnoName(), e::getMessage);
        assertTrue(handler.opened.isEmpty(), "onOpen must not run for a failed connect");
        handler.assertClosedOnceEach(1);
        assertFalse(c.connection().isOpen());
        assertThrows(ClosedConnectionException.class, () -> c.connection().write("x"));
    }
}
