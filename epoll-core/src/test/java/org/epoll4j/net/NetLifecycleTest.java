package org.epoll4j.net;

import org.epoll4j.ClosedReactorException;
import org.epoll4j.EpollException;
import org.epoll4j.TriggerMode;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A connection's life and death: writes after close fail with {@link ClosedConnectionException}, onClose runs exactly
 * once whichever way the connection ends, and writes from a thread other than the reactor's arrive in order.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class NetLifecycleTest {
    @TempDir
    Path dir;

    @Test
    void writeAfterCloseThrowsFromAnyThread() throws Exception {
        Path file = Files.write(dir.resolve("f"), new byte[] {1, 2, 3});
        try (Loop loop = Loop.start("writeafterclose"); FileChannel fc = FileChannel.open(file)) {
            Tracking handler = new Tracking();
            TcpServer server = TcpServer.builder(loop.reactor).handler(handler).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection c = handler.nextOpen();
                c.close(); // from the test thread: handed to the reactor
                assertNull(handler.nextClose().cause());
                assertFalse(c.isOpen());
                assertEquals(-1, ch.read(ByteBuffer.allocate(1)), "the peer sees EOF");
                String opened = file.toRealPath().toString();
                for (Runnable write : List.<Runnable>of(() -> c.write("x"), () -> c.write(new byte[1]),
                        () -> c.write(ByteBuffer.allocateDirect(1)), () -> c.sendFile(fc, 0, 3),
                        () -> {
                            try {
                                c.sendFile(file, 0, 3);
                            } catch (IOException e) {
                                throw new AssertionError(e);
                            }
                        })) {
                    assertThrows(ClosedConnectionException.class, write::run);
                    loop.call(() -> assertThrows(ClosedConnectionException.class, write::run));
                }
                // fc (still open) is the only fd on the file: sendFile(Path) closed the one it opened. Checked by
                // target, not by count: other threads of this JVM may open or close fds meanwhile.
                assertEquals(1, org.epoll4j.testutil.FdLeakCheck.openFds().values().stream()
                                .filter(opened::equals).count(),
                        "sendFile(Path) on a closed connection closes the file it opened");
                // closing again does nothing
                c.close();
                c.abort();
                c.shutdownOutput();
                loop.barrier();
                handler.assertClosedOnceEach(1);
            }
            server.close();
        }
    }

    @Test
    void writeFromAnotherThreadAfterShutdownOutputThrows() throws Exception {
        try (Loop loop = Loop.start("shutdownwrite")) {
            Tracking handler = new Tracking();
            TcpServer server = TcpServer.builder(loop.reactor).handler(handler).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection c = handler.nextOpen();
                c.write("bye");
                c.shutdownOutput();
                assertEquals("bye", new String(readFully(ch, 3), StandardCharsets.UTF_8));
                assertEquals(-1, ch.read(ByteBuffer.allocate(1)), "FIN after the queued bytes");
                assertTrue(loop.call(c::isOutputShutdown));
                assertThrows(ClosedConnectionException.class, () -> c.write("more"));
                assertTrue(c.isOpen(), "half-closed, not closed");
                // the connection can still read; the peer's FIN then completes the close
                ch.shutdownOutput();
                assertNull(handler.nextClose().cause());
            }
            loop.barrier();
            handler.assertClosedOnceEach(1);
            server.close();
        }
    }

    enum Ending { CLOSE, CLOSE_WITH_QUEUED_BYTES, ABORT, PEER_FIN, PEER_RESET, ON_DATA_THROWS, ON_OPEN_THROWS, CLOSE_WITH }

    /** A handler whose onOpen/onData can be told to throw. */
    static final class Scripted extends Tracking {
        final RuntimeException boom = new IllegalStateException("boom from the handler");
        final Ending ending;

        Scripted(Ending ending) {
            this.ending = ending;
        }

        @Override
        public void onOpen(Connection c) throws Exception {
            super.onOpen(c);
            if (ending == Ending.ON_OPEN_THROWS) {
                throw boom;
            }
        }

        @Override
        public void onData(Connection c, ByteBuffer data) throws Exception {
            super.onData(c, data);
            if (ending == Ending.ON_DATA_THROWS) {
                throw boom;
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Ending.class)
    void onCloseRunsExactlyOnce(Ending ending) throws Exception {
        for (TriggerMode mode : TriggerMode.values()) {
            try (Loop loop = Loop.start("ending-" + ending + "-" + mode)) {
                Scripted handler = new Scripted(ending);
                TcpServer server = TcpServer.builder(loop.reactor)
                        .config(ConnectionConfig.defaults().withTrigger(mode)).handler(handler).start();
                try (SocketChannel ch = connect(server.localAddress())) {
                    Connection c = handler.nextOpen();
                    Throwable expected = end(ending, c, ch, handler);
                    Closed closed = handler.nextClose();
                    assertSame(c, closed.connection());
                    switch (ending) {
                        case PEER_RESET -> {
                            EpollException e = assertInstanceOf(EpollException.class, closed.cause());
                            assertTrue(Set.of("ECONNRESET", "EPIPE").contains(e.errnoName()), e::getMessage);
                        }
                        default -> assertSame(expected, closed.cause(), () -> ending + ": " + closed.cause());
                    }
                    if (ending == Ending.ON_DATA_THROWS) {
                        assertEquals(List.of(handler.boom), loop.failures, "reported to the error handler");
                    }
                    assertThrows(ClosedConnectionException.class, () -> c.write("after"));
                    // more traffic and more loop iterations bring no second onClose
                    if (ending != Ending.PEER_RESET) {
                        try {
                            ch.write(ByteBuffer.wrap(new byte[] {1}));
                        } catch (IOException ignored) {
                            // the connection is gone
                        }
                    }
                    loop.barrier();
                    loop.barrier();
                    handler.assertClosedOnceEach(1);
                    assertTrue(handler.closed.isEmpty());
                }
                server.close();
            }
        }
    }

    /** Ends the connection the given way; returns the cause onClose must see (for the non-reset cases). */
    private static Throwable end(Ending ending, Connection c, SocketChannel ch, Scripted handler) throws Exception {
        switch (ending) {
            case CLOSE -> {
                c.close();
                assertEquals(-1, ch.read(ByteBuffer.allocate(1)));
                return null;
            }
            case CLOSE_WITH_QUEUED_BYTES -> {
                int n = 6 << 20;
                c.write(bytes(5, 0, n));
                c.close(); // graceful: every queued byte first
                assertEquals(n, readToEof(ch, new Verifier(5, "queued before close")));
                return null;
            }
            case ABORT -> {
                c.abort();
                IOException e = assertThrows(IOException.class, () -> ch.read(ByteBuffer.allocate(1)));
                assertTrue(String.valueOf(e.getMessage()).contains("reset"), e::toString);
                return null;
            }
            case CLOSE_WITH -> {
                IOException why = new IOException("application says no");
                c.closeWith(why);
                assertEquals(-1, ch.read(ByteBuffer.allocate(1)));
                return why;
            }
            case PEER_FIN -> {
                ch.shutdownOutput();
                assertEquals(-1, ch.read(ByteBuffer.allocate(1)));
                return null;
            }
            case PEER_RESET -> {
                ch.setOption(StandardSocketOptions.SO_LINGER, 0);
                ch.close();
                return null;
            }
            case ON_DATA_THROWS -> {
                ch.write(ByteBuffer.wrap("trigger".getBytes(StandardCharsets.UTF_8)));
                return handler.boom;
            }
            case ON_OPEN_THROWS -> {
                return handler.boom;
            }
            default -> throw new AssertionError(ending);
        }
    }

    @Test
    void closingTheReactorClosesOpenConnectionsWithClosedReactorException() throws Exception {
        List<SocketChannel> clients = new ArrayList<>();
        Loop loop = Loop.start("closing");
        try {
            Tracking serverSide = new Tracking();
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withIdleTimeouts(java.time.Duration.ofMinutes(5),
                            java.time.Duration.ZERO, java.time.Duration.ZERO))
                    .handler(serverSide).start();
            for (int i = 0; i < 3; i++) {
                clients.add(connect(server.localAddress()));
            }
            // one more from a TcpClient on the same reactor, and one closing gracefully with bytes queued
            Tracking clientSide = new Tracking();
            Connection client = TcpClient.builder(loop.reactor).remote(server.localAddress()).handler(clientSide)
                    .connect().get(WAIT_SECONDS, TimeUnit.SECONDS);
            List<Connection> accepted = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                accepted.add(serverSide.nextOpen());
            }
            Connection stuck = accepted.get(0); // its peer (clients[0]) never reads
            stuck.write(bytes(9, 0, 16 << 20));
            stuck.close();
            loop.barrier();
            assertTrue(stuck.isOpen(), "still flushing");

            loop.close();

            assertFalse(loop.thread.isAlive());
            assertEquals(4, serverSide.closed.size());
            for (int i = 0; i < 4; i++) {
                assertInstanceOf(ClosedReactorException.class, serverSide.nextClose().cause());
            }
            assertInstanceOf(ClosedReactorException.class, clientSide.nextClose().cause());
            serverSide.assertClosedOnceEach(4);
            clientSide.assertClosedOnceEach(1);
            for (Connection c : accepted) {
                assertFalse(c.isOpen());
                assertThrows(ClosedConnectionException.class, () -> c.write("x"));
            }
            assertThrows(ClosedConnectionException.class, () -> client.write("x"));
            // the peers see their connections end
            for (SocketChannel ch : clients) {
                try {
                    ByteBuffer b = ByteBuffer.allocate(1 << 16);
                    while (ch.read(b) >= 0) {
                        b.clear();
                    }
                } catch (IOException reset) {
                    // the stuck one may be reset: its unsent bytes were dropped
                }
            }
            // connecting on a closed reactor fails at once
            Tracking late = new Tracking();
            CompletableFuture<Connection> f = TcpClient.builder(loop.reactor).remote(server.localAddress())
                    .handler(late).connect();
            assertTrue(f.isCompletedExceptionally());
            assertTrue(late.closed.isEmpty() && late.opened.isEmpty());
            server.close();
        } finally {
            loop.close();
            for (SocketChannel ch : clients) {
                ch.close();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void writesFromAnotherThreadArriveInOrder(TriggerMode mode) throws Exception {
        try (Loop loop = Loop.start("crossthread-" + mode)) {
            Tracking handler = new Tracking();
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withTrigger(mode)).handler(handler).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection c = handler.nextOpen();
                CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
                    try {
                        return readToEof(ch, new Verifier(77, "cross-thread writes"));
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                SplittableRandom r = new SplittableRandom(77);
                long pos = 0;
                byte[] scratch = new byte[20_000];
                for (int i = 0; i < 3000; i++) {
                    int n = 1 + r.nextInt(scratch.length);
                    fill(77, pos, scratch, 0, n);
                    switch (i % 3) {
                        case 0 -> c.write(ByteBuffer.wrap(scratch, 0, n));
                        case 1 -> {
                            ByteBuffer direct = ByteBuffer.allocateDirect(n);
                            direct.put(scratch, 0, n).flip();
                            c.write(direct);
                        }
                        default -> c.write(java.util.Arrays.copyOf(scratch, n));
                    }
                    pos += n;
                    // the caller's buffer is copied: scribbling on it now must not change what is sent
                    java.util.Arrays.fill(scratch, (byte) 0x55);
                }
                c.close(); // queued after the writes: a graceful close once they are sent
                assertEquals(pos, received.get(WAIT_SECONDS, TimeUnit.SECONDS));
                assertNull(handler.nextClose().cause());
            }
            loop.barrier();
            handler.assertClosedOnceEach(1);
            server.close();
        }
    }
    /**
     * The server greets and closes at once, while the client's reactor is busy: the connect completion, the
     * greeting and the FIN reach the client's epoll as one event. The client must still read the greeting and see
     * the FIN, under EDGE too (where that event is the only one it will ever get).
     */
    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void clientReadsGreetingThatArrivesWithConnectCompletion(TriggerMode mode) throws Exception {
        try (Loop serverLoop = Loop.start("greeter-" + mode); Loop clientLoop = Loop.start("greeted-" + mode)) {
            java.util.concurrent.CountDownLatch greeted = new java.util.concurrent.CountDownLatch(1);
            Tracking greeter = new Tracking() {
                @Override
                public void onOpen(Connection c) throws Exception {
                    super.onOpen(c);
                    c.write("hello");
                    c.close();
                    greeted.countDown();
                }
            };
            TcpServer server = TcpServer.builder(serverLoop.reactor).handler(greeter).start();
            StringBuffer got = new StringBuffer();
            Tracking client = new Tracking() {
                @Override
                public void onData(Connection c, ByteBuffer data) {
                    got.append(StandardCharsets.UTF_8.decode(data));
                }
            };
            CompletableFuture<Connection> f = TcpClient.builder(clientLoop.reactor).remote(server.localAddress())
                    .config(ConnectionConfig.defaults().withTrigger(mode)).handler(client).connect();
            // runs right after the connect was started: keeps the client's reactor busy until the server is done
            clientLoop.reactor.execute(() -> {
                try {
                    greeted.await(WAIT_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertNull(greeter.nextClose().cause());
            f.get(WAIT_SECONDS, TimeUnit.SECONDS);
            Closed c = client.nextClose();
            assertNull(c.cause(), () -> "cause: " + c.cause());
            assertEquals("hello", got.toString());
            assertTrue(c.connection().isInputClosed());
            clientLoop.barrier();
            client.assertClosedOnceEach(1);
            server.close();
        }
    }
    enum Finish { CLOSE, SHUTDOWN_OUTPUT }

    static Stream<Arguments> modesAndFinishes() {
        return Stream.of(TriggerMode.values())
                .flatMap(m -> Stream.of(Finish.values()).map(f -> Arguments.of(m, f)));
    }

    /**
     * With a low watermark of 0, onWritabilityChanged(true) fires from the flush that emptied the queue. A handler
     * that writes its last, large piece there and then closes (or shuts down output) must still get every byte out.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("modesAndFinishes")
    void bytesWrittenInWritabilityCallbackBeforeCloseAreSent(TriggerMode mode, Finish finish) throws Exception {
        int first = 16 << 20;
        int last = 8 << 20;
        CountDownLatch queued = new CountDownLatch(1);
        try (Loop loop = Loop.start("lastwrite-" + mode + "-" + finish)) {
            Tracking handler = new Tracking() {
                boolean done;

                @Override
                public void onOpen(Connection c) throws Exception {
                    super.onOpen(c);
                    c.write(bytes(3, 0, first)); // far more than the socket takes: queued, unwritable
                }

                @Override
                public void onWritabilityChanged(Connection c, boolean writable) {
                    if (!writable) {
                        queued.countDown();
                    }
                    if (writable && !done) {
                        done = true;
                        c.write(bytes(3, first, last));
                        if (finish == Finish.CLOSE) {
                            c.close();
                        } else {
                            c.shutdownOutput();
                        }
                    }
                }
            };
            TcpServer server = TcpServer.builder(loop.reactor).handler(handler)
                    .config(ConnectionConfig.defaults().withTrigger(mode).withWriteWatermarks(0, 64 * 1024))
                    .start();
            try (SocketChannel ch = connect(server.localAddress())) {
                handler.nextOpen();
                // Read only once the first write is queued: a client reading from the start can keep up with the
                // reactor and take all 16 MiB at once, and then the writability callback under test never runs.
                assertTrue(queued.await(WAIT_SECONDS, TimeUnit.SECONDS), "the first write was queued");
                assertEquals(first + last, readToEof(ch, new Verifier(3, "all of it")));
                ch.shutdownOutput(); // for SHUTDOWN_OUTPUT: the peer's FIN completes the close
                Closed c = handler.nextClose();
                assertNull(c.cause(), () -> "cause: " + c.cause());
                assertEquals(first + last, c.connection().bytesWritten());
            }
            loop.barrier();
            handler.assertClosedOnceEach(1);
            server.close();
        }
    }
}
