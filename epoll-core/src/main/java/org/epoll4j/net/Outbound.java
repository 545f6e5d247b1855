package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The outbound half of a {@link Connection}: straight-to-socket sends while nothing is queued, the {@link WriteQueue}
 * for what the socket did not take, flushes bounded by the write budget (continued by a task under EDGE), the
 * watermarks and writability, the cork, and the write counters. Loop-thread only, except the getters.
 *
 * <p>What it needs of its connection goes through {@link Owner}, so that the lifecycle (closing, shutting down
 * output, epoll interest) stays the connection's.
 */
final class Outbound {
    /**
     * The calls the outbound half makes into its connection. Connection has the one implementation, so these calls
     * stay monomorphic.
     */
    interface Owner {
        /** Whether the socket is still connecting: until it connects, bytes only queue. */
        boolean connecting();

        /** Whether the connection is closed (a callback may have closed it while the outbound half was busy). */
        boolean closed();

        /** Whether an unfinished flush must continue by a task because epoll will not report EPOLLOUT again (EDGE). */
        boolean selfDriven();

        /** Runs {@code task} on the loop after other work; a closing reactor drops it (its close ends us anyway). */
        void later(Runnable task);

        /** Closes at once with {@code cause}: a send failed, or a handler callback threw. */
        void fail(Throwable cause);

        /** What is queued (or the cork) changed, so the connection may want EPOLLOUT or no longer. */
        void interestChanged();

        /** Bytes the connection holds before they reach the queue (TLS: plaintext not yet encrypted). */
        long held();

        /** The queue drained: the connection may add what it held (TLS encrypts its next batch). */
        void refill();

        /** The queue drained in a flush: run what waited for it (a pending shutdownOutput, a graceful close). */
        void drained();

        /** The queue crossed a watermark: tell the handler (a throwing handler fails the connection). */
        void writabilityChanged(boolean writable);
    }

    private final Owner owner;
    private final NetContext ctx;
    private final int fd;
    private final ConnectionConfig config;
    private final IdleTimer idle;
    private final WriteQueue queue;
    private final Runnable flushAgain = this::flushAgain;
    private boolean flushScheduled;
    private long writeCalls;
    /** Volatile for the getters on other threads; the loop thread is the only writer. */
    private volatile boolean corked;
    private volatile boolean writable = true;
    private volatile long bytesWritten;

    Outbound(Owner owner, NetContext ctx, int fd, ConnectionConfig config, IdleTimer idle) {
        this.owner = owner;
        this.ctx = ctx;
        this.fd = fd;
        this.config = config;
        this.idle = idle;
        this.queue = new WriteQueue(ctx);
    }

    // ------------------------------------------------------------------ writes

    /** Sends {@code src}'s remaining bytes, straight to the socket if nothing is queued; queues the rest. */
    void write(ByteBuffer src) {
        if (!src.hasRemaining()) {
            return;
        }
        if (queue.isEmpty() && !owner.connecting() && !corked) {
            if (!sendNow(src)) {
                return; // failed: closed with the cause
            }
            if (!src.hasRemaining()) {
                return;
            }
        }
        queue.add(src);
        owner.interestChanged();
        checkHighWatermark();
    }

    /** Writes every buffer as one unit: corked while queuing them, so that what the socket takes leaves together. */
    void writeAll(ByteBuffer[] srcs) {
        boolean wasCorked = corked;
        corked = true;
        for (ByteBuffer b : srcs) {
            write(b);
        }
        if (!wasCorked) {
            uncork();
        }
    }

    /** Queues a file region (see {@link WriteQueue#addFile}) and starts sending it if it is first in line. */
    void addFile(int file, FileChannel channel, long position, long count) {
        boolean wasEmpty = queue.isEmpty();
        queue.addFile(file, channel, position, count);
        if (wasEmpty && !owner.connecting() && !corked) {
            flush();
        } else {
            owner.interestChanged();
        }
        checkHighWatermark();
    }

