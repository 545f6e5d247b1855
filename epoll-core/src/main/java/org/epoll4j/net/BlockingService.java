package org.epoll4j.net;

import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * Serves each accepted connection with a {@link BlockingHandler} on a thread of its own: a virtual thread on Java
 * 21+ (no platform thread per connection), a daemon platform thread on Java 17, or a thread of the
 * {@link ThreadFactory} given. It is the handler factory of a {@link TcpServer} or {@link TcpServerGroup}, so
 * everything those have applies: TLS (the handshake completes before the handler runs), watermarks, idle
 * timeouts, accept strategies, counters.
 *
 * <pre>{@code
 * TcpServer server = TcpServer.builder(reactor)
 *         .bind(new InetSocketAddress("127.0.0.1", 7007))
 *         .handlerFactory(BlockingService.of(conn -> {
 *             byte[] buf = new byte[8192];
 *             for (int n; (n = conn.read(buf, 0, buf.length)) > 0; ) {
 *                 conn.write(buf, 0, n);
 *             }
 *         }))
 *         .start();
 * }</pre>
 *
 * <p>Immutable: each {@code withX}-style method returns a copy. The copies share one count of running handlers.
 */
public final class BlockingService implements Supplier<ConnectionHandler> {
    private static final System.Logger LOG = System.getLogger(BlockingService.class.getName());

    private final BlockingHandler handler;
    /** Makes each handler's thread; null: a virtual thread carried by the connection's reactor. */
    private final ThreadFactory threads;
    private final int inboundLimit;
    private final Duration readTimeout;
    private final Duration writeTimeout;
    private final Running running;

    private BlockingService(BlockingHandler handler, ThreadFactory threads, int inboundLimit, Duration readTimeout,
                            Duration writeTimeout, Running running) {
        this.handler = handler;
        this.threads = threads;
        this.inboundLimit = inboundLimit;
        this.readTimeout = readTimeout;
        this.writeTimeout = writeTimeout;
        this.running = running;
    }

    /**
     * A service running {@code handler} for each connection on a virtual thread where the JDK has them (see
     * {@link #virtualThreadsAvailable()}), else on a daemon platform thread; 64 KiB inbound limit, no read or write
     * timeout.
     *
     * @param handler what serves one connection
     * @return the service
     */
    public static BlockingService of(BlockingHandler handler) {
        return new BlockingService(Objects.requireNonNull(handler, "handler"), VirtualThreads.factory(),
                BlockingConnection.DEFAULT_INBOUND_LIMIT, Duration.ZERO, Duration.ZERO, new Running());
    }

    /** Whether this JDK has virtual threads (Java 21+), which {@link #of} then uses. */
    public static boolean virtualThreadsAvailable() {
        return VirtualThreads.available();
    }

    /**
     * Runs handlers on threads of {@code factory} instead (e.g. a named virtual-thread factory, or platform threads
     * with a chosen stack size).
     *
     * @param factory makes one thread per connection
     * @return a copy with that factory
     */
    public BlockingService threads(ThreadFactory factory) {
        return new BlockingService(handler, Objects.requireNonNull(factory, "threads"), inboundLimit, readTimeout,
                writeTimeout, running);
    }

    /**
     * Runs each handler on a virtual thread whose scheduler is its connection's reactor (Java 24+, and the JVM option
     * {@code --add-opens java.base/java.lang=ALL-UNNAMED}): the thread's code runs on the reactor's own thread between
     * the loop's events, so a wake-up is a task of the loop, not a hand-off to another CPU. Measured at 0.86-0.88x the
     * callback API's messages per second (docs/benchmarks.md). The price is the callback API's rule: while a handler
     * computes, its reactor serves no other connection, so a handler that computes long, or calls something that
     * blocks its carrier (file I/O, a JNI call that waits), must hand that work to another thread. Parking (this
     * view's reads and writes, locks, sleeps, the JDK's sockets) is fine. Threads that handlers start inherit the
     * scheduler (the JDK's rule for virtual threads started from one).
     *
     * @return a copy that runs handlers on their reactors
     * @throws UnsupportedOperationException before Java 24 or without the add-opens (the message says which)
     */
    public BlockingService onReactorThread() {
        String why = ReactorCarriedThreads.unavailableReason();
        if (why != null) {
            throw new UnsupportedOperationException("BlockingService.onReactorThread() " + why);
        }
        return new BlockingService(handler, null, inboundLimit, readTimeout, writeTimeout, running);
    }

