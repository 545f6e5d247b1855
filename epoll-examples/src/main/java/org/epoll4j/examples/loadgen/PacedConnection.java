package org.epoll4j.examples.loadgen;

import org.epoll4j.Timeout;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;

/**
 * What every load connection shares: up to {@code depth} messages in flight, the time each one counts from, and
 * when the next is sent.
 *
 * <p><b>Closed loop</b> ({@code interval == 0}): a message is sent as soon as one completes; its latency counts
 * from its actual send. A stalled server thus stalls the sending too, and the stall shows in one sample per
 * connection only (coordinated omission), unless {@link LoadStats} corrects for it.
 *
 * <p><b>Open loop</b> ({@code interval > 0}, as wrk2 does): message {@code k} is due at {@code start + k *
 * interval}; it is sent at that time if fewer than {@code depth} are in flight, otherwise as soon as a reply frees a
 * slot, and its latency always counts from when it was due. A server that stalls for a second makes every message
 * due during that second late, and each of them records how late. Timers drive the sending between replies; the
 * reactor's timer resolution (about a millisecond) makes high per-connection rates go out in small bursts.
 *
 * <p>Loop-thread only; the per-message path allocates nothing (a timer costs one small allocation).
 */
abstract class PacedConnection implements ConnectionHandler {
    protected final int id;
    protected final int depth;
    protected final LoadStats stats;
    private final long interval;
    /** When each message in flight counts from (sent or due), by sequence number modulo depth. */
    private final long[] sentAt;
    private final Runnable onTimer = this::timerFired;
    protected Connection connection;
    protected long sentMessages;
    protected long receivedMessages;
    private long startAt;
    private long issued;
    private Timeout timer;

    /**
     * @param interval nanoseconds between this connection's messages (open loop), or 0 (closed loop)
     */
    PacedConnection(int id, int depth, LoadStats stats, long interval) {
        this.id = id;
        this.depth = depth;
        this.stats = stats;
        this.interval = interval;
        this.sentAt = new long[depth];
    }

    /** Writes the bytes of the next {@code messages} messages. */
    protected abstract void writeMessages(long messages);

    @Override
    public void onOpen(Connection c) {
        connection = c;
    }

    /** Starts sending; on the reactor thread. */
    final void begin() {
        if (connection == null || !connection.isOpen()) {
            return;
        }
        long now = System.nanoTime();
        if (interval == 0) {
            stamp(depth, now);
            writeMessages(depth);
        } else {
            startAt = now;
            pace();
        }
    }

    /** {@code messages} replies completed at {@code now}: records them and sends what may go next. */
    protected final void completed(long messages, long now) {
        for (long m = 0; m < messages; m++) {
            stats.record(now - sentAt[(int) (receivedMessages++ % depth)]);
        }
        if (messages == 0 || stats.stopping() || !connection.isOpen()) {
            return;
        }
        if (interval == 0) {
            stamp(messages, now);
            writeMessages(messages);
        } else {
            pace();
        }
    }

    private void stamp(long messages, long at) {
        for (long m = 0; m < messages; m++) {
            sentAt[(int) (sentMessages++ % depth)] = at;
        }
    }

    private void timerFired() {
        timer = null;
        if (!stats.stopping() && connection.isOpen()) {
            pace();
        }
    }

    /** Open loop: sends every message already due while the window has room; else waits for its due time. */
    private void pace() {
        long now = System.nanoTime();
        long n = 0;
        while (sentMessages - receivedMessages < depth) {
            long due = startAt + issued * interval;
            if (due - now > 0) {
                if (timer == null) {
                    try {
                        timer = connection.reactor().schedule(Duration.ofNanos(due - now), onTimer);
                    } catch (RejectedExecutionException closing) {
                        // the group is shutting down
                    }
                }
                break;
            }
            sentAt[(int) (sentMessages++ % depth)] = due;
            issued++;
            n++;
        }
        if (n > 0) {
            writeMessages(n);
        }
    }

    @Override
    public void onClose(Connection c, Throwable cause) {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
        if (!stats.stopping()) {
            stats.failed("connection " + id + (connection == null ? " could not connect: " : " failed: ")
                    + (cause == null ? "closed by the server" : cause.getMessage()));
        }
    }

    /** The connection, once open. */
    final Connection connection() {
        return connection;
    }
}
