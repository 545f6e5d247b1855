package org.epoll4j.net;

import org.epoll4j.TriggerMode;

import java.time.Duration;
import java.util.Objects;

/**
 * Per-connection behaviour: trigger mode, write watermarks, read and write budgets, the size of each read, idle
 * timeouts, the linger of a graceful close, whether reads take passed file descriptors and whether writes wait for
 * the end of the reactor's batch. Immutable; each {@code withX} returns a copy.
 */
public final class ConnectionConfig {
    private static final ConnectionConfig DEFAULTS = new ConnectionConfig(TriggerMode.EDGE, 32 * 1024, 64 * 1024,
            16, 16, Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ofSeconds(2), false,
            NetContext.READ_BUFFER_SIZE, false);

    private final TriggerMode trigger;
    private final int lowWatermark;
    private final int highWatermark;
    private final int readBudget;
    private final int writeBudget;
    private final Duration readIdle;
    private final Duration writeIdle;
    private final Duration allIdle;
    private final Duration linger;
    private final boolean fdPassing;
    private final int readSize;
    private final boolean batchedWrites;

    private ConnectionConfig(TriggerMode trigger, int low, int high, int readBudget, int writeBudget,
                             Duration readIdle, Duration writeIdle, Duration allIdle, Duration linger,
                             boolean fdPassing, int readSize, boolean batchedWrites) {
        this.trigger = trigger;
        this.lowWatermark = low;
        this.highWatermark = high;
        this.readBudget = readBudget;
        this.writeBudget = writeBudget;
        this.readIdle = readIdle;
        this.writeIdle = writeIdle;
        this.allIdle = allIdle;
        this.linger = linger;
        this.fdPassing = fdPassing;
        this.readSize = readSize;
        this.batchedWrites = batchedWrites;
    }

    /**
     * EDGE trigger (measured faster than LEVEL on the echo benchmarks: see docs/guide.md), watermarks 32 KiB /
     * 64 KiB, 16 reads and 16 queued writes per event, no idle timeouts.
     */
    public static ConnectionConfig defaults() {
        return DEFAULTS;
    }

    /**
     * The trigger mode of the connection's registration.
     *
     * @param mode LEVEL or EDGE
     * @return a copy with that mode
     */
    public ConnectionConfig withTrigger(TriggerMode mode) {
        return new ConnectionConfig(Objects.requireNonNull(mode, "trigger"), lowWatermark, highWatermark, readBudget,
                writeBudget, readIdle, writeIdle, allIdle, linger, fdPassing, readSize, batchedWrites);
    }

    /**
     * Write watermarks: when queued bytes exceed {@code high} the connection turns unwritable
     * ({@link ConnectionHandler#onWritabilityChanged}); when they drop to {@code low} or below it turns writable
     * again.
     *
     * @param low  0 &le; low &lt; high
     * @param high the high watermark in bytes
     * @return a copy with those watermarks
     */
    public ConnectionConfig withWriteWatermarks(int low, int high) {
        if (low < 0 || high <= low) {
            throw new IllegalArgumentException("write watermarks need 0 <= low < high: low=" + low + ", high=" + high);
        }
        return new ConnectionConfig(trigger, low, high, readBudget, writeBudget, readIdle, writeIdle, allIdle, linger,
                fdPassing, readSize, batchedWrites);
    }

    /**
     * The most read calls one readiness event may make before other connections get their turn.
     *
     * @param reads 1 or more
     * @return a copy with that budget
     */
    public ConnectionConfig withReadBudget(int reads) {
        if (reads < 1) {
            throw new IllegalArgumentException("read budget must be >= 1: " + reads);
        }
        return new ConnectionConfig(trigger, lowWatermark, highWatermark, reads, writeBudget, readIdle, writeIdle,
                allIdle, linger, fdPassing, readSize, batchedWrites);
    }