    /**
     * Whether {@link #onReactorThread()} works in this JVM (Java 24+ with {@code java.lang} opened to this library).
     */
    public static boolean onReactorThreadAvailable() {
        return ReactorCarriedThreads.unavailableReason() == null;
    }

    /**
     * Sets how many received bytes a connection buffers for its reader before it stops reading (TCP then pushes
     * back on the peer); reading resumes once the reader drained half.
     *
     * @param bytes the limit, at least 1
     * @return a copy with that limit
     */
    public BlockingService inboundLimit(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("inboundLimit must be at least 1: " + bytes);
        }
        return new BlockingService(handler, threads, bytes, readTimeout, writeTimeout, running);
    }

    /**
     * Sets each connection's initial {@link BlockingConnection#readTimeout(Duration) read timeout}.
     *
     * @param timeout the limit; zero: none
     * @return a copy with that timeout
     */
    public BlockingService readTimeout(Duration timeout) {
        return new BlockingService(handler, threads, inboundLimit, checked(timeout, "readTimeout"), writeTimeout,
                running);
    }

    /**
     * Sets each connection's initial {@link BlockingConnection#writeTimeout(Duration) write timeout}.
     *
     * @param timeout the limit; zero: none
     * @return a copy with that timeout
     */
    public BlockingService writeTimeout(Duration timeout) {
        return new BlockingService(handler, threads, inboundLimit, readTimeout, checked(timeout, "writeTimeout"),
                running);
    }

    /** Handlers running now (started and not yet returned), over this service and its copies. */
    public int runningHandlers() {
        return running.get();
    }

    /**
     * Test seam: {@code probe} hears the count of {@link #runningHandlers()} after each handler starts and after each
     * ends (on the thread that changed it), over this service and its copies; null: none.
     */
    void runningProbe(IntConsumer probe) {
        running.probe = probe;
    }

    /** A handler for one new connection (called by the server for each accepted connection). */
    @Override
    public ConnectionHandler get() {
        return new BlockingConnection.Adapter(inboundLimit, readTimeout, writeTimeout, this::start, threads == null);
    }

    /** On the reactor thread, from onOpen: starts the connection's handler thread. */
    private void start(BlockingConnection connection) {
        Runnable task = () -> serve(connection);
        Thread thread = threads != null ? threads.newThread(task)
                : ReactorCarriedThreads.newThread(connection.connection().reactor(), task);
        if (thread == null) {
            throw new IllegalStateException("the ThreadFactory of " + this + " made no thread");
        }
        running.changed(running.incrementAndGet());
        try {
            thread.start();
        } catch (Throwable t) {
            running.changed(running.decrementAndGet());
            throw t; // onOpen fails: the connection closes with it
        }
    }

    private void serve(BlockingConnection connection) {
        try {
            handler.handle(connection);
            connection.close();
        } catch (Throwable t) {
            if (t instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.log(t instanceof IOException ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                    () -> "blocking handler of " + connection.connection() + " failed", t);
            connection.failed(t);
        } finally {
            running.changed(running.decrementAndGet());
        }
    }

    private static Duration checked(Duration timeout, String what) {
        Objects.requireNonNull(timeout, what);
        if (timeout.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative: " + timeout);
        }
        return timeout;
    }

    /** The count of running handlers a service shares with its copies, and its test probe. */
    private static final class Running extends AtomicInteger {
        volatile IntConsumer probe;

        void changed(int count) {
            IntConsumer p = probe;
            if (p != null) {
                p.accept(count);
            }
        }
    }

    @Override
    public String toString() {
        return "BlockingService[" + handler + (threads == null ? ", onReactorThread" : "") + ", inboundLimit="
                + inboundLimit + ", readTimeout=" + readTimeout
                + ", writeTimeout=" + writeTimeout + "]";
    }
}
