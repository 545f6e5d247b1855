package org.epoll4j.net;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiConsumer;

/**
 * Runs blocking or CPU-heavy work for one connection on an {@link Executor} (a thread pool of yours) and hands each
 * result back on the connection's reactor thread, in submission order, whatever order the pool finishes them in.
 * While more than {@code maxInFlight} tasks are unfinished the connection stops reading, so a client that sends
 * faster than the pool computes is pushed back by TCP instead of filling memory.
 *
 * <pre>{@code
 * public void onOpen(Connection c) { c.attach(Offload.of(c, pool, 16)); }
 * public void onData(Connection c, ByteBuffer data) {
 *     byte[] request = copy(data);                          // data is only valid during the call
 *     ((Offload) c.attachment()).submit(() -> compute(request), (reply, error) -> {
 *         if (error == null) c.write(reply); else c.closeWith(error);
 *     });
 * }
 * }</pre>
 *
 * <p>Results are delivered even after the connection has closed (check {@link Connection#isOpen()}), but not after
 * its reactor has closed. The connection's reading is paused and resumed through {@link Connection#pauseReading()}
 * and {@link Connection#resumeReading()}: a handler that pauses reading for its own reasons as well should not mix
 * the two on one connection. Not thread-safe: {@link #submit} belongs to the connection's reactor thread.
 */
public final class Offload {
    private final Connection connection;
    private final Executor executor;
    private final int maxInFlight;
    private final ArrayDeque<Pending<?>> pending = new ArrayDeque<>();
    private boolean pausedByUs;
    private long delivered;

    private Offload(Connection connection, Executor executor, int maxInFlight) {
        this.connection = connection;
        this.executor = executor;
        this.maxInFlight = maxInFlight;
    }

    /**
     * An offload for {@code connection}.
     *
     * @param connection  the connection whose reactor thread receives the results
     * @param executor    where the tasks run
     * @param maxInFlight reading pauses while more than this many tasks are unfinished (1 or more)
     * @return the offload
     */
    public static Offload of(Connection connection, Executor executor, int maxInFlight) {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(executor, "executor");
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be >= 1: " + maxInFlight);
        }
        return new Offload(connection, executor, maxInFlight);
    }

    /**
     * Runs {@code task} on the executor; {@code onResult} later receives its value (error {@code null}) or what it
     * threw (value {@code null}) on the reactor thread, after the results of every task submitted before it.
     *
     * @param task     the work
     * @param onResult receives the outcome on the reactor thread; what it throws closes the connection
     * @param <T>      the result type
     * @throws IllegalStateException if called off the connection's reactor thread
     */
    public <T> void submit(Callable<T> task, BiConsumer<? super T, ? super Throwable> onResult) {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(onResult, "onResult");
        if (!connection.reactor().inEventLoop()) {
            throw new IllegalStateException("Offload.submit must run on " + connection.reactor().name()
                    + "'s thread (the connection's handler); use connection.reactor().execute(...) from others");
        }
        Pending<T> p = new Pending<>(onResult);
        pending.add(p);
        if (pending.size() > maxInFlight && !pausedByUs) {
            pausedByUs = true;
            connection.pauseReading();
        }
        try {
            executor.execute(() -> {
                try {
                    p.value = task.call();
                } catch (Throwable t) {
                    p.error = t;
                }
                hand(p);
            });
        } catch (RejectedExecutionException e) {
            p.error = e;
            p.finished = true;
            deliver();
        }
    }

    private void hand(Pending<?> p) {
        try {
            connection.reactor().execute(() -> {
                p.finished = true;
                deliver();
            });
        } catch (RejectedExecutionException reactorClosed) {
            // nobody is left to receive it
        }
    }

    /** Delivers finished results from the head of the queue, so that order is submission order. */
    private void deliver() {
        Pending<?> head;
        while ((head = pending.peek()) != null && head.finished) {
            pending.poll();
            delivered++;
            try {
                head.deliver();
            } catch (Throwable t) {
                connection.closeWith(t);
            }
        }
        if (pausedByUs && pending.size() <= maxInFlight) {
            pausedByUs = false;
            if (connection.isOpen()) {
                connection.resumeReading();
            }
        }
    }

    /** Tasks submitted and not yet delivered. Reactor thread only. */
    public int inFlight() {
        return pending.size();
    }

    /** Results delivered so far. Reactor thread only. */
    public long delivered() {
        return delivered;
    }

    /** Whether this offload has paused the connection's reading because too many tasks are in flight. */
    public boolean isReadingPaused() {
        return pausedByUs;
    }

    private static final class Pending<T> {
        private final BiConsumer<? super T, ? super Throwable> onResult;
        // Written by the pool thread before the hand-off through the reactor's task queue, which publishes them.
        private T value;
        private Throwable error;
        private boolean finished;

        Pending(BiConsumer<? super T, ? super Throwable> onResult) {
            this.onResult = onResult;
        }

        void deliver() {
            onResult.accept(error == null ? value : null, error);
        }
    }
}
