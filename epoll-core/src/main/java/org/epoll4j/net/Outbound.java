package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * The outbound half of a {@link Connection}: straight-to-socket sends while nothing is queued, the {@link WriteQueue}
 * for what the socket did not take, flushes bounded by the write budget (continued by a task under EDGE), the
 * watermarks and writability, the cork, and the write counters. Loop-thread only, except the getters.
 *
 * <p>What it needs of its connection goes through {@link Owner}, so that the lifecycle (closing, shutting down
 * output, epoll interest) stays the connection's.
 *
 * <p>Direct sends (the blocking facade, {@link BlockingConnection.DirectSend}): once {@link #enableDirectSends} ran,
 * a writer on another thread may send with one non-blocking send(2) of its own while nothing is queued. One token
 * word ({@code direct}) keeps that safe without a lock: the writer takes it from 0 to {@code VT} for its send; the
 * loop takes {@code LOOP} around each of its own sends, and if the writer holds the token it queues instead and sets
 * {@code DEFERRED}, so that the writer's release schedules the flush. The writer also holds the connection's
 * {@link FdGuard} while it holds the token: a close that comes meanwhile leaves the close(2) to the last thread out
 * of the fd (this writer, or a blocking view's direct reader), so the fd is never closed (and reused) under a send.
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

        /** Runs {@code task} when the reactor's current batch of events (or timers, or tasks) is done. */
        void afterBatch(Runnable task);

        /** The events of the reactor's batch whose handlers run now; 0 while timers or tasks run. */
        int batchEvents();

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

    /** The token's bits (see the class comment). */
    private static final int VT = 1;
    private static final int DEFERRED = 2;
    private static final int LOOP = 4;
    private static final VarHandle DIRECT;

    static {
        try {
            DIRECT = MethodHandles.lookup().findVarHandle(Outbound.class, "direct", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Owner owner;
    private final NetContext ctx;
    private final int fd;
    private final ConnectionConfig config;
    private final IdleTimer idle;
    /** Keeps the fd open while a direct send is in it; shared with the connection's direct reads. */
    private final FdGuard fdGuard;
    private final WriteQueue queue;
    private final Runnable flushAgain = this::flushAgain;
    private boolean flushScheduled;
    /**
     * Batched writes ({@link ConnectionConfig#withBatchedWrites}): writes queue while set, and the end of the
     * reactor's batch sends them ({@link #batchEnded()}). Set by the first write of a batch that would have gone
     * straight to the socket; like the cork, but cleared by the loop, not the user.
     */
    private boolean batchHeld;
    /** The batch-end flush runs: what its callbacks write (TLS refills, writable handlers) is not held again. */
    private boolean batchFlushing;
    /** {@link #batchEnded()} as a task, made only with batched writes (an idle connection costs nothing more). */
    private final Runnable batchEndTask;
    private long writeCalls;
    /** Volatile for the getters on other threads; the loop thread is the only writer. */
    private volatile boolean corked;
    private volatile boolean writable = true;
    private volatile long bytesWritten;

    /** Whether writers on other threads may send directly (set once, on the loop, before any of them can). */
    private boolean directEnabled;
    /** The direct-send token (see the class comment); only touched once direct sends are enabled. */
    @SuppressWarnings("unused") // through DIRECT
    private volatile int direct;
    /** Cleared for good when the output ends (close, shutdownOutput, a splice driver): no direct send from then. */
    private volatile boolean directOpen;
    /** What direct sends sent and their calls: written only by the token's holder, so plain increments suffice. */
    private volatile long directBytes;
    private volatile long directCalls;
    private final Runnable flushDeferred = this::flushDeferred;

    Outbound(Owner owner, NetContext ctx, int fd, ConnectionConfig config, IdleTimer idle) {
        this(owner, ctx, fd, config, idle, new FdGuard(fd));
    }

    Outbound(Owner owner, NetContext ctx, int fd, ConnectionConfig config, IdleTimer idle, FdGuard fdGuard) {
        this.owner = owner;
        this.fdGuard = fdGuard;
        this.ctx = ctx;
        this.fd = fd;
        this.config = config;
        this.idle = idle;
        this.queue = new WriteQueue(ctx);
        this.batchEndTask = config.batchedWrites() ? this::batchEnded : null;
    }

    // ------------------------------------------------------------------ writes

    /** Sends {@code src}'s remaining bytes, straight to the socket if nothing is queued; queues the rest. */
    void write(ByteBuffer src) {
        if (!src.hasRemaining()) {
            return;
        }
        if (queue.isEmpty() && !owner.connecting() && !corked && !holdForBatch() && acquire()) {
            boolean sent = sendNow(src);
            release();
            if (!sent) {
                EpollException e = failure;
                failure = null;
                owner.fail(e);
                return;
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
        if (wasEmpty && !owner.connecting() && !corked && !holdForBatch()) {
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
        if (queue.isEmpty() && !owner.connecting() && !corked && !holdForBatch() && acquire()) {
            int r;
            try {
                r = sendRightsNow(src, fds);
            } finally {
                release();
            }
            if (r == FAILED) {
                closeAll(fds);
                EpollException e = failure;
                failure = null;
                owner.fail(e);
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
    /** Why sendNow or sendRightsNow failed: the caller fails the connection once it released the token. */
    private EpollException failure;

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
                failure = new EpollException("sendmsg(fd=" + fd + ", " + len + " bytes, SCM_RIGHTS with "
                        + fds.length + " fds)", err); // failed by the caller, once it no longer holds the token
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

    /** Sends what the socket takes now; false if send(2) failed ({@link #failure} says why: the caller fails). */
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
                failure = new EpollException("send(fd=" + fd + ", " + len + " bytes)", err);
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

    /** EPOLLOUT came: sends what is queued unless corked or held for the batch's end (the event that wrote it). */
    void onWritable() {
        if (!queue.isEmpty() && !corked && !batchHeld) {
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
        if (!acquire()) {
            return; // a direct send runs: its release schedules flushDeferred
        }
        int result;
        try {
            result = sendQueued();
        } catch (IOException e) {
            release();
            owner.fail(e);
            return;
        }
        release();
        afterFlush(result);
    }

    /** One budgeted flush of the queue to the socket, counted (calls, bytes, the idle timer); the token is held. */
    private int sendQueued() throws IOException {
        long before = queue.bytes();
        int result = queue.flush(fd, config.writeBudget());
        writeCalls += queue.lastCalls();
        long sent = before - queue.bytes();
        bytesWritten += sent;
        if (sent > 0 && idle != null) {
            idle.wrote();
        }
        return result;
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

    /** A direct send held the token while the loop wanted to send: what was queued meanwhile goes now. */
    private void flushDeferred() {
        if (!owner.closed() && !owner.connecting() && !corked && !queue.isEmpty()) {
            flush();
        }
    }

    private void flushAgain() {
        flushScheduled = false;
        if (!owner.closed() && !owner.connecting() && !corked && !queue.isEmpty()) {
            flush();
        }
    }

    /**
     * A batch of this many ready events or more sends batched writes at once. Holding them pays where the loop is
     * quiet (a few events per wait: each peer's packet then arrives after the batch instead of waking it once per
     * write; the proxy's request/response rows gained 2–5%); in a saturated loop (about 100 events per wait at 200
     * connections × 8 messages in flight) nobody sleeps, and holding only added the copy into the queue and a second
     * pass over the connections: 2% more CPU per message there. Measured in docs/examples.md.
     */
    static final int SATURATED_BATCH = 32;

    /**
     * With batched writes: whether this write must wait for the end of the reactor's batch (true), scheduling that
     * end's flush with the first one. False without batched writes, or in a saturated batch that holds nothing yet,
     * so the caller sends at once.
     */
    private boolean holdForBatch() {
        if (!config.batchedWrites() || batchFlushing) {
            return false;
        }
        if (!batchHeld) {
            if (owner.batchEvents() >= SATURATED_BATCH) {
                return false; // a saturated loop: its peers are awake anyway, and holding would cost a copy per write
            }
            owner.afterBatch(batchEndTask);
            batchHeld = true; // after: were afterBatch to throw, nothing would stay held with no flush to come
        }
        return true;
    }

    /** The batch that held the writes is done: send them now, in one gathering send (as an uncork does). */
    private void batchEnded() {
        batchHeld = false;
        if (!corked && !owner.closed() && !queue.isEmpty()) {
            batchFlushing = true;
            try {
                sendReleased(); // a TLS refill's records and writes from the callbacks go on in this one flush
            } finally {
                batchFlushing = false;
            }
        }
    }

    /** A cork or a batch's hold let go of queued bytes: send them, and watch EPOLLOUT for what the socket refuses. */
    private void sendReleased() {
        flushNowOrLater();
        if (!owner.closed() && !queue.isEmpty()) {
            owner.interestChanged(); // the rest waits for EPOLLOUT, which the cork or the hold kept out of the interest
        }
    }

    /**
     * The connection closes at once (closeWith, abort, a failure, its reactor closing) while a batch holds bytes: they
     * go to the socket now, as far as it takes them without waiting, as they would have gone without the hold (a TLS
     * alert sent just before the failure's close, a reply written just before closeWith). No callbacks: the
     * connection is ending. Only while the fd is still the connection's.
     */
    void sendHeldBeforeClose() {
        if (!batchHeld) {
            return;
        }
        batchHeld = false;
        if (queue.isEmpty() || corked || !acquire()) {
            return;
        }
        try {
            sendQueued();
        } catch (IOException ignored) {
            // the peer is gone already: the close goes on
        } finally {
            release();
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

    // ------------------------------------------------------------------ direct sends (another thread's)

    /** Lets writers on other threads send directly from now on (loop thread, before any of them can try). */
    void enableDirectSends() {
        directEnabled = true;
        directOpen = true;
    }

    /** The output ends (closing, shut down, driven by splice): no direct send starts from now on. */
    void endDirectSends() {
        directOpen = false;
    }

    /**
     * The loop takes the token for a send of its own; false if a direct send holds it (then {@code DEFERRED} is set,
     * and the caller queues instead of sending: the writer's release schedules the flush).
     */
    private boolean acquire() {
        if (!directEnabled) {
            return true;
        }
        while (true) {
            int s = direct;
            if ((s & VT) == 0) {
                if (DIRECT.compareAndSet(this, s, s | LOOP)) {
                    return true;
                }
            } else if ((s & DEFERRED) != 0 || DIRECT.compareAndSet(this, s, s | DEFERRED)) {
                return false;
            }
        }
    }

    private void release() {
        if (directEnabled) {
            DIRECT.getAndBitwiseAnd(this, ~LOOP);
        }
    }

    /**
     * The connection is about to close its fd: true if it may now; false if a direct send (or another user of the
     * {@link FdGuard}) is in it, and the last one out closes the fd instead. Either way no direct send starts after
     * this.
     */
    boolean claimFdForClose() {
        directOpen = false;
        return fdGuard.claimForClose();
    }

    /**
     * A direct send from a thread that is not the loop's (see {@link BlockingConnection.DirectSend} for the
     * contract): sends a prefix of {@code src} with non-blocking send(2) calls while the output is open, uncorked
     * and nothing is queued. Returns the bytes sent, 0 if the socket took none (EAGAIN), -1 if not possible now or
     * send(2) failed (the loop meets that error on its next send or read).
     */
    int trySendDirect(ByteBuffer src) {
        if (!acquireDirect()) {
            return -1;
        }
        try {
            return sendDirectHeld(src);
        } finally {
            releaseDirect();
        }
    }

    /** A writer takes the token (false: the output ended or the fd closes, or the loop or another writer holds it). */
    boolean acquireDirect() {
        if (!directOpen || !DIRECT.compareAndSet(this, 0, VT)) {
            return false;
        }
        if (!fdGuard.enter()) {
            DIRECT.getAndBitwiseAnd(this, ~(VT | DEFERRED)); // closing: whatever the loop queued is dropped
            return false;
        }
        return true;
    }

    /** {@link #trySendDirect}'s sends, with the token held. */
    private int sendDirectHeld(ByteBuffer src) {
        if (!directOpen || corked || queue.bytes() != 0) {
            return -1;
        }
        boolean heap = !src.isDirect();
        int slot = -1;
        ByteBuffer bounce = null; // heap bytes are copied here, a bounce buffer lent by the reactor
        long base;
        if (heap) {
            slot = ctx.takeSendBounce();
            if (slot < 0) {
                return -1;
            }
            bounce = ctx.sendBounce(slot);
            base = ctx.sendBounceAddress(slot);
        } else {
            base = org.epoll4j.internal.NativeMemory.address(src); // not ctx.address: its cache is the loop's
        }
        int total = 0;
        long calls = 0;
        try {
            while (src.hasRemaining()) {
                int pos = src.position();
                int len;
                long addr;
                if (heap) {
                    len = Math.min(src.remaining(), bounce.capacity());
                    bounce.put(0, src, pos, len);
                    addr = base;
                } else {
                    len = src.remaining();
                    addr = base + pos;
                }
                long n = LibC.send(fd, addr, len, LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
                calls++;
                if (n < 0) {
                    int err = LibC.errno();
                    if (err == Errno.EINTR) {
                        continue;
                    }
                    if (err != Errno.EAGAIN && total == 0) {
                        total = -1;
                    }
                    break;
                }
                src.position(pos + (int) n);
                total += (int) n;
                if (n < len) {
                    break;
                }
            }
        } finally {
            if (slot >= 0) {
                ctx.giveSendBounce(slot);
            }
        }
        if (total > 0) {
            directBytes += total;
            if (idle != null) {
                idle.wroteElsewhere();
            }
        }
        directCalls += calls;
        return total;
    }

    /**
     * The writer gives the token back: if the loop queued bytes meanwhile, a task flushes them; if the connection
     * closed meanwhile and this was the last thread in the fd, it closes the fd (the close left that to it).
     */
    void releaseDirect() {
        int s = (int) DIRECT.getAndBitwiseAnd(this, ~(VT | DEFERRED));
        fdGuard.exit();
        if ((s & DEFERRED) != 0 && !fdGuard.claimed()) {
            owner.later(flushDeferred);
        }
    }

    /** Write calls made by direct sends so far. */
    long directWriteCalls() {
        return directCalls;
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
        if (!owner.closed() && !queue.isEmpty() && !holdForBatch()) {
            sendReleased();
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

    /** Whether the connection needs EPOLLOUT: bytes are queued and may be sent (not corked, not held for a batch). */
    boolean wantsWrite() {
        return !queue.isEmpty() && !corked && !batchHeld;
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
        return bytesWritten + directBytes;
    }

    /** Write system calls (send, sendmsg, sendfile) made so far, direct sends included. */
    long writeCalls() {
        return writeCalls + directCalls;
    }

    /** The most write calls one flush of the queue has made. */
    int maxWriteCallsPerFlush() {
        return queue.maxCalls;
    }
}