    /**
     * The most write calls (send, sendmsg, sendfile) one writable event may make from the connection's queue
     * before other connections get their turn; the rest goes out on the next loop iteration. Like Netty's
     * {@code writeSpinCount}, it keeps one fast reader of a huge file from holding the loop.
     *
     * @param writes 1 or more
     * @return a copy with that budget
     */
    public ConnectionConfig withWriteBudget(int writes) {
        if (writes < 1) {
            throw new IllegalArgumentException("write budget must be >= 1: " + writes);
        }
        return new ConnectionConfig(trigger, lowWatermark, highWatermark, readBudget, writes, readIdle, writeIdle,
                allIdle, linger, fdPassing, readSize, batchedWrites);
    }

    /**
     * Idle timeouts: a connection that reads nothing for {@code readIdle}, writes nothing for {@code writeIdle}, or
     * does neither for {@code allIdle} gets {@link ConnectionHandler#onIdle} (by default: closed with an
     * {@link IdleTimeoutException}). {@link Duration#ZERO} turns one off.
     *
     * @param readIdle  read-idle limit, or zero
     * @param writeIdle write-idle limit, or zero
     * @param allIdle   limit on neither reading nor writing, or zero
     * @return a copy with those timeouts
     */
    public ConnectionConfig withIdleTimeouts(Duration readIdle, Duration writeIdle, Duration allIdle) {
        return new ConnectionConfig(trigger, lowWatermark, highWatermark, readBudget, writeBudget,
                nonNegative(readIdle, "readIdle"),
                nonNegative(writeIdle, "writeIdle"), nonNegative(allIdle, "allIdle"), linger, fdPassing, readSize, batchedWrites);
    }

    /**
     * How long a graceful {@link Connection#close()} lingers once everything was sent and its output half-closed:
     * it reads and discards what the peer still sends until the peer's EOF, at most this long, so that bytes the
     * peer sent after close() do not make the kernel reset the connection (and drop the end of the response still
     * in the send buffer). {@link Duration#ZERO} closes as soon as the queue drained. Default 2 s.
     *
     * @param linger the longest wait for the peer's EOF, or zero
     * @return a copy with that linger timeout
     */
    public ConnectionConfig withLingerTimeout(Duration linger) {
        return new ConnectionConfig(trigger, lowWatermark, highWatermark, readBudget, writeBudget, readIdle,
                writeIdle, allIdle, nonNegative(linger, "linger"), fdPassing, readSize, batchedWrites);
    }

    /**
     * Receiving file descriptors (SCM_RIGHTS) on a Unix-domain connection: every read becomes a recvmsg with room
     * for up to {@value org.epoll4j.internal.LibC#SCM_MAX_FD} fds, and what arrives goes to
     * {@link ConnectionHandler#onFileDescriptors} before the bytes it came with. Off by default (reads stay plain
     * read(2) calls); sending ({@link Connection#writeWithFileDescriptors}) needs no option. Without it, fds a peer
     * sends are closed by the kernel on arrival (the bytes still come).
     *
     * @param enabled whether reads take file descriptors
     * @return a copy with that setting
     */
    public ConnectionConfig withFileDescriptorPassing(boolean enabled) {
        return new ConnectionConfig(trigger, lowWatermark, highWatermark, readBudget, writeBudget, readIdle,
                writeIdle, allIdle, linger, enabled, readSize, batchedWrites);
    }

