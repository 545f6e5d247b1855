package org.epoll4j.net;

import org.epoll4j.TriggerMode;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.epoll4j.net.NetTestKit.Loop;
import static org.epoll4j.net.NetTestKit.Tracking;
import static org.epoll4j.net.NetTestKit.WAIT_SECONDS;
import static org.epoll4j.net.NetTestKit.awaitUntil;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link Splice} between two accepted connections (socket → pipe → socket): byte-exact both ways, the FIN passed
 * on after the pipe drained, a slow reader bounding what the pipe holds and pausing the other side, a graceful close
 * delivering the pipe's bytes, TLS refused, the copy fallback, and every pipe closed.
 */
@Timeout(60)
@ExtendWith(FdLeakCheck.class)
class SpliceTest {
    /** How the relay runs: splice under both trigger modes, and the EINVAL fallback (copy) forced. */
    enum Mode {
        EDGE, LEVEL, COPY
    }

    /** Two accepted connections of one server, spliced once the second opened; their blocking peers. */
    private static final class Pair implements AutoCloseable {
        final TcpServer server;
        /** A relay keeps the other direction open after a FIN (the default onReadHangup closes). */
        final Tracking handler = new Tracking() {
            @Override
            public void onReadHangup(Connection connection) {
            }
        };
        final Socket s1;
        final Socket s2;
        final Connection c1;
        final Connection c2;
        final Splice splice;

        Pair(Loop loop, ConnectionConfig config, int pipeSize, boolean copy, int peerRcvBuf) throws Exception {
            server = TcpServer.builder(loop.reactor).config(config).handler(handler).start();
            s1 = NetTestKit.connect(server.port());
            c1 = handler.nextOpen();
            s2 = new Socket();
            if (peerRcvBuf > 0) {
                s2.setReceiveBufferSize(peerRcvBuf);
            }
            s2.connect(server.localAddress());
            s2.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            c2 = handler.nextOpen();
            splice = pipeSize == 0 ? null : loop.call(() -> Splice.start(c1, c2, pipeSize, copy)); // 0: not spliced
        }

        @Override
        public void close() throws Exception {
            s1.close();
            s2.close();
            server.close();
        }
    }

    private static ConnectionConfig config(Mode mode) {
        return ConnectionConfig.defaults().withTrigger(mode == Mode.LEVEL ? TriggerMode.LEVEL : TriggerMode.EDGE);
    }

