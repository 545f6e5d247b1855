package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.Registration;
import org.epoll4j.testutil.ThreadLeakCheck;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The net integration tests' one kit: a reproducible byte pattern, a started reactor ({@link Loop}, or
 * {@link #startReactor}/{@link #stop}), tracking handlers, blocking clients (NIO channels and plain sockets), and
 * {@link #awaitUntil} for a condition no callback announces.
 */
final class NetTestKit {
    /** The longest any single wait in these tests may take before the test fails. */
    static final long WAIT_SECONDS = 30;

    private NetTestKit() {
    }

    // ------------------------------------------------------------------ a byte stream reproducible from (seed, position)

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** The 8 bytes of block {@code index} of stream {@code seed} (splitmix64), little-endian. */
    static long block(long seed, long index) {
        long z = seed + (index + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Byte {@code position} of stream {@code seed}. */
    static byte at(long seed, long position) {
        return (byte) (block(seed, position >>> 3) >>> ((position & 7) << 3));
    }

    /** Fills {@code dst[off, off+len)} with bytes {@code position ..} of stream {@code seed}. */
    static void fill(long seed, long position, byte[] dst, int off, int len) {
        int i = 0;
        while (i < len && ((position + i) & 7) != 0) {
            dst[off + i] = at(seed, position + i);
            i++;
        }
        while (len - i >= 8) {
            LONGS.set(dst, off + i, block(seed, (position + i) >>> 3));
            i += 8;
        }
        while (i < len) {
            dst[off + i] = at(seed, position + i);
            i++;
        }
    }

    static byte[] bytes(long seed, long position, int len) {
        byte[] b = new byte[len];
        fill(seed, position, b, 0, len);
        return b;
    }

    /** Checks a received stream against stream {@code seed}, chunk by chunk, without holding it. */
    static final class Verifier {
        private final long seed;
        private final String what;
        private byte[] expected = new byte[64 * 1024];
        private long position;

        Verifier(long seed, String what) {
            this.seed = seed;
            this.what = what;
        }

        void check(byte[] got, int off, int len) {
            if (expected.length < len) {
                expected = new byte[Math.max(len, expected.length * 2)];
            }
            fill(seed, position, expected, 0, len);
            int m = Arrays.mismatch(got, off, off + len, expected, 0, len);
            if (m >= 0) {
                throw new AssertionError(what + ": byte " + (position + m) + " is " + got[off + m] + ", expected "
                        + expected[m]);
            }
            position += len;
        }

        void check(ByteBuffer data) {
            int len = data.remaining();
            if (data.hasArray()) {
                check(data.array(), data.arrayOffset() + data.position(), len);
                data.position(data.limit());
            } else {
                byte[] copy = new byte[len];
                data.get(copy);
                check(copy, 0, len);
            }
        }

        long position() {
            return position;
        }
    }

    // ------------------------------------------------------------------ a reactor on its own thread

    /** A reactor running on its own (named) thread; {@link #close()} closes it and waits for the thread to end. */
    static final class Loop implements AutoCloseable {
        final Reactor reactor;
        final Thread thread;
        /** What handlers threw (the reactor's error handler). */
        final List<Throwable> failures = new CopyOnWriteArrayList<>();

        private Loop(String name) throws IOException {
            reactor = Reactor.builder().name(ThreadLeakCheck.REACTOR_PREFIX + name)
                    .errorHandler((Registration r, Throwable t) -> failures.add(t)).build();
            thread = reactor.start();
        }

        /** Starts the loop and returns once its thread is running it (so other threads cannot register directly). */
        static Loop start(String name) throws Exception {
            Loop loop = new Loop(name);
            loop.call(() -> null);
            return loop;
        }

        /** Runs {@code action} on the loop thread and returns its result. */
        <T> T call(Callable<T> action) throws Exception {
            CompletableFuture<T> f = new CompletableFuture<>();
            reactor.execute(() -> {
                try {
                    f.complete(action.call());
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            });
            return f.get(WAIT_SECONDS, TimeUnit.SECONDS);
        }

        /** Returns after two full loop iterations: events that were due have been dispatched. */
        void barrier() throws Exception {
            call(() -> null);
            call(() -> null);
        }

        @Override
        public void close() {
            reactor.close();
            try {
                thread.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + thread.getName(), e);
            }
            assertFalse(thread.isAlive(), () -> thread.getName() + " still running after close()");
        }
    }

    // ------------------------------------------------------------------ handlers that record what happened

    record Closed(Connection connection, Throwable cause) {
    }

    /** Records opens and closes, counting onClose calls per connection. */
    static class Tracking implements ConnectionHandler {
        final BlockingQueue<Connection> opened = new LinkedBlockingQueue<>();
        final BlockingQueue<Closed> closed = new LinkedBlockingQueue<>();
        final Map<Connection, AtomicInteger> closeCalls = new ConcurrentHashMap<>();

        @Override
        public void onOpen(Connection connection) throws Exception {
            opened.add(connection);
        }

        @Override
        public void onData(Connection connection, ByteBuffer data) throws Exception {
            data.position(data.limit());
        }

        @Override
        public void onClose(Connection connection, Throwable cause) {
            closeCalls.computeIfAbsent(connection, c -> new AtomicInteger()).incrementAndGet();
            closed.add(new Closed(connection, cause));
        }

        Connection nextOpen() throws InterruptedException {
            Connection c = opened.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(c, "no connection opened in time");
            return c;
        }

        Closed nextClose() throws InterruptedException {
            Closed c = closed.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(c, "no connection closed in time");
            return c;
        }

        /** Asserts onClose ran exactly once for each connection it ran for, and for {@code expected} connections. */
        void assertClosedOnceEach(int expected) {
            assertEquals(expected, closeCalls.size(), "connections that saw onClose");
            closeCalls.forEach((c, n) -> assertEquals(1, n.get(), () -> "onClose calls for " + c));
        }
    }

    /** Echoes every byte; stops reading from a peer that does not read its echoes until the queue drains. */
    static class Echo extends Tracking {
        @Override
        public void onData(Connection connection, ByteBuffer data) {
            connection.write(data);
            if (!connection.isWritable()) {
                connection.pauseReading();
            }
        }

        @Override
        public void onWritabilityChanged(Connection connection, boolean writable) {
            if (writable) {
                connection.resumeReading();
            }
        }
    }

    /**
     * A well-behaved producer: on open it writes {@code total} bytes of stream {@code seed} in {@code chunk}-sized
     * writes while the connection is writable, stops when it turns unwritable, resumes when it turns writable, and
     * closes gracefully once everything is written (if {@code closeWhenDone}).
     */
    static class Producer extends Tracking {
        final long seed;
        final long total;
        final int chunk;
        final boolean closeWhenDone;
        /** Writability changes in order, per the callback. */
        final BlockingQueue<Boolean> writability = new LinkedBlockingQueue<>();
        /** The most bytes ever queued right after a write. */
        volatile long maxQueued;
        /** Bytes handed to write() so far (the last connection's). */
        volatile long produced;

        Producer(long seed, long total, int chunk, boolean closeWhenDone) {
            this.seed = seed;
            this.total = total;
            this.chunk = chunk;
            this.closeWhenDone = closeWhenDone;
        }

        @Override
        public void onOpen(Connection c) throws Exception {
            super.onOpen(c);
            produce(c);
        }

        @Override
        public void onWritabilityChanged(Connection c, boolean writable) {
            writability.add(writable);
            if (writable) {
                produce(c);
            }
        }

        private void produce(Connection c) {
            long pos = produced;
            while (pos < total && c.isWritable() && c.isOpen()) {
                int n = (int) Math.min(chunk, total - pos);
                c.write(bytes(seed, pos, n));
                pos += n;
                produced = pos;
                maxQueued = Math.max(maxQueued, c.queuedBytes());
            }
            if (pos == total && closeWhenDone && c.isOpen()) {
                c.close();
            }
        }
    }

    // ------------------------------------------------------------------ blocking clients

    static SocketChannel connect(SocketAddress address) throws IOException {
        SocketChannel ch = SocketChannel.open(address);
        ch.configureBlocking(true);
        return ch;
    }

    static void writeFully(SocketChannel ch, ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            ch.write(src);
        }
    }

    static void writeFully(SocketChannel ch, byte[] src) throws IOException {
        writeFully(ch, ByteBuffer.wrap(src));
    }

    static byte[] readFully(SocketChannel ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new EOFException("EOF after " + b.position() + " of " + n + " bytes");
            }
        }
        return b.array();
    }

    /** Reads until EOF, returning how many bytes came; fails on an unexpected byte. */
    static long readToEof(SocketChannel ch, Verifier v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64 * 1024);
        long total = 0;
        while (true) {
            b.clear();
            int n = ch.read(b);
            if (n < 0) {
                return total;
            }
            v.check(b.array(), 0, n);
            total += n;
        }
    }

    static Duration seconds(long s) {
        return Duration.ofSeconds(s);
    }

    // ------------------------------------------------------------------ waiting for a condition

    /**
     * Waits until {@code condition} holds, for a state no latch or future announces (a counter another thread
     * bumps, a thread's state): checks it at once, then spins briefly and re-checks every 100 µs.
     *
     * @throws AssertionError naming {@code what} if it does not hold within {@code timeout}
     */
    static void awaitUntil(BooleanSupplier condition, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int spins = 0; !condition.getAsBoolean(); spins++) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not true within " + timeout + ": " + what);
            }
            if (spins < 100) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(100_000);
            }
        }
    }

    /** {@link #awaitUntil(BooleanSupplier, Duration, String)} with the kit's {@link #WAIT_SECONDS}. */
    static void awaitUntil(BooleanSupplier condition, String what) {
        awaitUntil(condition, Duration.ofSeconds(WAIT_SECONDS), what);
    }

    // ------------------------------------------------------------------ a reactor started by hand, plain sockets

    /** A reactor running on its own daemon thread. */
    static Reactor startReactor(String name) throws Exception {
        Reactor r = Reactor.builder().name(name).build();
        r.start();
        return r;
    }

    /** Closes the reactor (and so every connection and server on it) and waits for its thread. */
    static void stop(Reactor r) throws InterruptedException {
        if (r != null) {
            r.close();
            assertTrue(r.awaitTermination(Duration.ofSeconds(10)), "reactor terminated");
        }
    }

    /** Evaluates {@code what} on the reactor's thread (where server and connection state live). */
    static <T> T onLoop(Reactor r, Supplier<T> what) throws Exception {
        return CompletableFuture.supplyAsync(what, r).get(10, TimeUnit.SECONDS);
    }

    /** A blocking client socket to 127.0.0.1:{@code port} with a 10 s read timeout and TCP_NODELAY. */
    static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        s.setSoTimeout(10_000);
        s.setTcpNoDelay(true);
        return s;
    }

    static byte[] readFully(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        assertEquals(n, b.length, "bytes before EOF");
        return b;
    }

    /** Reads until EOF or a reset; true if the peer closed (either way) within the socket's timeout. */
    static boolean readsEofOrReset(Socket s) throws IOException {
        try {
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            while (in.read(buf) >= 0) {
                // drain whatever the server sent before closing
            }
            return true;
        } catch (java.net.SocketException reset) {
            return true;
        }
    }
}
