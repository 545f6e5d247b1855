package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The blocking facade against real sockets: byte-exact echo with partial reads and writes, a slow reader blocking a
 * writer (bounded memory both ways), every timeout, interrupts, close from another thread waking every blocked call,
 * half-close both ways, the stream adapters, readLine, and handler threads that all end. Threads are virtual on Java
 * 21+ (the service's default) and platform threads on 17.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class BlockingConnectionTest {
    private static final long SEED = 20261202L;
    private Loop loop;
    private final List<AutoCloseable> closeAfter = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        loop = Loop.start("blocking");
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeAfter) {
            c.close();
        }
        loop.close();
        assertEquals(List.of(), loop.failures);
    }

    /**
     * The service under test for {@code handler}: the default (virtual threads of the JDK's scheduler where the JDK has
     * them); {@link BlockingOnReactorTest} runs every test of this class again on the reactor's thread.
     */
    BlockingService service(BlockingHandler handler) {
        return BlockingService.of(handler);
    }

    private TcpServer serve(BlockingService service, ConnectionConfig config) throws Exception {
        TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                .config(config).handlerFactory(service).start();
        closeAfter.add(server);
        return server;
    }

    private BlockingConnection connect(TcpServer server) throws IOException {
        BlockingConnection c = BlockingConnection.connect(loop.reactor, server.localAddress(), seconds(10));
        closeAfter.add(c);
        return c;
    }

    /** Runs {@code task} on a thread of the kind the service uses (virtual where available). */
    static <T> CompletableFuture<T> async(Callable<T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        VirtualThreads.factory().newThread(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        }).start();
        return f;
    }

    static <T> T await(CompletableFuture<T> f) throws Exception {
        return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** The exception {@code f} failed with. */
    static Throwable failure(CompletableFuture<?> f) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(WAIT_SECONDS, TimeUnit.SECONDS));
        return e.getCause();
    }

    /**
     * A view's probe ({@link BlockingConnection#probe}): which call each thread last parked in, and a wait that looks
     * again at each event of the view (a park, bytes buffered, a writability change) instead of polling. Install it
     * before the calls or the arrivals it should see.
     */
    static final class Watch implements BlockingConnection.Probe {
        private final Map<Thread, String> parkedIn = new ConcurrentHashMap<>();
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition changed = lock.newCondition();
        private long events;

        @Override
        public void parking(String op) {
            parkedIn.put(Thread.currentThread(), op);
            changed();
        }

        @Override
        public void received(int available) {
            changed();
        }

        @Override
        public void writabilityChanged(boolean writable) {
            changed();
        }

        private void changed() {
            lock.lock();
            try {
                events++;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        /**
         * Waits until {@code condition} holds, evaluating it now and after each event of the view; fails naming
         * {@code what} after {@link NetTestKit#WAIT_SECONDS}.
         */
        void awaitUntil(BooleanSupplier condition, Supplier<String> what) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (true) {
                long seen;
                lock.lock();
                try {
                    seen = events;
                } finally {
                    lock.unlock();
                }
                // outside the watch's lock: the condition may take the view's, which the view holds calling in here
                if (condition.getAsBoolean()) {
                    return;
                }
                lock.lock();
                try {
                    while (events == seen) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            throw new AssertionError("not within " + WAIT_SECONDS + " s: " + what.get());
                        }
                        changed.awaitNanos(left);
                    }
                } finally {
                    lock.unlock();
                }
            }
        }

        /**
         * Waits until {@code t} is about to park in {@code op} of the view, i.e. blocked in that call: a close, an
         * interrupt or the peer acting after this wakes that wait (the view's lock is held until the thread parks).
         * Fails with {@code call}'s outcome if the call ends first.
         */
        void awaitParked(Thread t, String op, CompletableFuture<?> call) throws Exception {
            call.whenComplete((r, e) -> changed());
            awaitUntil(() -> op.equals(parkedIn.get(t)) || call.isDone(),
                    () -> t + " to block in " + op + "; it is " + t.getState() + ", last parked in " + parkedIn.get(t));
            if (!op.equals(parkedIn.get(t))) {
                call.get(); // its failure, if it failed
                fail(t + " returned from " + op + " without blocking");
            }
        }

        /** {@link #awaitParked(Thread, String, CompletableFuture)} for a call the test has no future of. */
        void awaitParked(Thread t, String op) throws Exception {
            awaitParked(t, op, new CompletableFuture<>());
        }
    }

    /** Waits until no handler of {@code service} (or its copies) runs; told by the service, not polled. */
    static void awaitNoHandlerRunning(BlockingService service) throws Exception {
        CompletableFuture<Void> none = new CompletableFuture<>();
        service.runningProbe(n -> {
            if (n == 0) {
                none.complete(null);
            }
        });
        if (service.runningHandlers() == 0) { // after installing the probe: an end from here on reaches it
            none.complete(null);
        }
        try {
            await(none);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("handlers still running: " + service.runningHandlers(), e);
        } finally {
            service.runningProbe(null);
        }
    }

    static boolean isVirtual(Thread t) throws Exception {
        try {
            return (boolean) Thread.class.getMethod("isVirtual").invoke(t);
        } catch (NoSuchMethodException before21) {
            return false;
        }
    }

    static final BlockingHandler ECHO = c -> {
        byte[] buf = new byte[8192];
        for (int n; (n = c.read(buf, 0, buf.length)) > 0; ) {
            c.write(buf, 0, n);
        }
    };

    // ------------------------------------------------------------------ data

    @Test
    void echoesMegabytesByteExactWithPartialReadsAndWrites() throws Exception {
        BlockingService service = service(ECHO);
        TcpServer server = serve(service, ConnectionConfig.defaults().withWriteWatermarks(4096, 8192));
        BlockingConnection c = connect(server);
        int total = 3 << 20;
        CompletableFuture<Void> writer = async(() -> {
            java.util.Random r = new java.util.Random(SEED);
            long pos = 0;
            while (pos < total) {
                int len = (int) Math.min(total - pos, 1 + r.nextInt(20_000)); // odd sizes: partial hand-offs
                c.write(ByteBuffer.wrap(bytes(SEED, pos, len)));
                pos += len;
            }
            c.shutdownOutput();
            return null;
        });
        Verifier v = new Verifier(SEED, "blocking");
        ByteBuffer b = ByteBuffer.allocate(7001);
        long got = 0;
        int reads = 0;
        for (int n; (n = c.read(b.clear())) >= 0; ) {
            v.check(b.array(), 0, n);
            got += n;
            reads++;
        }
        await(writer);
        assertEquals(total, got);
        assertTrue(reads > total / 7001, "reads return what is there, up to the buffer: " + reads);
    }

    @Test
    void sendFileGoesAfterTheStagedBytesAndBeforeLaterOnes() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("blocking-sendfile", ".bin");
        try {
            int size = 2 << 20;
            java.nio.file.Files.write(file, bytes(SEED, 0, size));
            CompletableFuture<Void> handler = new CompletableFuture<>();
            TcpServer server = serve(service(c -> {
                try {
                    c.write("head|".getBytes(StandardCharsets.US_ASCII)); // staged: must go first
                    c.sendFile(file, 1000, size - 1000);
                    c.write("|tail".getBytes(StandardCharsets.US_ASCII)); // waits until most of the file went
                    IOException missing = assertThrows(java.nio.file.NoSuchFileException.class,
                            () -> c.sendFile(file.resolveSibling("no-such-file-" + SEED), 0, 1));
                    assertTrue(missing.getMessage().contains("no-such-file"), missing.getMessage());
                    assertThrows(IllegalArgumentException.class, () -> c.sendFile(file, -1, 1));
                    assertThrows(IllegalArgumentException.class, () -> c.sendFile(file.getParent(), 0, 1),
                            "a directory");
                    c.flush();
                    handler.complete(null);
                } catch (Throwable t) {
                    handler.completeExceptionally(t);
                    throw t;
                }
            }), ConnectionConfig.defaults().withWriteWatermarks(8192, 65536));
            BlockingConnection c = connect(server);
            ByteBuffer all = ByteBuffer.allocate(5 + size - 1000 + 5);
            c.readFully(all);
            assertEquals(-1, c.read(ByteBuffer.allocate(1)), "the handler returned: the connection closed");
            byte[] got = all.array();
            assertEquals("head|", new String(got, 0, 5, StandardCharsets.US_ASCII));
            assertArrayEquals(bytes(SEED, 1000, size - 1000), Arrays.copyOfRange(got, 5, 5 + size - 1000));
            assertEquals("|tail", new String(got, got.length - 5, 5, StandardCharsets.US_ASCII));
            await(handler);
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    @Test
    void readReturnsWhatIsThereAndReadFullyWaitsForTheRest() throws Exception {
        CountDownLatch more = new CountDownLatch(1);
        TcpServer server = serve(service(c -> {
            c.write("abc".getBytes(StandardCharsets.US_ASCII));
            more.await();
            c.write("defgh".getBytes(StandardCharsets.US_ASCII));
        }), ConnectionConfig.defaults());
        BlockingConnection c = connect(server);
        ByteBuffer b = ByteBuffer.allocate(10);
        assertEquals(3, c.read(b));
        ByteBuffer rest = ByteBuffer.allocate(5);
        CompletableFuture<Void> full = async(() -> {
            c.readFully(rest);
            return null;
        });
        more.countDown();
        await(full);
        assertEquals("defgh", new String(rest.array(), StandardCharsets.US_ASCII));
        assertEquals(-1, c.read(b.clear()), "the handler returned: closed gracefully, EOF");
        assertThrows(EOFException.class, () -> c.readFully(ByteBuffer.allocate(1)));
    }

    @Test
    void readLineSplitsOnLfAndCrLfAndRefusesLongLines() throws Exception {
        TcpServer server = serve(service(c -> {
            c.write("one\r\ntwo\n\nthree-is-long\nlast".getBytes(StandardCharsets.UTF_8));
        }), ConnectionConfig.defaults());
        BlockingConnection c = connect(server);
        assertEquals("one", c.readLine(5));
        assertEquals("two", c.readLine(5));
        assertEquals("", c.readLine(5));
        FrameTooLongException e = assertThrows(FrameTooLongException.class, () -> c.readLine(5));
        assertEquals(5, e.limit());
        assertEquals("last", c.readLine(5), "the bytes after the last LF at end of stream");
        assertNull(c.readLine(5));
    }

    @Test
    void streamAdaptersCarryDataStreams() throws Exception {
        TcpServer server = serve(service(c -> {
            DataInputStream in = new DataInputStream(c.inputStream());
            DataOutputStream out = new DataOutputStream(c.outputStream());
            for (int i = 0; i < 1000; i++) {
                out.writeLong(in.readLong() * 2);
            }
            out.flush();
        }), ConnectionConfig.defaults());
        BlockingConnection c = connect(server);
        DataOutputStream out = new DataOutputStream(c.outputStream());
        DataInputStream in = new DataInputStream(c.inputStream());
        for (int i = 0; i < 1000; i++) {
            out.writeLong(i);
            assertEquals(2L * i, in.readLong());
        }
        assertEquals(-1, in.read());
    }

    // ------------------------------------------------------------------ backpressure, both ways

    @Test
    void slowReaderBlocksWriterWithinTheWatermark() throws Exception {
        int high = 16 * 1024;
        AtomicReference<BlockingConnection> serverSide = new AtomicReference<>();
        AtomicReference<Thread> writerThread = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        Watch watch = new Watch();
        int total = 16 << 20; // far more than the socket buffers hold
        TcpServer server = serve(service(c -> {
            c.probe = watch;
            serverSide.set(c);
            writerThread.set(Thread.currentThread());
            started.countDown();
            for (long pos = 0; pos < total; pos += 65536) {
                c.write(ByteBuffer.wrap(bytes(SEED, pos, 65536)));
                assertTrue(c.connection().queuedBytes() <= 2L * high + 65536,
                        "queued " + c.connection().queuedBytes());
            }
            c.flush();
            assertEquals(0, c.connection().queuedBytes());
        }), ConnectionConfig.defaults().withWriteWatermarks(high / 2, high));
        try (SocketChannel peer = SocketChannel.open(server.localAddress())) {
            assertTrue(started.await(WAIT_SECONDS, TimeUnit.SECONDS));
            // the peer reads nothing: the queue goes above its watermark, and the writer blocks
            watch.awaitUntil(() -> !serverSide.get().connection().isWritable(), () -> "the queue never filled");
            watch.awaitParked(writerThread.get(), "write");
            assertTrue(serverSide.get().connection().bytesWritten() < total);
            assertTrue(serverSide.get().connection().queuedBytes() <= 2L * high + 65536);
            assertEquals(total, readToEof(peer, new Verifier(SEED, "blocking")));
        }
    }

    @Test
    void aReaderThatDoesNotReadStopsTheConnectionReadingAtTheInboundLimit() throws Exception {
        int limit = 32 * 1024;
        CountDownLatch read = new CountDownLatch(1);
        CompletableFuture<BlockingConnection> serverSide = new CompletableFuture<>();
        CompletableFuture<Long> served = new CompletableFuture<>();
        TcpServer server = serve(service(c -> {
            serverSide.complete(c);
            read.await();
            long n = 0;
            byte[] buf = new byte[4096];
            Verifier v = new Verifier(SEED, "blocking");
            for (int k; (k = c.read(buf, 0, buf.length)) > 0; ) {
                v.check(buf, 0, k);
                n += k;
            }
            served.complete(n);
        }).inboundLimit(limit), ConnectionConfig.defaults());
        try (SocketChannel peer = SocketChannel.open(server.localAddress())) {
            peer.configureBlocking(false);
            BlockingConnection view = await(serverSide);
            long sent = 0;
            int stalls = 0;
            ByteBuffer chunk = ByteBuffer.allocate(65536);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            // until the view holds its limit and the kernel buffers on both sides are full: the peer's write takes
            // nothing, again and again, though the reactor had its turn to read in between
            while (stalls < 3) {
                NetTestKit.fill(SEED, sent, chunk.array(), 0, chunk.capacity());
                chunk.clear();
                int n = peer.write(chunk);
                sent += n;
                if (n > 0) {
                    stalls = 0;
                } else {
                    if (view.available() >= limit) {
                        stalls++;
                    }
                    loop.barrier(); // the reactor reads what it would (or the pause holds)
                }
                assertTrue(sent < 256L << 20, () -> "the view never stopped reading: " + view.available()
                        + " buffered");
                assertTrue(System.nanoTime() < deadline, () -> "the buffers never filled: " + view.available()
                        + " buffered, paused " + view.connection().isReadingPaused());
            }
            loop.barrier();
            int buffered = view.available();
            assertTrue(buffered >= limit && buffered <= limit + 64 * 1024, "buffered " + buffered);
            assertTrue(view.connection().isReadingPaused());
            read.countDown();
            peer.configureBlocking(true);
            // the sender blocked on full buffers; what was sent so far all arrives once the reader drains
            peer.shutdownOutput();
            assertEquals(sent, (long) await(served));
        }
    }

    @Test
    void theFacadesResumeDoesNotUndoAUsersPause() throws Exception {
        int limit = 1024;
        CompletableFuture<BlockingConnection> serverSide = new CompletableFuture<>();
        CountDownLatch done = new CountDownLatch(1);
        TcpServer server = serve(service(c -> {
            serverSide.complete(c);
            done.await(); // the test reads through this connection from its own thread
        }).inboundLimit(limit), ConnectionConfig.defaults());
        try (SocketChannel peer = SocketChannel.open(server.localAddress())) {
            peer.configureBlocking(false);
            peer.write(ByteBuffer.allocate(256 * 1024));
            BlockingConnection c = await(serverSide);
            Watch watch = new Watch();
            c.probe = watch; // before looking: bytes buffered from here on wake the wait
            watch.awaitUntil(() -> c.available() >= limit, () -> "the inbound buffer never filled: " + c.available());
            c.connection().pauseReading(); // the application's own pause, on top of the facade's
            byte[] buf = new byte[limit * 2];
            while (c.available() > 0) { // one read of the reactor may have brought up to 64 KiB past the limit
                c.read(buf, 0, buf.length); // drained: the facade resumes its reason...
            }
            loop.barrier();
            loop.barrier();
            assertEquals(0, c.available(), "...but the user's pause holds: nothing more is read");
            assertTrue(c.connection().isReadingPaused());
            c.connection().resumeReading();
            assertTrue(c.read(buf, 0, buf.length) > 0, "reading goes on once the user resumes");
            c.abort();
        } finally {
            done.countDown();
        }
    }

    // ------------------------------------------------------------------ timeouts

    @Test
    void readTimeoutEndsTheReadAndLeavesTheConnectionOpen() throws Exception {
        CountDownLatch send = new CountDownLatch(1);
        TcpServer server = serve(service(c -> {
            send.await();
            c.write(new byte[] {42});
            c.read(ByteBuffer.allocate(1));
        }), ConnectionConfig.defaults());
        BlockingConnection c = connect(server).readTimeout(Duration.ofMillis(100));
        ConnectionTimeoutException e = assertThrows(ConnectionTimeoutException.class,
                () -> c.read(ByteBuffer.allocate(1)));
        assertEquals(ConnectionTimeoutException.Kind.READ, e.kind());
        assertTrue(e.getMessage().contains("read timeout"), e.getMessage());
        assertTrue(c.isOpen());
        send.countDown();
        ByteBuffer b = ByteBuffer.allocate(1);
        assertEquals(1, c.readTimeout(Duration.ZERO).read(b));
        assertEquals(42, b.get(0));
    }

    @Test
    void writeTimeoutEndsABlockedWriteAndTellsHowMuchWasQueued() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        TcpServer server = serve(service(c -> done.await()), ConnectionConfig.defaults());
        BlockingConnection c = BlockingConnection.connect(TcpClient.builder(loop.reactor).remote(server.localAddress())
                .config(ConnectionConfig.defaults().withWriteWatermarks(1024, 4096)), seconds(10));
        closeAfter.add(c);
        c.writeTimeout(Duration.ofMillis(200));
        int total = 64 << 20;
        ConnectionTimeoutException e = assertThrows(ConnectionTimeoutException.class,
                () -> c.write(ByteBuffer.allocate(total)));
        assertEquals(ConnectionTimeoutException.Kind.WRITE, e.kind());
        assertTrue(e.bytesTransferred > 0 && e.bytesTransferred < total, "queued " + e.bytesTransferred);
        assertTrue(c.isOpen());
        ConnectionTimeoutException f = assertThrows(ConnectionTimeoutException.class, c::flush);
        assertEquals(ConnectionTimeoutException.Kind.WRITE, f.kind());
        done.countDown();
    }

    @Test
    void idleTimeoutEndsABlockedReadNamingTheTimeout() throws Exception {
        CompletableFuture<Throwable> seen = new CompletableFuture<>();
        TcpServer server = serve(service(c -> {
            try {
                c.read(ByteBuffer.allocate(1));
                seen.complete(null);
            } catch (IOException e) {
                seen.complete(e);
            }
        }), ConnectionConfig.defaults().withIdleTimeouts(Duration.ofMillis(150), Duration.ZERO, Duration.ZERO));
        try (SocketChannel peer = SocketChannel.open(server.localAddress())) {
            Throwable t = await(seen);
            ConnectionTimeoutException e = assertInstanceOf(ConnectionTimeoutException.class, t);
            assertEquals(ConnectionTimeoutException.Kind.READ_IDLE, e.kind());
            assertInstanceOf(IdleTimeoutException.class, e.getCause());
            assertEquals(-1, peer.read(ByteBuffer.allocate(1)), "the connection was closed");
        }
    }

    @Test
    void connectTimeoutCoversTheTlsHandshake() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            TlsTestKit kit = TlsTestKit.get();
            ConnectionTimeoutException e = assertThrows(ConnectionTimeoutException.class,
                    () -> BlockingConnection.connect(TcpClient.builder(loop.reactor)
                            .remote(silent.getLocalSocketAddress())
                            .tls(TlsConfig.client(kit.clientContext()).serverName("localhost")
                                    .handshakeTimeout(Duration.ofMillis(500))),
                            Duration.ofMillis(200)));
            assertEquals(ConnectionTimeoutException.Kind.CONNECT, e.kind());
            try (Socket accepted = silent.accept()) {
                accepted.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                // the abandoned attempt is closed by its handshake timeout at the latest: the peer reads the
                // ClientHello, then EOF or a reset
                try {
                    while (accepted.getInputStream().read() >= 0) {
                        // drain
                    }
                } catch (SocketException reset) {
                    // also closed
                }
            }
        }
    }

    @Test
    void aRefusedConnectFailsWithTheErrno() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        IOException e = assertThrows(IOException.class, () -> BlockingConnection.connect(loop.reactor,
                new InetSocketAddress("127.0.0.1", port), seconds(5)));
        assertTrue(String.valueOf(e.getMessage()).contains("ECONNREFUSED"), e.getMessage());
    }

    // ------------------------------------------------------------------ interrupts and close

    @Test
    void interruptEndsABlockedReadAndABlockedWriteAndKeepsTheConnection() throws Exception {
        CountDownLatch send = new CountDownLatch(1);
        TcpServer server = serve(service(c -> {
            send.await();
            c.write(new byte[] {7});
            c.read(ByteBuffer.allocate(1));
        }), ConnectionConfig.defaults());
        BlockingConnection c = BlockingConnection.connect(TcpClient.builder(loop.reactor).remote(server.localAddress())
                .config(ConnectionConfig.defaults().withWriteWatermarks(1024, 4096)), seconds(10));
        closeAfter.add(c);
        Watch watch = new Watch();
        c.probe = watch;
        CompletableFuture<Thread> reader = new CompletableFuture<>();
        CompletableFuture<Boolean> read = async(() -> {
            reader.complete(Thread.currentThread());
            try {
                c.read(ByteBuffer.allocate(1));
                return false;
            } catch (InterruptedIOException e) {
                return Thread.currentThread().isInterrupted() && !(e instanceof ConnectionTimeoutException);
            }
        });
        watch.awaitParked(await(reader), "read", read);
        await(reader).interrupt();
        assertTrue(await(read), "InterruptedIOException, interrupt status kept");
        assertTrue(c.isOpen());

        CompletableFuture<Thread> writer = new CompletableFuture<>();
        CompletableFuture<Integer> write = async(() -> {
            writer.complete(Thread.currentThread());
            try {
                c.write(ByteBuffer.allocate(64 << 20));
                return -1;
            } catch (InterruptedIOException e) {
                return e.bytesTransferred;
            }
        });
        watch.awaitParked(await(writer), "write", write);
        await(writer).interrupt();
        int queued = await(write);
        assertTrue(queued > 0 && queued < 64 << 20, "queued " + queued);
        assertTrue(c.isOpen());
        send.countDown();
        ByteBuffer b = ByteBuffer.allocate(1);
        assertEquals(1, c.read(b), "the connection still works");
        assertEquals(7, b.get(0));
    }

    @Test
    void closeFromAnotherThreadWakesEveryBlockedCall() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        TcpServer server = serve(service(c -> done.await()), ConnectionConfig.defaults());
        BlockingConnection c = BlockingConnection.connect(TcpClient.builder(loop.reactor).remote(server.localAddress())
                .config(ConnectionConfig.defaults().withWriteWatermarks(1024, 4096)), seconds(10));
        closeAfter.add(c);
        Watch watch = new Watch();
        c.probe = watch;
        List<String> ops = List.of("read", "write", "readLine");
        List<CompletableFuture<Thread>> threads = new ArrayList<>();
        List<CompletableFuture<Void>> calls = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            int kind = i;
            CompletableFuture<Thread> thread = new CompletableFuture<>();
            threads.add(thread);
            calls.add(async(() -> {
                thread.complete(Thread.currentThread());
                switch (kind) {
                    case 0:
                        c.read(ByteBuffer.allocate(10));
                        break;
                    case 1:
                        c.write(ByteBuffer.allocate(64 << 20)); // the peer does not read: blocks
                        break;
                    default:
                        c.readLine(100);
                        break;
                }
                return null;
            }));
        }
        for (int i = 0; i < ops.size(); i++) {
            watch.awaitParked(await(threads.get(i)), ops.get(i), calls.get(i));
        }
        // the writer blocks for good once the queue is above its watermark (the peer does not read)
        watch.awaitUntil(() -> !c.connection().isWritable(), () -> "the queue never filled");
        CompletableFuture<Thread> flusher = new CompletableFuture<>();
        CompletableFuture<Void> flush = async(() -> {
            flusher.complete(Thread.currentThread());
            c.flush();
            return null;
        });
        watch.awaitParked(await(flusher), "flush", flush);
        c.close();
        for (CompletableFuture<Void> call : calls) {
            Throwable t = failure(call);
            assertInstanceOf(SocketException.class, t);
            assertTrue(t.getMessage().contains("connection closed"), t.getMessage());
        }
        assertInstanceOf(SocketException.class, failure(flush));
        assertFalse(c.isOpen());
        assertThrows(SocketException.class, () -> c.read(ByteBuffer.allocate(1)));
        assertThrows(SocketException.class, () -> c.write(new byte[1]));
        done.countDown();
    }

    @Test
    void aResetEndsBlockedCallsWithTheCause() throws Exception {
        TcpServer server = serve(service(c -> c.abort()), ConnectionConfig.defaults());
        BlockingConnection c = connect(server);
        IOException e = assertThrows(IOException.class, () -> c.read(ByteBuffer.allocate(1)));
        assertInstanceOf(SocketException.class, e);
        assertNotNull(e.getCause(), "the reset: " + e);
    }

    // ------------------------------------------------------------------ half-close

    @Test
    void halfCloseFromTheClient() throws Exception {
        TcpServer server = serve(service(c -> {
            byte[] all = c.inputStream().readAllBytes(); // until the client's FIN
            c.write(("got " + all.length).getBytes(StandardCharsets.US_ASCII));
        }), ConnectionConfig.defaults());
        BlockingConnection c = connect(server);
        c.write(new byte[12345]);
        c.shutdownOutput();
        assertThrows(SocketException.class, () -> c.write(new byte[1]));
        assertEquals("got 12345", new String(c.inputStream().readAllBytes(), StandardCharsets.US_ASCII));
    }

    @Test
    void halfCloseFromTheServer() throws Exception {
        CompletableFuture<String> heard = new CompletableFuture<>();
        TcpServer server = serve(service(c -> {
            c.write("bye".getBytes(StandardCharsets.US_ASCII));
            c.shutdownOutput();
            heard.complete(new String(c.inputStream().readAllBytes(), StandardCharsets.US_ASCII));
        }), ConnectionConfig.defaults());
        BlockingConnection c = connect(server);
        assertEquals("bye", new String(c.inputStream().readAllBytes(), StandardCharsets.US_ASCII));
        c.write("after your FIN".getBytes(StandardCharsets.US_ASCII));
        c.close();
        assertEquals("after your FIN", await(heard));
    }

    // ------------------------------------------------------------------ TLS, threads, misuse

    @Test
    void tlsEchoWithHandshakeBeforeTheHandler() throws Exception {
        // Only a run with -Dtest puts this class into the pom's tls-conscrypt execution; there the echo after the
        // client's half-close cannot work: the reactor unwraps the client's close_notify while the handler still has
        // up to inboundLimit bytes to echo, and Conscrypt's engine closes its output then (TlsFlowTest, guide).
        org.junit.jupiter.api.Assumptions.assumeFalse(TlsTestProvider.isConscrypt(),
                "Conscrypt's engine sends nothing after the peer's close_notify (no TLS 1.3 half-close that way)");
        TlsTestKit kit = TlsTestKit.get();
        CompletableFuture<String> protocol = new CompletableFuture<>();
        TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                .tls(TlsConfig.server(kit.serverContext()))
                .handlerFactory(service(c -> {
                    protocol.complete(c.connection().tlsSession().getProtocol()); // complete before the handler
                    ECHO.handle(c);
                })).start();
        closeAfter.add(server);
        BlockingConnection c = BlockingConnection.connect(TcpClient.builder(loop.reactor)
                .remote(server.localAddress())
                .tls(TlsConfig.client(kit.clientContext()).serverName("localhost")), seconds(10));
        closeAfter.add(c);
        assertTrue(c.connection().isTls());
        int total = 1 << 20;
        CompletableFuture<Void> writer = async(() -> {
            for (long pos = 0; pos < total; pos += 10_000) {
                c.write(ByteBuffer.wrap(bytes(SEED, pos, (int) Math.min(10_000, total - pos))));
            }
            c.shutdownOutput();
            return null;
        });
        Verifier v = new Verifier(SEED, "blocking");
        byte[] buf = new byte[16384];
        long got = 0;
        for (int n; (n = c.read(buf, 0, buf.length)) >= 0; ) {
            v.check(buf, 0, n);
            got += n;
        }
        await(writer);
        assertEquals(total, got);
        assertTrue(await(protocol).startsWith("TLS"));
    }

    @Test
    void onReactorThreadIsOfferedFromJava24AndRefusedWithItsReasonBefore() {
        if (Runtime.version().feature() >= 24) {
            assertTrue(BlockingService.onReactorThreadAvailable(), "the build's test JVMs open java.lang to us");
            assertTrue(BlockingService.of(ECHO).onReactorThread().toString().contains("onReactorThread"));
        } else {
            assertFalse(BlockingService.onReactorThreadAvailable());
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> BlockingService.of(ECHO).onReactorThread());
            assertTrue(e.getMessage().contains("needs Java 24 or later")
                    && e.getMessage().contains("this is Java " + Runtime.version().feature()), e.getMessage());
        }
    }

    @Test
    void handlersRunOnVirtualThreadsWhereAvailableAndAllEnd() throws Exception {
        CompletableFuture<Thread> handlerThread = new CompletableFuture<>();
        BlockingService service = service(c -> {
            handlerThread.complete(Thread.currentThread());
            ECHO.handle(c);
        });
        TcpServer server = serve(service, ConnectionConfig.defaults());
        List<BlockingConnection> clients = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            clients.add(connect(server));
        }
        for (BlockingConnection c : clients) {
            c.write(new byte[] {1, 2, 3});
            c.readFully(ByteBuffer.allocate(3));
        }
        assertEquals(20, service.runningHandlers());
        boolean virtual = isVirtual(await(handlerThread));
        assertEquals(BlockingService.virtualThreadsAvailable(), virtual);
        assertEquals(Runtime.version().feature() >= 21, BlockingService.virtualThreadsAvailable());
        for (BlockingConnection c : clients) {
            c.close();
        }
        awaitNoHandlerRunning(service);
        Thread first = await(handlerThread);
        first.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS)); // it ends right after the count went down
        assertFalse(first.isAlive());
    }

    @Test
    void closingTheReactorEndsBlockedHandlers() throws Exception {
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        CompletableFuture<Thread> handler = new CompletableFuture<>();
        Watch watch = new Watch();
        BlockingService service = service(c -> {
            c.probe = watch;
            handler.complete(Thread.currentThread());
            try {
                c.read(ByteBuffer.allocate(1));
            } catch (IOException e) {
                ended.complete(e);
                throw e;
            }
        });
        TcpServer server = serve(service, ConnectionConfig.defaults());
        try (SocketChannel peer = SocketChannel.open(server.localAddress())) {
            watch.awaitParked(await(handler), "read");
            loop.reactor.close();
            Throwable t = await(ended);
            assertInstanceOf(SocketException.class, t);
            assertInstanceOf(org.epoll4j.ClosedReactorException.class, t.getCause());
        }
    }

    @Test
    void aBlockingCallOnTheReactorThreadIsRefused() throws Exception {
        TcpServer server = serve(service(ECHO), ConnectionConfig.defaults());
        BlockingConnection c = connect(server);
        Exception e = assertThrows(ExecutionException.class, () -> loop.call(() -> c.read(ByteBuffer.allocate(1))));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("reactor thread"));
    }

    @Test
    void badArgumentsAreRefusedClearly() {
        assertThrows(IllegalArgumentException.class, () -> BlockingService.of(ECHO).inboundLimit(0));
        assertThrows(IllegalArgumentException.class, () -> BlockingService.of(ECHO).readTimeout(Duration.ofMillis(-1)));
        assertThrows(NullPointerException.class, () -> BlockingService.of(null));
    }
}
