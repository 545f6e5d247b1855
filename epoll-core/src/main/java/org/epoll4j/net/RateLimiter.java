package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.Timeout;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;

/**
 * Token-bucket read and write limits for one {@link Connection} (libevent's {@code bufferevent_set_rate_limit}),
 * optionally inside a {@link RateLimitGroup}. Build it on the connection's reactor thread, typically in
 * {@link ConnectionHandler#onOpen}.
 *
 * <p><b>Reads.</b> Call {@link #onRead(int)} with the size of every {@link ConnectionHandler#onData} delivery. What
 * the kernel already handed over is always delivered and charged; the bucket may go negative, which makes the pause
 * that follows longer (the debt is paid first), so over time the rate holds even though a single read can
 * overshoot by up to one read buffer. When the bucket (or the group allowance) is empty, reading pauses (a pause
 * reason of its own, independent of {@link Connection#pauseReading()}), and the next tick that refills it resumes.
 *
 * <p><b>Writes.</b> {@link #write(ByteBuffer)} copies the bytes into the limiter's queue and hands them to
 * {@link Connection#write(ByteBuffer)} as tokens allow, in order, now or on later ticks; nothing is dropped. The
 * limiter also holds bytes while the connection is above its high watermark, so the connection's queue stays
 * bounded; the limiter's own queue is bounded by the caller: stop writing while {@link #isWritable()} is
 * {@code false} (more than {@link Builder#highWatermark} bytes held). {@link #close()} closes the connection once
 * every held byte was handed over. Write to the connection only through the limiter, or bytes overtake each other.
 *
 * <p><b>Timers.</b> The limiter ticks on its reactor's timer (every {@link Builder#tick}, default 50 ms) only while
 * it waits: reading paused for tokens, or bytes held. An idle limiter has no timer; its buckets refill lazily by the
 * ticks elapsed, up to their burst. Members of a group tick with the group. Once its connection closed, a limiter
 * stops at its next tick (held bytes are discarded with the connection's own queue).
 *
 * <p>{@link #write}, {@link #close()} and the getters are safe from any thread; the rest runs on the loop thread.
 */
public final class RateLimiter {
    static final Duration DEFAULT_TICK = Duration.ofMillis(50);
    private static final long DEFAULT_HIGH_WATERMARK = 1 << 20;

    private final Connection connection;
    private final Reactor reactor;
    private final RateLimitGroup group;
    private final Duration tick;
    private final TokenBucket read;
    private final TokenBucket write;
    private final boolean groupReads;
    private final boolean groupWrites;
    private final long highWatermark;
    private final ArrayDeque<ByteBuffer> held = new ArrayDeque<>();
    private final Runnable onTick = this::onTick;
    /** Tokens the group gave this member (reads may drive it negative). */
    long readAllowance;
    long writeAllowance;
    private volatile long heldBytes;
    private boolean readPaused;
    private volatile boolean closeWhenDrained;
    private boolean released;
    private Timeout timer;
    private long ticks;

    private RateLimiter(Builder b) {
        this.connection = b.connection;
        this.reactor = b.connection.reactor();
        this.group = b.group;
        this.tick = b.group != null ? b.group.tick() : b.tick;
        long tickMillis = tick.toMillis();
        long now = System.nanoTime();
        this.read = b.read != null ? new TokenBucket(b.read, tickMillis, now) : null;
        this.write = b.write != null ? new TokenBucket(b.write, tickMillis, now) : null;
        this.groupReads = group != null && group.limitsReads();
        this.groupWrites = group != null && group.limitsWrites();
        this.highWatermark = b.highWatermark;
    }

    /**
     * Starts a limiter for {@code connection}.
     *
     * @param connection the connection to limit
     * @return a builder
     */
    public static Builder builder(Connection connection) {
        return new Builder(Objects.requireNonNull(connection, "connection"));
    }

    /** Configures a {@link RateLimiter}. */
    public static final class Builder {
        private final Connection connection;
        private RateLimit read;
        private RateLimit write;
        private Duration tick = DEFAULT_TICK;
        private RateLimitGroup group;
        private long highWatermark = DEFAULT_HIGH_WATERMARK;

        private Builder(Connection connection) {
            this.connection = connection;
        }

        /**
         * Limits what this connection reads.
         *
         * @param limit the limit, or {@code null} for none (the group's, if any, still applies)
         * @return this builder
         */
        public Builder read(RateLimit limit) {
            this.read = limit;
            return this;
        }

        /**
         * Limits what this connection writes through {@link RateLimiter#write}.
         *
         * @param limit the limit, or {@code null} for none (the group's, if any, still applies)
         * @return this builder
         */
        public Builder write(RateLimit limit) {
            this.write = limit;
            return this;
        }

