package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.epoll4j.internal.LibC;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The view's side of a direct send ({@link BlockingConnection.DirectSend}): with a stand-in for the connection's side
 * that sends short random prefixes (so direct sends, partial ones and hand-offs to the loop interleave), one writer's
 * bytes arrive whole and in order, a second writer's too, and flush still waits for everything. The stand-in is the
 * test's (Connection has no direct send yet): it checks the queue from the writer's thread, fine while the test keeps
 * the connection open.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class BlockingDirectSendTest {
    private static final long SEED = 20261203L;

    /** Sends at most a random 1..700 bytes, and only while the connection's queue is empty. */
    static final class ShortSends implements BlockingConnection.DirectSend {
        static final AtomicLong direct = new AtomicLong();
        private final Connection connection;
        private final ByteBuffer scratch = ByteBuffer.allocateDirect(1024);
        private final long address = org.epoll4j.internal.NativeMemory.address(scratch);
        private final Random random = new Random(SEED);

        ShortSends(Connection connection) {
            this.connection = connection;
        }

        @Override
        public synchronized int trySend(ByteBuffer src) {
            if (!connection.isOpen() || connection.queuedBytes() != 0) {
                return -1;
            }
            int n = Math.min(src.remaining(), 1 + random.nextInt(700));
            scratch.clear();
            scratch.put(0, src, src.position(), n);
            long sent = LibC.send(connection.fd(), address, n, LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
            if (sent > 0) {
                src.position(src.position() + (int) sent);
                direct.addAndGet(sent);
                return (int) sent;
            }
            return sent < 0 && LibC.errno() == 11 ? 0 : -1;
        }
    }

    @AfterEach
    void uninstall() {
        BlockingConnection.directSends = BlockingConnection.DIRECT_SENDS;
    }

    @Test
    void directSendsPartialSendsAndHandOffsKeepEachWritersBytesInOrder() throws Exception {
        BlockingConnection.directSends = ShortSends::new;
        ShortSends.direct.set(0);
        int total = 2 << 20;
        try (Loop loop = Loop.start("direct")) {
            CompletableFuture<Void> served = new CompletableFuture<>();
            TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                    .config(ConnectionConfig.defaults().withWriteWatermarks(4096, 16384))
                    .handlerFactory(BlockingService.of(c -> {
                        try {
                            Random r = new Random(SEED + 1);
                            long pos = 0;
                            while (pos < total) {
                                int len = (int) Math.min(total - pos, 1 + r.nextInt(3000));
                                c.write(ByteBuffer.wrap(bytes(SEED, pos, len)));
                                pos += len;
                            }
                            c.flush();
                            assertEquals(0, c.connection().queuedBytes(), "flush waited for the queue");
                            served.complete(null);
                        } catch (Throwable t) {
                            served.completeExceptionally(t);
                            throw t;
                        }
                    })).start();
            try (server; SocketChannel client = SocketChannel.open(server.localAddress())) {
                assertEquals(total, readSlowly(client, "direct", SEED + 2, total));
                served.get(WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
                assertTrue(ShortSends.direct.get() > 0, "some bytes went directly");
                assertTrue(ShortSends.direct.get() < total, "some went through the loop");
            }
        }
    }

    @Test
    void theConnectionsOwnDirectSendKeepsOrderAndCountsEveryByte() throws Exception {
        int total = 4 << 20;
        try (Loop loop = Loop.start("direct-real")) {
            CompletableFuture<long[]> served = new CompletableFuture<>();
            TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                    .config(ConnectionConfig.defaults().withWriteWatermarks(4096, 16384))
                    .childOptions(SockOpts.empty().with(SockOpt.SO_SNDBUF, 16 * 1024)) // fills: sends go partial
                    .handlerFactory(BlockingService.of(c -> {
                        try {
                            Random r = new Random(SEED + 5);
                            long pos = 0;
                            while (pos < total) {
                                int len = (int) Math.min(total - pos, 1 + r.nextInt(3000));
                                byte[] chunk = bytes(SEED, pos, len);
                                if (r.nextBoolean()) {
                                    c.write(chunk, 0, len);
                                } else { // a direct buffer: sent from where it is, no bounce
                                    c.write(ByteBuffer.allocateDirect(len).put(chunk).flip());
                                }
                                pos += len;
                            }
                            c.flush();
                            Connection conn = c.connection();
                            served.complete(new long[] {conn.bytesWritten(), conn.directWriteCalls(),
                                    conn.writeCalls()});
                        } catch (Throwable t) {
                            served.completeExceptionally(t);
                            throw t;
                        }
                    })).start();
            try (server; SocketChannel client = SocketChannel.open()) {
                client.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 16 * 1024);
                client.connect(server.localAddress());
                assertEquals(total, readSlowly(client, "direct-real", SEED + 6, total));
                long[] counts = served.get(WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
                assertEquals(total, counts[0], "bytesWritten counts direct and loop sends alike");
                assertTrue(counts[1] > 0, "some writes went directly");
                assertTrue(counts[2] > counts[1], "some went through the loop (the socket was full)");
            }
        }
    }

    @Test
    void closingWhileWritersSendDirectlyLeavesNoFdAndEndsTheWriterClearly() throws Exception {
        // The loop's close races the handler's direct sends: whichever holds the token, the fd is closed exactly
        // once (FdLeakCheck) and the writer ends with a clear exception, never a write to a reused fd.
        for (int round = 0; round < 20; round++) {
            try (Loop loop = Loop.start("direct-close")) {
                CompletableFuture<Throwable> ended = new CompletableFuture<>();
                CompletableFuture<Connection> opened = new CompletableFuture<>();
                TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                        .handlerFactory(BlockingService.of(c -> {
                            opened.complete(c.connection());
                            byte[] chunk = new byte[700];
                            try {
                                while (true) {
                                    c.write(chunk, 0, chunk.length);
                                }
                            } catch (IOException e) {
                                ended.complete(e);
                            }
                        })).start();
                try (server; SocketChannel client = SocketChannel.open(server.localAddress())) {
                    ByteBuffer b = ByteBuffer.allocate(64 * 1024);
                    for (int i = 0; i < round % 4; i++) {
                        client.read(b.clear()); // some rounds keep the writer sending directly while it closes
                    }
                    Connection c = opened.get(WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
                    if (round % 2 == 0) {
                        c.abort();
                    } else {
                        c.closeWith(new IOException("closed by the test"));
                    }
                    Throwable t = ended.get(WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
                    assertInstanceOf(java.net.SocketException.class, t, () -> "the writer's end: " + t);
                }
            }
        }
    }

    @Test
    void twoWritersEachKeepTheirOrder() throws Exception {
        BlockingConnection.directSends = ShortSends::new;
        int perWriter = 1 << 20;
        try (Loop loop = Loop.start("direct2")) {
            // Concurrent writes may interleave (the view promises no atomicity across writers), but each writer's
            // bytes must stay in its order: writer 0 sends 0x00..0x7f cycling, writer 1 0x80..0xff.
            TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                    .handlerFactory(BlockingService.of(c -> {
                        CompletableFuture<Void> other = BlockingConnectionTest.async(() -> {
                            writeCycle(c, 0x80, perWriter, SEED + 4);
                            return null;
                        });
                        writeCycle(c, 0, perWriter, SEED + 3);
                        BlockingConnectionTest.await(other);
                    })).start();
            try (server; SocketChannel client = SocketChannel.open(server.localAddress())) {
                long[] seen = new long[2];
                ByteBuffer b = ByteBuffer.allocate(4096);
                while (seen[0] + seen[1] < 2L * perWriter) {
                    b.clear();
                    int n = client.read(b);
                    assertTrue(n >= 0, "end of stream after " + (seen[0] + seen[1]));
                    for (int i = 0; i < n; i++) {
                        int v = b.get(i) & 0xff;
                        int w = v >>> 7;
                        assertEquals((seen[w] & 0x7f) | (w << 7), v, "writer " + w + "'s byte " + seen[w]);
                        seen[w]++;
                    }
                }
                assertEquals(perWriter, seen[0]);
                assertEquals(perWriter, seen[1]);
            }
        }
    }

    /**
     * Reads up to {@code total} bytes in short reads of random length (so the server's socket fills and its sends go
     * partial), checking each against the seeded stream; returns how many arrived before EOF.
     */
    private static long readSlowly(SocketChannel client, String what, long paceSeed, long total) throws IOException {
        Verifier v = new Verifier(SEED, what);
        ByteBuffer b = ByteBuffer.allocate(1500);
        Random pace = new Random(paceSeed);
        long got = 0;
        while (got < total) {
            b.clear().limit(1 + pace.nextInt(1500));
            int n = client.read(b);
            if (n < 0) {
                break;
            }
            v.check(b.array(), 0, n);
            got += n;
        }
        return got;
    }

    /** Writes {@code count} bytes {@code base | (i & 0x7f)} in writes of random length. */
    private static void writeCycle(BlockingConnection c, int base, int count, long seed) throws IOException {
        Random r = new Random(seed);
        byte[] chunk = new byte[2048];
        int i = 0;
        while (i < count) {
            int len = Math.min(count - i, 1 + r.nextInt(chunk.length));
            for (int k = 0; k < len; k++) {
                chunk[k] = (byte) (base | ((i + k) & 0x7f));
            }
            c.write(chunk, 0, len);
            i += len;
        }
    }
}