    private static Duration nonNegative(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative: " + d);
        }
        return d;
    }

    /**
     * The most bytes one read of the connection asks the kernel for (recv(2) into the reactor's shared 64 KiB buffer),
     * so the most one {@link ConnectionHandler#onData} sees. Smaller reads hand bytes on sooner: a proxy relaying one
     * bulk stream between two sockets moved 1,000 MiB each way 1.2× faster with 16 KiB reads than with 64 KiB
     * (docs/examples.md, the proxy's benchmark), while bigger reads make fewer system calls for many big messages.
     * Applies to plain reads and to {@link Splice}'s copy fallback; splice(2) itself moves up to its pipe's free
     * room per call (page references, no buffer: 64 KiB per call relayed 5% faster than 16 KiB). TLS reads and
     * reads that take passed file descriptors use the whole buffer.
     *
     * @param bytes 1 to 65536 (the default)
     * @return a copy with that read size
     */
    public ConnectionConfig withReadSize(int bytes) {
        if (bytes < 1 || bytes > NetContext.READ_BUFFER_SIZE) {
            throw new IllegalArgumentException("read size must be 1.." + NetContext.READ_BUFFER_SIZE
                    + " (the reactor's read buffer): " + bytes);
        }
        return new ConnectionConfig(trigger, lowWatermark, highWatermark, readBudget, writeBudget, readIdle,
                writeIdle, allIdle, linger, fdPassing, bytes, batchedWrites);
    }

    /**
     * Batched writes: what the connection's handler writes while the reactor dispatches one batch of ready events (or
     * runs its due timers, or its tasks) is held, counted in {@link Connection#queuedBytes()}, and sent when that batch
     * is done ({@link org.epoll4j.Reactor#afterBatch}): one gathering send per connection however many writes, and a
     * peer's wake-ups come together instead of one per write. Like Netty's {@code FlushConsolidationHandler}, for
     * connections written while many others are served: the proxy example relaying 50 to 200 request/response streams
     * through one loop went from 0.94–1.00× HAProxy to 0.99–1.02× with it (docs/examples.md, the proxy's benchmark),
     * because its peers, sharing the other core, were woken once per batch rather than once per write. The cost: each
     * write waits for the rest of its batch (microseconds per event in it) and is copied into the write queue instead
     * of sent from the caller's buffer. In a saturated batch (32 ready events or more, {@link
     * org.epoll4j.Reactor#batchEvents()}) writes go at once as without this: the peers are busy, not asleep, and the
     * copy was the only effect (2% more CPU per message at 200 connections × 8 messages in flight). Writes from other
     * threads reach the loop as tasks and are held until those tasks ran. {@link Connection#cork()} still holds past
     * the batch's end; {@link Connection#close()} and {@link Connection#shutdownOutput()} wait for the held bytes as
     * for any queued ones. Off by default: measure before turning it on elsewhere.
     *
     * @param enabled whether writes wait for the end of the batch
     * @return a copy with that setting
     */
    public ConnectionConfig withBatchedWrites(boolean enabled) {
        return new ConnectionConfig(trigger, lowWatermark, highWatermark, readBudget, writeBudget, readIdle,
                writeIdle, allIdle, linger, fdPassing, readSize, enabled);
    }

    /** Whether writes wait for the end of the reactor's batch ({@link #withBatchedWrites}). */
    public boolean batchedWrites() {
        return batchedWrites;
    }

    /** The most bytes one read asks for ({@link #withReadSize}). */
    public int readSize() {
        return readSize;
    }

    /** The trigger mode. */
    public TriggerMode trigger() {
        return trigger;
    }

    /** The low write watermark in bytes. */
    public int lowWatermark() {
        return lowWatermark;
    }

    /** The high write watermark in bytes. */
    public int highWatermark() {
        return highWatermark;
    }

    /** Read calls per readiness event. */
    public int readBudget() {
        return readBudget;
    }

    /** Write calls per writable event. */
    public int writeBudget() {
        return writeBudget;
    }

    /** The read-idle timeout, zero when off. */
    public Duration readIdleTimeout() {
        return readIdle;
    }

    /** The write-idle timeout, zero when off. */
    public Duration writeIdleTimeout() {
        return writeIdle;
    }

    /** The all-idle timeout, zero when off. */
    public Duration allIdleTimeout() {
        return allIdle;
    }

    /** How long a graceful close waits for the peer's EOF after half-closing; zero when it does not. */
    public Duration lingerTimeout() {
        return linger;
    }

    /** Whether reads take file descriptors ({@link #withFileDescriptorPassing}). */
    public boolean fileDescriptorPassing() {
        return fdPassing;
    }

    boolean hasIdleTimeouts() {
        return !readIdle.isZero() || !writeIdle.isZero() || !allIdle.isZero();
    }

    @Override
    public String toString() {
        return "ConnectionConfig[" + trigger + ", watermarks=" + lowWatermark + "/" + highWatermark + ", readBudget="
                + readBudget + ", writeBudget=" + writeBudget + ", idle read/write/all=" + readIdle + "/" + writeIdle
                + "/" + allIdle + ", linger=" + linger + ", readSize=" + readSize + (fdPassing ? ", fd passing" : "")
                + (batchedWrites ? ", batchedWrites=true" : "") + "]";
    }
}