        /**
         * How often buckets refill while the limiter waits (default 50 ms; libevent's tick). Shorter ticks smooth
         * the flow at the cost of more timer wake-ups. Ignored inside a group: members tick with the group.
         *
         * @param tick between 1 ms and 1 s, whole milliseconds
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder tick(Duration tick) {
            this.tick = checkTick(tick);
            return this;
        }

        /**
         * Makes the connection a member of {@code group}: it shares the group's budget too.
         *
         * @param group the group, on the connection's reactor
         * @return this builder
         */
        public Builder group(RateLimitGroup group) {
            this.group = group;
            return this;
        }

        /**
         * Above this many held bytes {@link RateLimiter#isWritable()} turns {@code false} (default 1 MiB). Nothing
         * is refused: the caller keeps memory bounded by checking it.
         *
         * @param bytes at least 1
         * @return this builder
         * @throws IllegalArgumentException if below 1
         */
        public Builder highWatermark(long bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("rate limiter: highWatermark must be at least 1 byte, not " + bytes);
            }
            this.highWatermark = bytes;
            return this;
        }

        /**
         * Builds the limiter; on the connection's reactor thread.
         *
         * @return the limiter
         * @throws IllegalArgumentException if no limit and no group was given, a burst is below one tick's refill,
         *                                  or the group belongs to another reactor
         * @throws IllegalStateException    if called off the connection's reactor thread
         */
        public RateLimiter build() {
            if (!connection.reactor().inEventLoop()) {
                throw new IllegalStateException("rate limiter: build it on " + connection.reactor().name()
                        + "'s thread (e.g. in onOpen), not on " + Thread.currentThread().getName());
            }
            if (read == null && write == null && group == null) {
                throw new IllegalArgumentException("rate limiter: set a read or write limit, or a group");
            }
            if (group != null && group.reactor() != connection.reactor()) {
                throw new IllegalArgumentException("rate limiter: the group belongs to " + group.reactor().name()
                        + ", the connection to " + connection.reactor().name() + "; a group serves one reactor");
            }
            long tickMillis = group != null ? group.tickMillis() : tick.toMillis();
            if (read != null) {
                read.checkTick(tickMillis, "rate limiter read limit");
            }
            if (write != null) {
                write.checkTick(tickMillis, "rate limiter write limit");
            }
            return new RateLimiter(this);
        }
    }

    static Duration checkTick(Duration tick) {
        Objects.requireNonNull(tick, "tick");
        if (tick.compareTo(Duration.ofMillis(1)) < 0 || tick.compareTo(Duration.ofSeconds(1)) > 0
                || tick.toNanos() % 1_000_000L != 0) {
            throw new IllegalArgumentException("rate limit tick must be whole milliseconds between 1 ms and 1 s, not "
                    + tick);
        }
        return tick;
    }

    // ------------------------------------------------------------------ reads

    /**
     * Charges {@code bytes} just delivered to {@link ConnectionHandler#onData}; pauses reading if that emptied the
     * bucket. Loop thread.
     *
     * @param bytes how many bytes were read, at least 0
     * @throws IllegalArgumentException if negative
     */
    public void onRead(int bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("rate limiter: onRead(" + bytes + "): negative byte count");
        }
        if (released || (read == null && !groupReads)) {
            return;
        }
        if (read != null) {
            read.refill(System.nanoTime());
            read.tokens -= bytes;
        }
        if (groupReads) {
            readAllowance -= bytes;
        }
        if (!readAllowed() && !readPaused) {
            readPaused = true;
            connection.pauseReading(ReadPause.RATE_LIMIT);
            waitForTick();
        }
    }

    private boolean readAllowed() {
        return (read == null || read.tokens > 0) && (!groupReads || readAllowance > 0);
    }

    boolean waitsOnGroupRead() {
        return groupReads && readPaused && readAllowance <= 0;
    }

    boolean waitsOnGroupWrite() {
        // a member blocked on its connection's watermark gets no share: it could not spend it, and it would burst later
        return groupWrites && heldBytes > 0 && writeAllowance <= 0 && connection.isWritable();
    }

    // ------------------------------------------------------------------ writes

    /**
     * Queues {@code src}'s remaining bytes (copied; {@code src} is consumed) to go out as tokens allow, after every
     * byte written before. Safe from any thread.
     *
     * @param src the bytes
     * @throws ClosedConnectionException if {@link #close()} was called or the connection is closed
     */
    public void write(ByteBuffer src) {
        if (!connection.isOpen() || closeWhenDrained) {
            throw new ClosedConnectionException("rate limiter write " + (closeWhenDrained ? "after close() on "
                    : "on closed ") + connection);
        }
        ByteBuffer copy = ByteBuffer.allocate(src.remaining());
        copy.put(src).flip();
        if (reactor.inEventLoop()) {
            writeOnLoop(copy);
        } else {
            synchronized (this) {
                heldBytes += copy.remaining(); // counted at once, so isWritable() is current for this thread
            }
            onLoop(() -> {
                synchronized (this) {
                    heldBytes -= copy.remaining();
                }
                writeOnLoop(copy);
            });
        }
    }

    private void writeOnLoop(ByteBuffer copy) {
        if (closeWhenDrained) {
            throw new ClosedConnectionException("rate limiter write after close() on " + connection);
        }
        if (released) {
            connection.write(copy);
            return;
        }
        if (copy.hasRemaining()) {
            held.add(copy);
            synchronized (this) {
                heldBytes += copy.remaining();
            }
        }
        step();
    }

    /**
     * Closes the connection gracefully once every held byte has been handed to it (which then sends them before
     * closing). Safe from any thread; idempotent.
     */
    public void close() {
        onLoop(() -> {
            closeWhenDrained = true;
            if (released) {
                connection.close();
            } else {
                step();
            }
        });
    }

    /** Hands out as many held bytes as the tokens, the group allowance and the connection's watermark allow. */
    private void flush() {
        if (held.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        if (write != null) {
            write.refill(now);
        }
        while (!held.isEmpty() && connection.isWritable()) {
            long n = held.peek().remaining();
            if (write != null) {
                n = Math.min(n, write.tokens);
            }
            if (groupWrites) {
                n = Math.min(n, writeAllowance);
            }
            if (n <= 0) {
                return;
            }
            ByteBuffer head = held.peek();
            ByteBuffer part = head.duplicate();
            part.limit(part.position() + (int) n);
            head.position(part.limit());
            if (!head.hasRemaining()) {
                held.poll();
            }
            synchronized (this) {
                heldBytes -= n;
            }
            if (write != null) {
                write.tokens -= n;
            }
            if (groupWrites) {
                writeAllowance -= n;
            }
            connection.write(part);
        }
    }

    // ------------------------------------------------------------------ ticks

    /** Re-evaluates after a tick or a write: resume reading, send what tokens allow, wait again if still blocked. */
    void step() {
        if (released) {
            return;
        }
        if (!connection.isOpen()) {
            stop();
            return;
        }
        if (readPaused) {
            if (read != null) {
                read.refill(System.nanoTime());
            }
            if (readAllowed()) {
                readPaused = false;
                connection.resumeReading(ReadPause.RATE_LIMIT);
            }
        }
        flush();
        if (held.isEmpty() && closeWhenDrained) {
            connection.close();
            stop();
            return;
        }
        if (readPaused || !held.isEmpty()) {
            waitForTick();
        }
    }

    private void waitForTick() {
        if (group != null) {
            group.wake(this);
        } else if (timer == null) {
            try {
                timer = reactor.schedule(tick, onTick);
            } catch (RejectedExecutionException closing) {
                // the reactor's close ends the connection too
            }
        }
    }

    private void onTick() {
        timer = null;
        ticks++;
        step();
    }

    /**
     * Stops limiting: reading resumes (unless paused for another reason), every held byte goes to the connection at
     * once, timers stop and the limiter leaves its group. Later writes pass straight through. Loop thread.
     */
    public void release() {
        if (released) {
            return;
        }
        if (readPaused) {
            readPaused = false;
            connection.resumeReading(ReadPause.RATE_LIMIT);
        }
        ByteBuffer b;
        while ((b = held.poll()) != null) {
            synchronized (this) {
                heldBytes -= b.remaining();
            }
            if (connection.isOpen()) {
                connection.write(b);
            }
        }
        stop();
        if (closeWhenDrained && connection.isOpen()) {
            connection.close();
        }
    }

    private void stop() {
        released = true;
        held.clear();
        synchronized (this) {
            heldBytes = 0;
        }
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
        if (group != null) {
            group.leave(this);
        }
    }

    private void onLoop(Runnable action) {
        if (reactor.inEventLoop()) {
            action.run();
        } else {
            reactor.execute(action);
        }
    }

    // ------------------------------------------------------------------ state

    /** The limited connection. */
    public Connection connection() {
        return connection;
    }

    /** The group, or {@code null}. */
    public RateLimitGroup group() {
        return group;
    }

    /** Bytes written through the limiter and not yet handed to the connection. */
    public long heldBytes() {
        return heldBytes;
    }

    /** Whether at most {@link Builder#highWatermark} bytes are held: keep writing only while this holds. */
    public boolean isWritable() {
        return heldBytes <= highWatermark;
    }

    /** Whether the limiter paused the connection's reading (it may be paused for other reasons too). Loop thread. */
    public boolean isReadingPaused() {
        return readPaused;
    }

    /** Timer ticks this limiter ran (outside a group; members tick with the group). Loop thread. */
    public long ticks() {
        return ticks;
    }

    /** Refills credited to the read bucket: it passed at most burst + ceil(rate*tick) * this (+ one read). */
    long readRefills() {
        return read == null ? 0 : read.ticks;
    }

    /** Refills credited to the write bucket. */
    long writeRefills() {
        return write == null ? 0 : write.ticks;
    }

    /** Whether a tick is pending (the limiter waits). Loop thread. */
    boolean isTicking() {
        return timer != null;
    }

    @Override
    public String toString() {
        return "RateLimiter[" + connection + ", " + heldBytes + " B held" + (readPaused ? ", reading paused" : "")
                + "]";
    }
}
