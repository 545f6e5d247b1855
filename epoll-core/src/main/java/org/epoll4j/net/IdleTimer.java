package org.epoll4j.net;

import org.epoll4j.Timeout;
import org.epoll4j.internal.Durations;

import java.time.Duration;

/**
 * A connection's idle timeouts: one reactor timer, set for the nearest deadline. Reads and writes only record the
 * time; the timer, when it fires, works out what is idle, tells the handler, and sets itself for the next deadline.
 * So a busy connection costs no timer operation per read or write, only a look at the loop's clock
 * ({@link org.epoll4j.Reactor#loopNanos()}: one {@code nanoTime()} per batch of events, not per call); a read or
 * write is so stamped up to one phase of a loop iteration early, which makes a timeout fire at most that much early.
 */
final class IdleTimer implements Runnable {
    /** No later than this is "never" (see {@link Durations#MAX_NANOS}). */
    static final long MAX_NANOS = Durations.MAX_NANOS;
    private final Connection connection;
    private final long readIdle;
    private final long writeIdle;
    private final long allIdle;
    private long lastRead;
    private long lastWrite;
    /** When a direct send (another thread's, see Outbound.trySendDirect) last sent; 0 if none did. */
    private volatile long lastWriteElsewhere;
    /** When a direct read (another thread's, see Inbound.recvDirect) last read; 0 if none did. */
    private volatile long lastReadElsewhere;
    private Timeout timer;

    IdleTimer(Connection connection, ConnectionConfig config) {
        this.connection = connection;
        this.readIdle = Durations.saturatedNanos(config.readIdleTimeout());
        this.writeIdle = Durations.saturatedNanos(config.writeIdleTimeout());
        this.allIdle = Durations.saturatedNanos(config.allIdleTimeout());
    }

    void start() {
        lastRead = lastWrite = System.nanoTime();
        long first = Long.MAX_VALUE;
        for (long limit : new long[]{readIdle, writeIdle, allIdle}) {
            if (limit > 0) {
                first = Math.min(first, limit);
            }
        }
        schedule(first);
    }

    void stop() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
    }

    void read() {
        lastRead = connection.reactor().loopNanos();
    }

    void wrote() {
        lastWrite = connection.reactor().loopNanos();
    }

    /** A read from another thread (a direct read): counted at the next check. */
    void readElsewhere() {
        lastReadElsewhere = System.nanoTime();
    }

    /** A write from another thread (a direct send): counted at the next check. */
    void wroteElsewhere() {
        lastWriteElsewhere = System.nanoTime();
    }

    private void schedule(long nanos) {
        timer = connection.reactor().schedule(Duration.ofNanos(Math.max(nanos, 1_000_000)), this);
    }

    @Override
    public void run() {
        timer = null;
        if (!connection.isOpen()) {
            return;
        }
        long now = System.nanoTime();
        long next = Long.MAX_VALUE;
        long elsewhere = lastWriteElsewhere;
        if (elsewhere != 0 && elsewhere - lastWrite > 0) {
            lastWrite = elsewhere;
        }
        long readElsewhere = lastReadElsewhere;
        if (readElsewhere != 0 && readElsewhere - lastRead > 0) {
            lastRead = readElsewhere;
        }
        try {
            if (readIdle > 0) {
                long left = readIdle - (now - lastRead);
                if (left <= 0) {
                    lastRead = now;
                    connection.handler().onIdle(connection, IdleState.READER_IDLE);
                    left = readIdle;
                }
                next = Math.min(next, left);
            }
            if (writeIdle > 0 && connection.isOpen()) {
                long left = writeIdle - (now - lastWrite);
                if (left <= 0) {
                    lastWrite = now;
                    connection.handler().onIdle(connection, IdleState.WRITER_IDLE);
                    left = writeIdle;
                }
                next = Math.min(next, left);
            }
            if (allIdle > 0 && connection.isOpen()) {
                long left = allIdle - (now - Math.max(lastRead, lastWrite));
                if (left <= 0) {
                    lastRead = lastWrite = now;
                    connection.handler().onIdle(connection, IdleState.ALL_IDLE);
                    left = allIdle;
                }
                next = Math.min(next, left);
            }
        } catch (Throwable t) {
            connection.fail(t);
        }
        if (connection.isOpen()) {
            schedule(next);
        }
    }
}