    /** Writes {@code n} bytes of the stream {@code seed} on a thread; completes with the count (or the failure). */
    private static CompletableFuture<Long> send(Socket s, long seed, long n, boolean fin) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                OutputStream out = s.getOutputStream();
                byte[] chunk = new byte[37_000];
                long pos = 0;
                while (pos < n) {
                    int len = (int) Math.min(chunk.length, n - pos);
                    NetTestKit.fill(seed, pos, chunk, 0, len);
                    out.write(chunk, 0, len);
                    pos += len;
                }
                if (fin) {
                    s.shutdownOutput();
                }
                done.complete(pos);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "splice-sender");
        t.setDaemon(true);
        t.start();
        return done;
    }

    /** Reads to EOF on a thread, checking every byte against the stream {@code seed}; completes with the count. */
    private static CompletableFuture<Long> receive(Socket s, long seed) {
        CompletableFuture<Long> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                InputStream in = s.getInputStream();
                byte[] buf = new byte[50_000];
                byte[] want = new byte[buf.length];
                long pos = 0;
                int n;
                while ((n = in.read(buf)) > 0) {
                    NetTestKit.fill(seed, pos, want, 0, n);
                    if (!Arrays.equals(buf, 0, n, want, 0, n)) {
                        throw new AssertionError("byte mismatch in [" + pos + ", " + (pos + n) + ")");
                    }
                    pos += n;
                }
                done.complete(pos);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "splice-receiver");
        t.setDaemon(true);
        t.start();
        return done;
    }

    private static long pipes() throws IOException {
        long n = 0;
        try (var fds = Files.list(Paths.get("/proc/self/fd"))) {
            for (Path p : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(p).toString().startsWith("pipe:")) {
                        n++;
                    }
                } catch (IOException gone) {
                    // closed while listing
                }
            }
        }
        return n;
    }

    private static long get(CompletableFuture<Long> f) throws Exception {
        return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void relaysLargeStreamsBothWaysByteExactAndPassesEachFinOn(Mode mode) throws Exception {
        long pipesBefore = pipes();
        long up = 8L * 1024 * 1024 + 4321;
        long down = 5L * 1024 * 1024 + 77;
        try (Loop loop = Loop.start("splice-relay"); Pair p = new Pair(loop, config(mode), 64 * 1024, mode == Mode.COPY, 0)) {
            assertEquals(mode != Mode.COPY, p.splice.isZeroCopy());
            assertEquals(pipesBefore + (mode == Mode.COPY ? 0 : 4), pipes(), "two pipes (four fds)");
            CompletableFuture<Long> atS2 = receive(p.s2, 1);
            CompletableFuture<Long> atS1 = receive(p.s1, 2);
            CompletableFuture<Long> fromS2 = send(p.s2, 2, down, false);
            assertEquals(up, get(send(p.s1, 1, up, true)));
            assertEquals(up, get(atS2), "s1's stream and then its FIN (s2 reads EOF)");
            assertFalse(atS1.isDone(), "the other direction stays open");
            assertEquals(down, get(fromS2));
            assertTrue(loop.call(() -> p.c2.isOutputShutdown() && p.c1.isInputClosed() && p.c1.isOpen()));
            p.s2.shutdownOutput();
            assertEquals(down, get(atS1), "s2's stream and its FIN");
            awaitUntil(() -> !p.c1.isOpen() || p.c1.isOutputShutdown(), "c1's output shut after s2's FIN");
            assertEquals(up, p.splice.bytesRelayed(p.c1));
            assertEquals(down, p.splice.bytesRelayed(p.c2));
            assertEquals(up, p.c1.bytesRead(), "bytes moved by splice count as read");
            assertEquals(up, p.c2.bytesWritten(), "and as written");
            assertEquals(down, p.c2.bytesRead());
            assertEquals(down, p.c1.bytesWritten());
            loop.call(() -> {
                p.c1.close();
                p.c2.close();
                return null;
            });
            p.handler.nextClose();
            p.handler.nextClose();
            assertTrue(loop.failures.isEmpty(), () -> "handler failures: " + loop.failures);
        }
        awaitUntil(() -> {
            try {
                return pipes() == pipesBefore;
            } catch (IOException e) {
                return false;
            }
        }, "every pipe closed");
    }

    /**
     * s2 reads nothing: the pipe toward c2 fills, c1 stops being read (SPLICE pause), c2's queued bytes never pass
     * the pipe size, and c2 turns unwritable above its high watermark; then s2 reads it all, byte-exact.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void aSlowReaderFillsThePipeAndPausesTheOtherSide(Mode mode) throws Exception {
        int pipeSize = 64 * 1024;
        ConnectionConfig cfg = config(mode).withWriteWatermarks(512, 1024);
        AtomicLong peak = new AtomicLong();
        try (Loop loop = Loop.start("splice-slow"); Pair p = new Pair(loop, cfg, pipeSize, mode == Mode.COPY, 4096)) {
            long total = 16L * 1024 * 1024;
            CompletableFuture<Long> sent = send(p.s1, 3, total, true);
            awaitUntil(() -> {
                try {
                    return loop.call(() -> {
                        peak.accumulateAndGet(p.c2.queuedBytes(), Math::max);
                        return p.c1.isReadingPausedFor(ReadPause.SPLICE);
                    });
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "c1 paused by the full pipe");
            assertFalse(sent.isDone(), "the sender is held back by TCP");
            long held = loop.call(p.c2::queuedBytes);
            assertTrue(held > 1024 && held <= pipeSize, "pipe bytes count as c2's queue: " + held);
            assertFalse(loop.call(p.c2::isWritable), "above c2's high watermark");
            assertTrue(loop.call(() -> p.c1.bytesRead() - p.c2.bytesWritten()) <= pipeSize,
                    "c1 read no more than the pipe holds beyond what c2 wrote");
            CompletableFuture<Long> got = receive(p.s2, 3);
            assertEquals(total, get(got), "byte-exact, then the FIN");
            assertEquals(total, get(sent));
            assertTrue(peak.get() <= pipeSize, "peak " + peak.get());
            assertTrue(loop.call(p.c2::isWritable), "writable again once the pipe drained");
            assertFalse(loop.call(() -> p.c1.isReadingPausedFor(ReadPause.SPLICE)));
        }
    }

    /** close() on c2 while the pipe toward it holds bytes: they all go out before the FIN. */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void aGracefulCloseDeliversWhatThePipeHolds(Mode mode) throws Exception {
        try (Loop loop = Loop.start("splice-close"); Pair p = new Pair(loop, config(mode), 64 * 1024, mode == Mode.COPY, 4096)) {
            long total = 4L * 1024 * 1024;
            CompletableFuture<Long> sent = send(p.s1, 4, total, false);
            awaitUntil(() -> {
                try {
                    return loop.call(() -> p.c1.isReadingPausedFor(ReadPause.SPLICE));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "pipe full");
            long[] atClose = loop.call(() -> {
                long[] r = {p.c2.bytesWritten(), p.c2.queuedBytes()};
                p.c2.close();
                return r;
            });
            assertTrue(atClose[1] > 0, "bytes in the pipe at close");
            long got = get(receive(p.s2, 4));
            assertTrue(got >= atClose[0] + atClose[1], "got " + got + ", had written " + atClose[0] + " + "
                    + atClose[1] + " in the pipe");
            p.s2.close(); // ends c2's linger
            assertNull(p.handler.nextClose().cause());
            assertEquals(got, p.c2.bytesWritten());
            assertTrue(p.c1.isOpen(), "c1 stays: its input went back to its handler");
            p.s1.close();
            sent.handle((n, e) -> n); // the sender may end with a reset
            loop.call(() -> {
                p.c1.close();
                return null;
            });
            p.handler.nextClose();
        }
    }

    /**
     * s2 resets while the pipe toward c2 is full: c2 closes with the error, what the pipe held is dropped, both pipes
     * close (the one from c2 was empty), and c1's input goes back to its handler, which reads the rest of s1's stream.
     */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void aResetOnOneSideDropsItsPipeAndHandsTheOtherInputBack(Mode mode) throws Exception {
        long pipesBefore = pipes();
        try (Loop loop = Loop.start("splice-reset"); Pair p = new Pair(loop, config(mode), 64 * 1024, mode == Mode.COPY, 4096)) {
            long total = 4L * 1024 * 1024;
            CompletableFuture<Long> sent = send(p.s1, 5, total, true);
            awaitUntil(() -> {
                try {
                    return loop.call(() -> p.c1.isReadingPausedFor(ReadPause.SPLICE));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }, "pipe full");
            p.s2.setSoLinger(true, 0);
            p.s2.close(); // a reset
            NetTestKit.Closed closed = p.handler.nextClose();
            assertSame(p.c2, closed.connection());
            assertNotNull(closed.cause(), "closed by the reset");
            assertEquals(total, get(sent), "c1 reads the rest itself (its handler discards it)");
            awaitUntil(() -> p.c1.isInputClosed() && p.c1.bytesRead() == total, "c1 read everything");
            assertFalse(loop.call(() -> p.c1.isReadingPausedFor(ReadPause.SPLICE)));
            assertEquals(pipesBefore, pipes(), "both pipes closed: nothing goes to c2, and nothing more comes from it");
            loop.call(() -> {
                p.c1.close();
                return null;
            });
            p.handler.nextClose();
        }
        assertEquals(pipesBefore, pipes(), "every pipe closed");
    }

    @Test
    void tlsConnectionsAreRefused() throws Exception {
        TlsTestKit kit = TlsTestKit.get();
        Tracking h = new Tracking();
        try (Loop loop = Loop.start("splice-tls")) {
            TcpServer server = TcpServer.builder(loop.reactor).tls(TlsConfig.server(kit.serverContext())).handler(h)
                    .start();
            TcpServer plain = TcpServer.builder(loop.reactor).handler(h).start();
            InetSocketAddress at = (InetSocketAddress) server.localAddress();
            try (SSLSocket s = (SSLSocket) kit.clientContext().getSocketFactory().createSocket(at.getAddress(),
                    at.getPort()); Socket other = NetTestKit.connect(plain.port())) {
                s.startHandshake();
                Connection tls = h.nextOpen();
                Connection c = h.nextOpen();
                if (!tls.isTls()) {
                    Connection t = tls;
                    tls = c;
                    c = t;
                }
                Connection a = tls;
                Connection b = c;
                long pipesBefore = pipes();
                Throwable e = failure(loop, () -> Splice.between(a, b));
                assertTrue(e instanceof IllegalArgumentException && e.getMessage().contains("TLS"), e.toString());
                e = failure(loop, () -> {
                    a.drive(new SocketDriver() {
                        @Override
                        public long read(int max) {
                            return DECLINE;
                        }

                        @Override
                        public void onWritable() {
                        }

                        @Override
                        public long heldForOutput() {
                            return 0;
                        }

                        @Override
                        public void closed() {
                        }
                    });
                    return null;
                });
                assertTrue(e instanceof IllegalStateException && e.getMessage().contains("TLS"), "the hook refuses "
                        + "TLS too: " + e);
                assertEquals(pipesBefore, pipes(), "no pipe made");
            }
            h.nextClose();
            h.nextClose();
            server.close();
            plain.close();
        }
    }

    /**
     * The read size bounds what passes through memory, not splice(2): 1 MiB spliced with a read size of 1 KiB takes
     * far fewer than a thousand calls into the pipe, each moving up to the pipe's room.
     */
    @Test
    void spliceMovesUpToThePipesRoomNotTheReadSize() throws Exception {
        int readSize = 1024;
        long total = 1024 * 1024;
        try (Loop loop = Loop.start("splice-read-size");
             Pair p = new Pair(loop, config(Mode.EDGE).withReadSize(readSize), 64 * 1024, false, 0)) {
            CompletableFuture<Long> got = receive(p.s2, 4);
            assertEquals(total, get(send(p.s1, 4, total, true)));
            assertEquals(total, get(got), "byte-exact, then the FIN");
            assertTrue(p.splice.isZeroCopy(), "spliced, not the copy fallback");
            long calls = loop.call(() -> p.splice.spliceCalls(p.c1));
            assertTrue(calls > 0 && calls < total / readSize / 4, "splice calls into the pipe for 1 MiB: " + calls);
        }
    }

    /** What {@code action} threw on the loop. */
    private static Throwable failure(Loop loop, java.util.concurrent.Callable<?> action) {
        java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                () -> loop.call(action));
        return e.getCause();
    }

    /** A connection that reads passed fds cannot be spliced: the pipe would drop them. */
    @Test
    void fdPassingConnectionsAreRefused() throws Exception {
        try (Loop loop = Loop.start("splice-fds");
             Pair p = new Pair(loop, config(Mode.EDGE).withFileDescriptorPassing(true), 0, false, 0)) {
            long pipesBefore = pipes();
            Throwable e = failure(loop, () -> Splice.between(p.c1, p.c2));
            assertTrue(e instanceof IllegalArgumentException && e.getMessage().contains("file descriptors"),
                    e.toString());
            assertEquals(pipesBefore, pipes(), "no pipe made");
        }
    }

    @Test
    void misuseIsRefusedWithAClearError() throws Exception {
        try (Loop loop = Loop.start("splice-misuse"); Pair p = new Pair(loop, config(Mode.EDGE), 4096, false, 0)) {
            assertThrows(IllegalStateException.class, () -> Splice.between(p.c1, p.c2), "off the loop");
            Throwable again = failure(loop, () -> Splice.between(p.c1, p.c2));
            assertTrue(again instanceof IllegalStateException && again.getMessage().contains("already spliced"),
                    again.toString());
            Throwable self = failure(loop, () -> Splice.between(p.c1, p.c1));
            assertTrue(self instanceof IllegalArgumentException, self.toString());
            assertTrue(p.splice.pipeSize() >= 4096);
        }
    }
}
