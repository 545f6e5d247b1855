package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.internal.Errno;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.epoll4j.net.BlockingConnectionTest.async;
import static org.epoll4j.net.BlockingConnectionTest.await;
import static org.epoll4j.net.NetTestKit.*;
import static org.epoll4j.testutil.Pbt.qt;
import static org.junit.jupiter.api.Assertions.*;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * Direct reads ({@link BlockingConnection.DirectRead}): the reading thread recv(2)s straight into its own buffer and
 * parks on EAGAIN until the loop reports the socket readable. Against real sockets: a stream written in random chunks
 * arrives byte-exact through reads of random sizes into heap, direct and array buffers (a property); a parked reader
 * wakes when bytes come; the peer's FIN and a reset are reported as before; a close or abort from another thread
 * racing the reader's recv wakes it with the usual exception and leaves no fd; the read timeout and interrupts still
 * end a direct wait; {@code bytesRead} and the read-idle timeout count direct reads; readLine and the stream
 * adapters work over them; under LEVEL reads take the loop's way.
 */
@Timeout(120)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class BlockingDirectReadTest {
    private static final long SEED = 20261204L;
    private Loop loop;

    @BeforeEach
    void start() throws Exception {
        BlockingConnection.directReads = BlockingConnection.DIRECT_READS; // off by default (measured slower)
        loop = Loop.start("direct-read");
    }

    @AfterEach
    void stop() {
        BlockingConnection.directReads = BlockingConnection.LOOP_READS;
        loop.close();
        assertEquals(List.of(), loop.failures);
    }

    private TcpServer serve(BlockingHandler handler, ConnectionConfig config) throws Exception {
        return TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0)).config(config)
                .handlerFactory(BlockingService.of(handler)).start();
    }

    /** How one example's reader reads: buffer kind (0 heap, 1 direct, 2 array) and the seed of its read sizes. */
    private record Plan(int kind, long seed) {
    }

    /** What one example's reader saw. */
    private record Seen(byte[] bytes, long bytesRead, long directBytes) {
    }

    @Test
    void aStreamWrittenInRandomChunksArrivesIntactThroughDirectReads() throws Exception {
        BlockingQueue<Plan> plans = new LinkedBlockingQueue<>();
        BlockingQueue<CompletableFuture<Seen>> results = new LinkedBlockingQueue<>();
        AtomicLong direct = new AtomicLong();
        try (TcpServer server = serve(c -> {
            Plan plan = plans.take();
            CompletableFuture<Seen> seen = results.take();
            try {
                Random sizes = new Random(plan.seed());
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                byte[] array = new byte[20_000];
                ByteBuffer heap = ByteBuffer.allocate(20_000);
                ByteBuffer off = ByteBuffer.allocateDirect(20_000);
                while (true) {
                    int want = 1 + sizes.nextInt(20_000);
                    int n;
                    if (plan.kind() == 2) {
                        n = c.read(array, 0, want);
                        if (n > 0) {
                            got.write(array, 0, n);
                        }
                    } else {
                        ByteBuffer b = (plan.kind() == 0 ? heap : off).clear().limit(want);
                        n = c.read(b);
                        if (n > 0) {
                            assertEquals(n, b.flip().remaining());
                            byte[] copy = new byte[n];
                            b.get(copy);
                            got.write(copy, 0, n);
                        }
                    }
                    if (n < 0) {
                        break;
                    }
                    assertTrue(n > 0, "a read with room returns bytes or -1");
                }
                Connection conn = c.connection();
                seen.complete(new Seen(got.toByteArray(), conn.bytesRead(), conn.directBytesRead()));
            } catch (Throwable t) {
                seen.completeExceptionally(t);
                throw t;
            }
        }, ConnectionConfig.defaults())) {
            qt(40, 10).forAll(lists().of(integers().between(1, 40_000)).ofSizeBetween(1, 40),
                    integers().between(0, 2), longs().all()).checkAssert((chunks, kind, seed) -> {
                org.epoll4j.testutil.Pbt.run(() -> {
                    CompletableFuture<Seen> seen = new CompletableFuture<>();
                    plans.add(new Plan(kind, seed));
                    results.add(seen);
                    long total = 0;
                    try (SocketChannel client = SocketChannel.open(server.localAddress())) {
                        for (int len : chunks) {
                            writeFully(client, bytes(SEED, total, len)); // each chunk its own send: its own segments
                            total += len;
                        }
                        client.shutdownOutput();
                        Seen s = await(seen);
                        assertEquals(total, s.bytes().length, "bytes that arrived");
                        new Verifier(SEED, "direct").check(s.bytes(), 0, s.bytes().length);
                        assertEquals(total, s.bytesRead(), "bytesRead counts direct and loop reads alike");
                        direct.addAndGet(s.directBytes());
                    }
                });
            });
        }
        assertTrue(direct.get() > 0, "some bytes were read directly");
    }

    @Test
    void aParkedReaderWakesWhenBytesArriveAndTheCountersCountIt() throws Exception {
        CompletableFuture<BlockingConnection> view = new CompletableFuture<>();
        BlockingQueue<Integer> reads = new LinkedBlockingQueue<>();
        try (TcpServer server = serve(c -> {
            view.complete(c);
            ByteBuffer b = ByteBuffer.allocateDirect(4096);
            for (int n; (n = c.read(b.clear())) > 0; ) {
                reads.add(n);
            }
            reads.add(-1);
        }, ConnectionConfig.defaults()); SocketChannel client = SocketChannel.open(server.localAddress())) {
            Connection conn = await(view).connection();
            long total = 0;
            for (int round = 0; round < 50; round++) {
                awaitUntil(conn::directReaderWaiting, "the reader parked in a direct read");
                int len = 1 + round * 7;
                writeFully(client, new byte[len]);
                total += len;
                long got = 0;
                while (got < len) {
                    Integer n = reads.poll(WAIT_SECONDS, TimeUnit.SECONDS);
                    assertNotNull(n, "the parked reader woke");
                    got += n;
                }
            }
            assertEquals(total, conn.bytesRead());
            assertEquals(total, conn.directBytesRead(), "every read was direct: the reader was parked each time");
            awaitUntil(conn::directReaderWaiting, "parked again");
            // Each round's bytes came in one short recv(2), after which the socket was known empty: the next read
            // parked without a recv(2) that would have found nothing (one EAGAIN look at the start, before any byte).
            assertTrue(conn.directRecvCalls() <= 50 + 2, "recv(2) calls: " + conn.directRecvCalls()
                    + " for 50 messages (no EAGAIN look after a short read)");
            client.shutdownOutput();
            assertEquals(-1, reads.poll(WAIT_SECONDS, TimeUnit.SECONDS), "the FIN, seen by a direct read");
        }
    }

    @Test
    void endOfStreamIsReportedAndStays() throws Exception {
        CompletableFuture<int[]> results = new CompletableFuture<>();
        CompletableFuture<Connection> opened = new CompletableFuture<>();
        try (TcpServer server = serve(c -> {
            opened.complete(c.connection());
            ByteBuffer b = ByteBuffer.allocate(16);
            int first = c.read(b);
            int second = c.read(b);
            int third = c.read(ByteBuffer.allocate(1));
            results.complete(new int[] {first, second, third});
            c.write(new byte[] {7}); // the output still works after the peer's FIN
        }, ConnectionConfig.defaults()); SocketChannel client = SocketChannel.open(server.localAddress())) {
            Connection conn = await(opened);
            awaitUntil(conn::directReaderWaiting, "the reader parked in a direct read");
            writeFully(client, new byte[] {1, 2, 3});
            awaitUntil(conn::directReaderWaiting, "parked again after the 3 bytes");
            client.shutdownOutput();
            assertArrayEquals(new int[] {3, -1, -1}, await(results));
            assertArrayEquals(new byte[] {7}, readFully(client, 1));
        }
    }

    @Test
    void aResetEndsAParkedDirectReadWithTheErrno() throws Exception {
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        CompletableFuture<Connection> opened = new CompletableFuture<>();
        try (TcpServer server = serve(c -> {
            opened.complete(c.connection());
            try {
                c.read(ByteBuffer.allocate(16));
                ended.complete(null);
            } catch (IOException e) {
                ended.complete(e);
            }
        }, ConnectionConfig.defaults())) {
            SocketChannel client = SocketChannel.open(server.localAddress());
            Connection conn = await(opened);
            awaitUntil(conn::directReaderWaiting, "the reader parked in a direct read");
            client.setOption(StandardSocketOptions.SO_LINGER, 0);
            client.close(); // a reset
            Throwable t = await(ended);
            SocketException e = assertInstanceOf(SocketException.class, t);
            EpollException cause = assertInstanceOf(EpollException.class, e.getCause(), () -> "the cause of " + e);
            assertEquals(Errno.ECONNRESET, cause.errno(), cause.getMessage());
            awaitUntil(() -> !conn.isOpen(), "the connection closed");
        }
    }

    @Test
    void closeOrAbortFromAnotherThreadRacingADirectReadWakesItAndLeavesNoFd() throws Exception {
        // Some rounds close while the reader is parked, others while bytes stream in (the reader in or near recv(2)):
        // the reader ends with the view's "connection closed", and the fd is closed once, by the last one out
        // (FdLeakCheck counts the class's fds).
        for (int round = 0; round < 20; round++) {
            CompletableFuture<BlockingConnection> view = new CompletableFuture<>();
            CompletableFuture<Throwable> ended = new CompletableFuture<>();
            try (TcpServer server = serve(c -> {
                view.complete(c);
                byte[] buf = new byte[700];
                try {
                    while (c.read(buf, 0, 1 + (int) (System.nanoTime() & 511)) >= 0) {
                        // reading on
                    }
                    ended.complete(null);
                } catch (IOException e) {
                    ended.complete(e);
                }
            }, ConnectionConfig.defaults()); SocketChannel client = SocketChannel.open(server.localAddress())) {
                BlockingConnection c = await(view);
                CompletableFuture<Void> streaming = null;
                if (round % 2 == 0) {
                    awaitUntil(c.connection()::directReaderWaiting, "the reader parked in a direct read");
                } else {
                    // A platform thread: a JDK socket blocking on a virtual thread would open the JDK's poller (its
                    // epoll fds stay for the JVM's life, which FdLeakCheck would count against this class).
                    CompletableFuture<Void> writer = new CompletableFuture<>();
                    Thread t = new Thread(() -> {
                        ByteBuffer chunk = ByteBuffer.allocate(1000);
                        try {
                            while (true) {
                                client.write(chunk.clear());
                            }
                        } catch (IOException closed) {
                            writer.complete(null); // the server's end, or the client, went away
                        }
                    }, "direct-read-streamer");
                    t.setDaemon(true);
                    t.start();
                    streaming = writer;
                    long before = c.connection().bytesRead();
                    awaitUntil(() -> c.connection().bytesRead() > before + 10_000, "bytes streaming in");
                }
                if (round % 4 < 2) {
                    c.close();
                } else {
                    c.abort();
                }
                Throwable t = await(ended);
                SocketException e = assertInstanceOf(SocketException.class, t, () -> "the reader's end: " + t);
                assertTrue(e.getMessage().contains("connection closed (close() of this BlockingConnection)"),
                        e.getMessage());
                client.close(); // a graceful close lingers for the peer's end: here it is
                if (streaming != null) {
                    await(streaming);
                }
                awaitUntil(() -> !c.connection().isOpen(), "the connection closed");
            }
        }
    }

    @Test
    void theReadTimeoutAndInterruptsEndADirectWaitAndTheConnectionStaysUsable() throws Exception {
        CompletableFuture<BlockingConnection> view = new CompletableFuture<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        try (TcpServer server = serve(c -> {
            view.complete(c);
            done.get();
        }, ConnectionConfig.defaults()); SocketChannel client = SocketChannel.open(server.localAddress())) {
            BlockingConnection c = await(view);
            c.readTimeout(Duration.ofMillis(100));
            long start = System.nanoTime();
            ConnectionTimeoutException e = assertThrows(ConnectionTimeoutException.class,
                    () -> c.read(ByteBuffer.allocate(8)));
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(100), "waited the timeout");
            assertEquals(ConnectionTimeoutException.Kind.READ, e.kind());
            assertTrue(e.getMessage().contains("read timeout"), e.getMessage());
            assertTrue(c.isOpen());

            c.readTimeout(Duration.ZERO);
            CompletableFuture<Thread> reader = new CompletableFuture<>();
            CompletableFuture<Boolean> interrupted = async(() -> {
                reader.complete(Thread.currentThread());
                try {
                    c.read(ByteBuffer.allocate(8));
                    return false;
                } catch (InterruptedIOException expected) {
                    return Thread.currentThread().isInterrupted();
                }
            });
            awaitUntil(c.connection()::directReaderWaiting, "the second reader parked in a direct read");
            await(reader).interrupt();
            assertTrue(await(interrupted), "InterruptedIOException, interrupt status kept");

            writeFully(client, new byte[] {1, 2, 3, 4, 5});
            ByteBuffer b = ByteBuffer.allocate(8);
            c.readTimeout(Duration.ofSeconds(WAIT_SECONDS));
            c.readFully(b.limit(5));
            assertEquals(5, c.connection().bytesRead());
            done.complete(null);
        }
    }

    @Test
    void theReadIdleTimeoutCountsDirectReads() throws Exception {
        // 1.2 s of bytes every 10 ms against a 400 ms read-idle timeout: only reads that are counted keep it off.
        CompletableFuture<Long> served = new CompletableFuture<>();
        try (TcpServer server = serve(c -> {
            long n = 0;
            ByteBuffer b = ByteBuffer.allocateDirect(64);
            try {
                for (int k; (k = c.read(b.clear())) > 0; ) {
                    n += k;
                }
                served.complete(n);
            } catch (IOException e) {
                served.completeExceptionally(e);
            }
        }, ConnectionConfig.defaults().withIdleTimeouts(Duration.ofMillis(400), Duration.ZERO, Duration.ZERO));
             SocketChannel client = SocketChannel.open(server.localAddress())) {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1200);
            long sent = 0;
            while (System.nanoTime() < end) {
                writeFully(client, new byte[] {1});
                sent++;
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10)); // pacing the peer
            }
            client.shutdownOutput();
            assertEquals(sent, (long) await(served), "no idle timeout while bytes kept coming");
        }
    }

    @Test
    void underLevelEveryReadTakesWhatTheLoopBuffered() throws Exception {
        // LEVEL would report the socket on every loop iteration while a reader owns it: the view reads the loop's way.
        CompletableFuture<long[]> served = new CompletableFuture<>();
        try (TcpServer server = serve(c -> {
            long n = 0;
            ByteBuffer b = ByteBuffer.allocateDirect(1000);
            for (int k; (k = c.read(b.clear())) > 0; ) {
                n += k;
            }
            served.complete(new long[] {n, c.connection().bytesRead(), c.connection().directBytesRead()});
        }, ConnectionConfig.defaults().withTrigger(org.epoll4j.TriggerMode.LEVEL));
             SocketChannel client = SocketChannel.open(server.localAddress())) {
            for (int i = 0; i < 20; i++) {
                writeFully(client, bytes(SEED, i * 3000L, 3000));
            }
            client.shutdownOutput();
            assertArrayEquals(new long[] {60_000, 60_000, 0}, await(served));
        }
    }

    @Test
    void readLineReadFullyAndTheStreamAdaptersWorkOverDirectReads() throws Exception {
        CompletableFuture<List<Object>> seen = new CompletableFuture<>();
        CompletableFuture<Connection> opened = new CompletableFuture<>();
        try (TcpServer server = serve(c -> {
            opened.complete(c.connection());
            String a = c.readLine(100);
            String b = c.readLine(100);
            DataInputStream in = new DataInputStream(c.inputStream());
            int number = in.readInt();
            byte[] rest = new byte[3];
            in.readFully(rest);
            seen.complete(List.of(a, b, number, new String(rest, StandardCharsets.UTF_8), in.read(),
                    c.connection().directBytesRead()));
        }, ConnectionConfig.defaults()); SocketChannel client = SocketChannel.open(server.localAddress())) {
            Connection conn = await(opened);
            awaitUntil(conn::directReaderWaiting, "readLine parked in a direct read");
            writeFully(client, "first\r".getBytes(StandardCharsets.UTF_8));
            awaitUntil(conn::directReaderWaiting, "readLine parked again for the rest of its line");
            writeFully(client, "\nsecond\n".getBytes(StandardCharsets.UTF_8));
            awaitUntil(conn::directReaderWaiting, "readInt parked");
            writeFully(client, new byte[] {0, 0, 1});
            awaitUntil(conn::directReaderWaiting, "readInt parked for its last byte");
            writeFully(client, new byte[] {2, 'x', 'y', 'z'});
            client.shutdownOutput();
            List<Object> s = await(seen);
            assertEquals(List.of("first", "second", 258, "xyz", -1), s.subList(0, 5));
            assertTrue((long) s.get(5) >= 14, "read directly: " + s.get(5));
        }
    }
}