    /**
     * Sends {@code src}'s remaining bytes (at least one) with {@code fds} attached to the first: with one sendmsg now
     * when nothing is queued (what the kernel does not take of the bytes queues; the fds went with the first byte),
     * else queued behind everything written before. The fds (the library's dups) are closed once sent, or when the
     * connection closes.
     */
    void writeWithRights(ByteBuffer src, int[] fds) {
        if (queue.isEmpty() && !owner.connecting() && !corked) {
            int r = sendRightsNow(src, fds);
            if (r == FAILED) {
                closeAll(fds);
                return; // closed with the cause
            }
            if (r == SENT) {
                closeAll(fds);
                write(src); // the rest is ordinary bytes: straight on while the socket takes them, then queued
                return;
            }
        }
        queue.addWithRights(src, fds);
        owner.interestChanged();
        checkHighWatermark();
    }

    private static final int SENT = 0;
    private static final int AGAIN = 1;
    private static final int FAILED = 2;

    /** One sendmsg of (the first 64 KiB of) {@code src} with an SCM_RIGHTS message: SENT, AGAIN (nothing) or FAILED. */
    private int sendRightsNow(ByteBuffer src, int[] fds) {
        long addr;
        int len;
        if (src.isDirect()) {
            addr = ctx.address(src) + src.position();
            len = src.remaining();
        } else {
            len = Math.min(src.remaining(), ctx.bounce.capacity());
            ctx.bounce.put(0, src, src.position(), len);
            addr = ctx.bounceAddress;
        }
        ctx.iov(0, addr, len);
        ctx.iovCount(1);
        while (true) {
            ctx.rights(fds);
            long n = LibC.sendmsg(fd, ctx.msghdrAddress, LibC.MSG_NOSIGNAL);
            ctx.noRights();
            writeCalls++;
            if (n < 0) {
                int err = LibC.errno();
                if (err == Errno.EAGAIN) {
                    return AGAIN;
                }
                if (err == Errno.EINTR) {
                    continue;
                }
                owner.fail(new EpollException("sendmsg(fd=" + fd + ", " + len + " bytes, SCM_RIGHTS with "
                        + fds.length + " fds)", err));
                return FAILED;
            }
            src.position(src.position() + (int) n);
            bytesWritten += n;
            if (idle != null) {
                idle.wrote();
            }
            return SENT;
        }
    }

    private static void closeAll(int[] fds) {
        for (int f : fds) {
            LibC.close(f);
        }
    }

