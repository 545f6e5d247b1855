package org.epoll4j.net;

import org.epoll4j.ClosedReactorException;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * Runs blocking or CPU-heavy work for one connection on an {@link Executor} (a thread pool of yours) and hands each
 * result back on the connection's reactor thread, in submission order, whatever order the pool finishes them in.
 *
 * <pre>{@code
 * public void onOpen(Connection c) { c.attach(Offload.of(c, pool, 16)); }
 * public void onFrame(Connection c, String request) {           // a FrameHandler<String> (LineDecoder.handler)
 *     Offload offload = (Offload) c.attachment();
 *     if (request.equals("PING")) {
 *         offload.complete("PONG", (reply, error) -> c.write(reply + "\n"));   // ready now, keeps its place
 *     } else {
 *         offload.submit(() -> slowLookup(request), (reply, error) -> {
 *             if (error == null) c.write(reply + "\n"); else c.write("ERR " + error.getMessage() + "\n");
 *         });
 *     }
 * }
 * }</pre>
 *
 * <p><b>The cap.</b> At most {@code maxInFlight} results are outstanding (submitted or {@linkplain #complete ready}
 * and not yet delivered): that bounds both the work on the pool and the memory its results hold. Reaching the cap
 * pauses the connection's reading ({@link Connection#isReadingPaused()}, for a reason of its own, so it never undoes
 * a pause of yours or the connection's backpressure and vice versa); a decoding handler
 * ({@link LineDecoder#handler}, {@link LengthFieldDecoder#handler}) then stops delivering frames, even the rest of a
 * read that brought thousands, and holds them until a result is delivered and a slot frees. A raw
 * {@link ConnectionHandler} that submits a whole read at once is bounded too: tasks past the cap wait here, in
 * order, and start on the pool only as slots free ({@link #waiting()}).
 *
 * <p><b>Closing.</b> A connection with results outstanding is not closed by the default
 * {@link ConnectionHandler#onReadHangup} (a client that sends its requests and then FIN still gets every reply) nor
 * by a graceful server shutdown ({@link TcpServerGroup#closeGracefully}): reading stops, the outstanding results are
 * delivered and written, then the connection closes ({@link #closeWhenDone}). Results are delivered even after the
 * connection has closed (check {@link Connection#isOpen()}), but not after its reactor has closed: those are
 * counted ({@link #dropped()}, {@link TcpServer#offloadResultsDropped()}) and logged, never lost silently.
 *
 * <p>Not thread-safe: {@link #submit}, {@link #complete} and the getters belong to the connection's reactor thread.
 */
public final class Offload {
    private static final System.Logger LOG = System.getLogger(Offload.class.getName());

    private final Connection connection;
    private final Executor executor;
    private final int maxInFlight;
    /** Every outstanding result, in submission order: running, finished, ready, or waiting for a slot. */
    private final ArrayDeque<Pending<?>> pending = new ArrayDeque<>();
    /** Tasks past the cap, not yet handed to the executor, in order. */
    private final ArrayDeque<Pending<?>> waiting = new ArrayDeque<>();
    private int started;
    private boolean pausedByUs;
    private boolean closeWhenDone;
    private long delivered;
    /** Written by the loop, and by pool threads whose result finds the reactor closed. */
    private final AtomicLong dropped = new AtomicLong();
    private boolean droppedCounted;

    private Offload(Connection connection, Executor executor, int maxInFlight) {
        this.connection = connection;
        this.executor = executor;
        this.maxInFlight = maxInFlight;
    }

    /**
     * An offload for {@code connection}; a connection has at most one (create it in {@code onOpen}).
     *
     * @param connection  the connection whose reactor thread receives the results
     * @param executor    where the tasks run
     * @param maxInFlight the most results outstanding at once (1 or more); reading pauses while that many are
     * @return the offload
     */
    public static Offload of(Connection connection, Executor executor, int maxInFlight) {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(executor, "executor");
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be >= 1: " + maxInFlight);
        }
        Offload o = new Offload(connection, executor, maxInFlight);
        connection.offload = o;
        return o;
    }

    /**
     * Runs {@code task} on the executor; {@code onResult} later receives its value (error {@code null}) or what it
     * threw (value {@code null}) on the reactor thread, after the results of everything submitted before it. Past
     * the cap the task waits for a slot before it starts.
     *
     * @param task     the work
     * @param onResult receives the outcome on the reactor thread; what it throws closes the connection
     * @param <T>      the result type
     * @throws IllegalStateException if called off the connection's reactor thread
     */
    public <T> void submit(Callable<T> task, BiConsumer<? super T, ? super Throwable> onResult) {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(onResult, "onResult");
        checkThread("submit");
        Pending<T> p = new Pending<>(task, onResult);
        pending.add(p);
        if (started < maxInFlight) {
            start(p);
        } else {
            waiting.add(p);
        }
        pauseIfFull();
    }

    /**
     * A result that is ready now (computed on the loop) takes its place in the order: {@code onResult} receives
     * {@code value} after the results of everything submitted before it, without a trip through the executor;
     * at once if nothing is outstanding. It counts against the cap while it waits.
     *
     * @param value    the result
     * @param onResult receives it on the reactor thread (error {@code null}); what it throws closes the connection
     * @param <T>      the result type
     * @throws IllegalStateException if called off the connection's reactor thread
     */
    public <T> void complete(T value, BiConsumer<? super T, ? super Throwable> onResult) {
        Objects.requireNonNull(onResult, "onResult");
        checkThread("complete");
        Pending<T> p = new Pending<>(null, onResult);
        p.value = value;
        p.finished = true;
        pending.add(p);
        if (pending.size() == 1) {
            deliver();
        } else {
            pauseIfFull();
        }
    }

    private void checkThread(String what) {
        if (!connection.reactor().inEventLoop()) {
            throw new IllegalStateException("Offload." + what + " must run on " + connection.reactor().name()
                    + "'s thread (the connection's handler); use connection.reactor().execute(...) from others");
        }
    }

    private <T> void start(Pending<T> p) {
        started++;
        p.started = true;
        try {
            executor.execute(() -> {
                try {
                    p.value = p.task.call();
                } catch (Throwable t) {
                    p.error = t;
                }
                hand(p);
            });
        } catch (RejectedExecutionException e) {
            p.error = e;
            p.finished = true;
            if (pending.peek() == p) {
                connection.reactor().execute(this::deliver); // not re-entrantly from submit
            }
        }
    }

    private void pauseIfFull() {
        if (!pausedByUs && pending.size() >= maxInFlight) {
            pausedByUs = true;
            connection.pauseReading(ReadPause.OFFLOAD);
        }
    }

    /** On a pool thread: passes the finished task to the loop. */
    private void hand(Pending<?> p) {
        try {
            connection.reactor().execute(() -> {
                p.finished = true;
                deliver();
            });
        } catch (RejectedExecutionException reactorClosed) {
            if (!droppedCounted) {
                dropped.incrementAndGet();
                connection.offloadResultDropped(1);
            }
        }
    }

    /** Delivers finished results from the head of the queue, so that order is submission order. */
    private void deliver() {
        Pending<?> head;
        while ((head = pending.peek()) != null && head.finished) {
            pending.poll();
            if (head.started) {
                started--;
            }
            delivered++;
            try {
                head.deliver();
            } catch (Throwable t) {
                connection.closeWith(t);
            }
        }
        while (started < maxInFlight && !waiting.isEmpty()) {
            start(waiting.poll());
        }
        if (closeWhenDone) {
            if (pending.isEmpty()) {
                connection.close();
            }
        } else if (pausedByUs && pending.size() < maxInFlight) {
            pausedByUs = false;
            connection.resumeReading(ReadPause.OFFLOAD);
        }
    }

    /**
     * Stops reading and closes the connection gracefully once every outstanding result has been delivered (and so
     * written, if {@code onResult} writes it); at once if none is. What the default
     * {@link ConnectionHandler#onReadHangup} and a graceful server shutdown do. On the reactor thread.
     */
    public void closeWhenDone() {
        checkThread("closeWhenDone");
        if (pending.isEmpty()) {
            connection.close();
            return;
        }
        closeWhenDone = true; // tasks waiting for a slot still run: they are requests the peer was promised
        if (!pausedByUs) {
            pausedByUs = true;
            connection.pauseReading(ReadPause.OFFLOAD);
        }
        deliver();
    }

    /**
     * Closes {@code connection} gracefully, but after its offload's outstanding results if it has any; from any
     * thread.
     */
    static void closeGracefully(Connection connection) {
        if (connection.offload == null) {
            connection.close();
            return;
        }
        if (connection.reactor().inEventLoop()) {
            if (connection.isOpen()) {
                connection.offload.closeWhenDone();
            }
            return;
        }
        try {
            connection.reactor().execute(() -> {
                Offload o = connection.offload;
                if (connection.isOpen()) {
                    o.closeWhenDone();
                }
            });
        } catch (RejectedExecutionException reactorClosing) {
            connection.close(); // the reactor's close ends it, and counts what was outstanding
        }
    }

    /** The connection closed (on the loop): if its reactor is closing, what is outstanding can never be delivered. */
    void connectionClosed(Throwable cause) {
        if (cause instanceof ClosedReactorException && !pending.isEmpty() && !droppedCounted) {
            droppedCounted = true;
            int n = pending.size();
            dropped.addAndGet(n);
            connection.offloadResultDropped(n);
            LOG.log(System.Logger.Level.WARNING, n + " offloaded result(s) of " + connection
                    + " dropped: the reactor closed before they were delivered (raise the shutdown timeout?)");
        }
    }

    /** Results outstanding on the executor: started and not yet delivered (at most {@code maxInFlight}). */
    public int inFlight() {
        return started;
    }

    /** Tasks submitted past the cap that have not started yet. */
    public int waiting() {
        return waiting.size();
    }

    /** Everything outstanding: in flight, waiting, and ready values waiting for their turn. */
    public int outstanding() {
        return pending.size();
    }

    /** Results delivered so far. */
    public long delivered() {
        return delivered;
    }

    /** Results that could not be delivered because the reactor closed first (a graceful shutdown that ran out of
     *  time). Any thread. */
    public long dropped() {
        return dropped.get();
    }

    /** Whether this offload has paused the connection's reading (at its cap, or closing when done). */
    public boolean isReadingPaused() {
        return pausedByUs;
    }

    private static final class Pending<T> {
        private final Callable<T> task;
        private final BiConsumer<? super T, ? super Throwable> onResult;
        // Written by the pool thread before the hand-off through the reactor's task queue, which publishes them.
        private T value;
        private Throwable error;
        private boolean finished;
        private boolean started;

        Pending(Callable<T> task, BiConsumer<? super T, ? super Throwable> onResult) {
            this.task = task;
            this.onResult = onResult;
        }

        void deliver() {
            onResult.accept(error == null ? value : null, error);
        }
    }
}