    /** Sends what the socket takes now; false if the connection failed (and was closed). */
    private boolean sendNow(ByteBuffer src) {
        while (src.hasRemaining()) {
            long addr;
            int len;
            boolean direct = src.isDirect();
            if (direct) {
                addr = ctx.address(src) + src.position();
                len = src.remaining();
            } else {
                len = Math.min(src.remaining(), ctx.bounce.capacity());
                ctx.bounce.put(0, src, src.position(), len);
                addr = ctx.bounceAddress;
            }
            long n = LibC.send(fd, addr, len, LibC.MSG_NOSIGNAL);
            writeCalls++;
            if (n < 0) {
                int err = LibC.errno();
                if (err == Errno.EAGAIN) {
                    return true;
                }
                if (err == Errno.EINTR) {
                    continue;
                }
                owner.fail(new EpollException("send(fd=" + fd + ", " + len + " bytes)", err));
                return false;
            }
            src.position(src.position() + (int) n);
            bytesWritten += n;
            if (idle != null) {
                idle.wrote();
            }
            if (n < len) {
                return true;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ flushing

    /** EPOLLOUT came: sends what is queued unless corked. */
    void onWritable() {
        if (!queue.isEmpty() && !corked) {
            flush();
        }
    }

    /** Flushes now if the socket may take bytes; else (connecting) waits for EPOLLOUT. */
    void flushNowOrLater() {
        if (!owner.connecting()) {
            flush();
        } else {
            owner.interestChanged();
        }
    }

    private void flush() {
        long before = queue.bytes();
        int result;
        try {
            result = queue.flush(fd, config.writeBudget());
            writeCalls += queue.lastCalls();
        } catch (IOException e) {
            owner.fail(e);
            return;
        }
        long sent = before - queue.bytes();
        bytesWritten += sent;
        if (sent > 0 && idle != null) {
            idle.wrote();
        }
        afterFlush(result);
    }

    /**
     * The one place that decides what follows a flush (Netty's doWrite makes the same three cases):
     * <ul>
     *   <li>the write budget was spent ({@code YIELDED}): under EDGE, which will not report the socket writable
     *       again while it is, a task continues after other work; LEVEL keeps EPOLLOUT and epoll reports it again;
     *   <li>the socket is full ({@code FULL}): wait for EPOLLOUT (LEVEL watches it while anything is queued; EDGE
     *       always does);
     *   <li>the queue drained ({@code DRAINED}): the transport may refill it (TLS encrypts its next batch); once it
     *       stays empty, EPOLLOUT goes and what waited for the drain runs.
     * </ul>
     * Crossing the low watermark on the way down tells the handler, which may write (or close) from the callback.
     */
    private void afterFlush(int result) {
        if (result == WriteQueue.YIELDED && owner.selfDriven() && !flushScheduled) {
            flushScheduled = true;
            owner.later(flushAgain);
        }
        boolean done = result == WriteQueue.DRAINED;
        if (done && !owner.closed()) {
            owner.refill();
            done = queue.isEmpty();
        }
        if (!writable && queue.bytes() + owner.held() <= config.lowWatermark()) {
            writable = true;
            owner.writabilityChanged(true);
            done = queue.isEmpty(); // the callback may have written more: `done` is stale now
        }
        if (done && !owner.closed()) {
            owner.interestChanged();
            owner.drained();
        }
    }

    private void flushAgain() {
        flushScheduled = false;
        if (!owner.closed() && !owner.connecting() && !corked && !queue.isEmpty()) {
            flush();
        }
    }

    /** Turns unwritable above the high watermark. (A closed connection's queue is empty, so it never fires then.) */
    private void checkHighWatermark() {
        if (writable && queue.bytes() + owner.held() > config.highWatermark()) {
            writable = false;
            owner.writabilityChanged(false);
        }
    }

    /** What the connection holds changed (outside a flush): re-checks both watermarks. */
    void heldChanged() {
        if (!writable && queue.bytes() + owner.held() <= config.lowWatermark()) {
            writable = true;
            owner.writabilityChanged(true);
        } else {
            checkHighWatermark();
        }
    }

    /** A {@link SocketDriver} wrote {@code n} bytes to the socket itself (splice): counted as if sent from here. */
    void wroteByDriver(long n) {
        writeCalls++;
        bytesWritten += n;
        if (idle != null) {
            idle.wrote();
        }
    }

    // ------------------------------------------------------------------ cork

    /** Holds writes back; with bytes queued, EPOLLOUT goes too (LEVEL would report it while nothing may go). */
    void cork() {
        if (!corked) {
            corked = true;
            if (!queue.isEmpty()) {
                owner.interestChanged();
            }
        }
    }

    void uncork() {
        if (!corked) {
            return;
        }
        corked = false;
        if (!owner.closed() && !queue.isEmpty()) {
            flushNowOrLater();
            if (!owner.closed() && !queue.isEmpty()) {
                owner.interestChanged(); // the rest waits for EPOLLOUT, which the cork had turned off
            }
        }
    }

    /** Clears the cork before a close or shutdown; returns whether it was set. */
    boolean uncorkForEnd() {
        boolean was = corked;
        corked = false;
        return was;
    }

    boolean isCorked() {
        return corked;
    }

    // ------------------------------------------------------------------ state

    /** Whether the connection needs EPOLLOUT: bytes are queued and may be sent. */
    boolean wantsWrite() {
        return !queue.isEmpty() && !corked;
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    /** Bytes queued; from another thread, a recent value. */
    long queuedBytes() {
        return queue.bytes();
    }

    /** Drops everything queued (the connection closed). */
    void clear() {
        queue.clear();
    }

    boolean isWritable() {
        return writable;
    }

    long bytesWritten() {
        return bytesWritten;
    }

    /** Write system calls (send, sendmsg, sendfile) made so far. */
    long writeCalls() {
        return writeCalls;
    }

    /** The most write calls one flush of the queue has made. */
    int maxWriteCallsPerFlush() {
        return queue.maxCalls;
    }
}
