package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.Ready;
import org.epoll4j.Registration;
import org.epoll4j.TriggerMode;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.concurrent.locks.LockSupport;

/**
 * The inbound half of a {@link Connection}, {@link Outbound}'s sibling: the read loop (bounded by the read budget,
 * continued by a task under EDGE), the reasons reading is paused ({@link ReadPause}), the peer's FIN and hang-up, and
 * the byte counter. Loop-thread only, except the getters.
 *
 * <p>What it needs of its connection goes through {@link Owner}: the bytes it reads go to the connection's transport,
 * and the lifecycle (closing, epoll interest) stays the connection's.
 *
 * <p>Direct reads (the blocking facade, {@link BlockingConnection.DirectRead}): once {@link #enableDirectReads} ran, a
 * reader on another thread may take the read side for the length of one blocking read and recv(2) straight into its
 * own buffer. One token word ({@code direct}) keeps the loop's reads and the reader's apart without a lock: the loop
 * takes {@code LOOP} around each read of its own; the reader takes {@code OWNED} (only while the loop does not read,
 * so bytes are never read by both and reordered). While the reader owns the side, a read event of the loop reads
 * nothing: it sets {@code READY} and, if the reader announced with {@code WAITING} that it parks, unparks it. The
 * reader clears both before each recv(2), and parks only after one found nothing (EAGAIN) and no {@code READY}
 * came since: bytes that arrive between its EAGAIN and its park raise an event after it looked, so they either stop
 * the park or unpark it. Under EDGE (the only mode direct reads run in) such an event is reported once, so the loop
 * does not spin while the reader is off-CPU. If an event came after the reader's last recv(2), its release hands the
 * read back to the loop (a task), which then reads as usual. The reader holds the connection's {@link FdGuard} while
 * it owns the side: a close meanwhile leaves the close(2) to the last thread out.
 */
final class Inbound implements BlockingConnection.DirectRead {
    /** The calls the inbound half makes into its connection; Connection has the one implementation. */
    interface Owner {
        /** Bytes were read: to the transport, and through it to the handler. */
        void received(ByteBuffer bytes) throws Exception;

        /** File descriptors came with the bytes about to be {@link #received}: the handler's, or closed. */
        void receivedFds(int[] fds) throws Exception;

        /** The peer's FIN was read (or a peer that hung up has nothing more to read). */
        void endOfStream() throws Exception;

        /** Whether the connection is closed (a callback may have closed it while reading). */
        boolean closed();

        /** Whether the socket still connects (nothing to read yet). */
        boolean connecting();

        /** Whether a graceful close runs: it reads (and discards) on, whatever the user paused for. */
        boolean closing();

        /** Whether the transport holds bytes already read (TLS records left while paused). */
        boolean hasBuffered();

        /** Delivers what the transport holds. */
        void deliverBuffered() throws Exception;

        /** Every pause reason is gone: frames a decoder held back go before anything read from now on. */
        void resumed();

        /** What to watch may have changed (LEVEL: the read interest follows the pauses). */
        void interestChanged();

        /** Runs {@code task} on the loop after other work. */
        void later(Runnable task);

        /** Closes at once with {@code cause}. */
        void fail(Throwable cause);

        /** The peer hung up and its input is read to the end: close (EPIPE if output is lost). */
        void hungUp();
    }

    private final Owner owner;
    private final NetContext ctx;
    private final int fd;
    private final ConnectionConfig config;
    private final IdleTimer idle;
    private final boolean edge;
    /** Reads are recvmsg calls that take fds (ConnectionConfig.withFileDescriptorPassing); chosen once. */
    private final boolean fdPassing;
    private final Runnable readAgain = this::readAgain;
    private Registration registration;
    /** EPOLLHUP seen: the peer is gone; what it sent is read to the end, then the connection closes. */
    private boolean hungUp;
    /** A LEVEL connection switched to EDGE because of a HUP it could not mask (see afterHangup). */
    private boolean parked;
    /** Volatile for the getters on other threads; the loop thread is the only writer. */
    private volatile boolean inputClosed;
    /** The {@link ReadPause} reasons in effect, one bit each; reading is paused while any is set. */
    private volatile int pauses;
    private volatile long bytesRead;
    /** Moves the bytes instead of recv(2) while set (splice: {@link SocketDriver}); loop thread only. */
    private SocketDriver driver;

    /** The direct-read token's bits (see the class comment). */
    private static final int LOOP = 1;
    private static final int OWNED = 2;
    private static final int WAITING = 4;
    private static final int READY = 8;
    private static final VarHandle DIRECT;

    static {
        try {
            DIRECT = MethodHandles.lookup().findVarHandle(Inbound.class, "direct", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Keeps the fd open while a direct reader is in it; shared with the connection's direct sends. */
    private final FdGuard fdGuard;
    /** Whether readers on other threads may read directly (set once, on the loop, before any of them can). */
    private boolean directEnabled;
    /** The direct-read token (see the class comment); only touched once direct reads are enabled. */
    @SuppressWarnings("unused") // through DIRECT
    private volatile int direct;
    /** Cleared for good when direct reads end (closing, a splice driver): no reader takes the side from then on. */
    private volatile boolean directOpen;
    /** The thread that owns (or last owned) the read side: the one a read event unparks. */
    private volatile Thread directReader;
    /** A direct read's recv(2) failed: the loop's next read fails the connection with this instead of reading. */
    private volatile EpollException directFailure;
    private final Runnable readAfterDirect = this::readAfterDirect;
    /**
     * The last direct recv(2) got fewer bytes than it asked for: the socket was empty then, and under EDGE every byte
     * that came since raised a read event (READY while a reader owns the side; a read of the loop's into the view's
     * buffer otherwise), so the next direct read may park at once instead of making a recv(2) that finds nothing.
     * The owner's; the token orders it with the loop, which clears it when it reads.
     */
    private boolean drainedByDirect;
    /**
     * The loop saw the peer's FIN, a hang-up or an error (once set, for good): a short read no longer says that the
     * next recv(2) would find nothing, since the FIN that came with the last bytes raises no event after them.
     */
    private volatile boolean directHup;
    /** recv(2) calls made by direct reads (tests); written only by the side's owner. */
    private volatile long directRecvs;
    /** Bytes direct reads read (also in {@link #bytesRead}); written only by the side's owner. */
    private volatile long directBytes;

    Inbound(Owner owner, NetContext ctx, int fd, ConnectionConfig config, IdleTimer idle) {
        this(owner, ctx, fd, config, idle, new FdGuard(fd));
    }

    Inbound(Owner owner, NetContext ctx, int fd, ConnectionConfig config, IdleTimer idle, FdGuard fdGuard) {
        this.owner = owner;
        this.fdGuard = fdGuard;
        this.ctx = ctx;
        this.fd = fd;
        this.config = config;
        this.idle = idle;
        this.edge = config.trigger() == TriggerMode.EDGE;
        this.fdPassing = config.fileDescriptorPassing();
    }

    void driver(SocketDriver driver) {
        this.driver = driver;
    }

    void registered(Registration registration) {
        this.registration = registration;
    }

    // ------------------------------------------------------------------ events

    /** The read side of an event: notes a hang-up, then reads if the event asks for it and reading may go on. */
    void onReady(Ready ready) throws Exception {
        if (ready.isHangup() && !ready.isError()) {
            hungUp = true;
        }
        if ((ready.isReadable() || ready.isReadHangup() || hungUp || ready.isError()) && canRead()) {
            read(ready.isReadHangup() || hungUp || ready.isError() || ready.isPriority());
        }
    }

    /**
     * Reads until the socket has nothing more (a read shorter than the buffer ends the turn unless {@code drain}: no
     * extra read just to see EAGAIN), reading stops, or the read budget is spent.
     */
    void read(boolean drain) throws Exception {
        if (directEnabled) {
            readUnlessOwned(drain);
        } else if (fdPassing) {
            readWithFds(drain);
        } else {
            readPlain(drain);
        }
    }

    /** {@link #read} while direct reads are enabled: the loop reads only while no reader owns the side. */
    private void readUnlessOwned(boolean drain) throws Exception {
        if (drain) {
            directHup = true; // before READY (acquireLoop): a reader that sees READY clear after this looks for real
        }
        if (!acquireLoop()) {
            return; // a reader owns the side: it was told (READY, and unparked if waiting)
        }
        try {
            EpollException failed = takeDirectFailure();
            if (failed != null) {
                owner.fail(failed); // a direct read met it first: the loop's read would not see it again
                return;
            }
            drainedByDirect = false; // the loop's read may stop before the socket is empty (budget, pause)
            readPlain(drain); // direct reads run on plain connections only (no fd passing)
        } finally {
            DIRECT.getAndBitwiseAnd(this, ~LOOP);
        }
    }

    /**
     * The common path: recv(2) into the shared buffer. recv rather than read: the same bytes, but it goes straight
     * to the socket, skipping the VFS read path (fdget_pos, rw_verify_area, sock_read_iter), which measured about
     * 70-150 ns more per call on loopback (docs/benchmarks.md, "200 x 8: where the time goes").
     */
    private void readPlain(boolean drain) throws Exception {
        int budget = config.readBudget();
        ByteBuffer buf = ctx.readBuffer;
        long addr = ctx.readAddress;
        int cap = Math.min(buf.capacity(), config.readSize());
        SocketDriver d = owner.closing() ? null : driver; // a graceful close reads to discard, driver or not
        while (true) {
            long n = d == null ? LibC.recv(fd, addr, cap, 0) : d.read(cap);
            if (n == SocketDriver.DECLINE) {
                driver = d = null; // the driver gave the input back: recv(2) and the handler from here on
                continue;
            }
            if (n > 0) {
                bytesRead += n;
                if (idle != null) {
                    idle.read();
                }
                if (d == null) {
                    buf.clear().limit((int) n);
                    owner.received(buf);
                }
                if (owner.closed() || !canRead()) {
                    return;
                }
                if (n < cap && !drain && d == null) { // splice stops short at a full pipe: read on to EAGAIN
                    return;
                }
                if (--budget == 0) {
                    if (selfDriven()) {
                        owner.later(readAgain); // EDGE will not report the unread rest again
                    }
                    return;
                }
            } else if (n == 0) {
                owner.endOfStream();
                return;
            } else {
                int err = d == null ? LibC.errno() : (int) -n;
                if (err == Errno.EAGAIN) {
                    if (hungUp && canRead()) { // (a driver's full pipe pauses: the peer's bytes are not all read)
                        owner.endOfStream(); // nothing more can come from a peer that hung up
                    }
                    return;
                }
                if (err != Errno.EINTR) {
                    owner.fail(new EpollException((d == null ? "recv" : "splice") + "(fd=" + fd + ")", err));
                    return;
                }
            }
        }
    }

    /**
     * {@link #readPlain}'s loop with recvmsg(MSG_CMSG_CLOEXEC) into the same shared buffer plus the reactor's
     * control buffer: fds that came with the bytes go to the owner first. A truncated control message (MSG_CTRUNC)
     * closes what did arrive and fails the connection: the fds that did not fit are lost, and with them the meaning
     * of the stream.
     */
    private void readWithFds(boolean drain) throws Exception {
        int budget = config.readBudget();
        ByteBuffer buf = ctx.readBuffer;
        int cap = buf.capacity();
        while (true) {
            long n = LibC.recvmsg(fd, ctx.rightsInMsghdr(), LibC.MSG_CMSG_CLOEXEC | LibC.MSG_DONTWAIT);
            if (n > 0) {
                bytesRead += n;
                if (idle != null) {
                    idle.read();
                }
                int[] fds = ctx.receivedRights();
                if ((ctx.rightsInFlags() & LibC.MSG_CTRUNC) != 0) {
                    for (int f : fds) {
                        LibC.close(f);
                    }
                    owner.fail(new java.io.IOException("recvmsg(fd=" + fd + "): MSG_CTRUNC: the file descriptors "
                            + "passed did not fit the control buffer (" + fds.length + " arrived and were closed, the "
                            + "rest were lost)"));
                    return;
                }
                if (fds.length > 0) {
                    owner.receivedFds(fds);
                    if (owner.closed()) {
                        return;
                    }
                }
                buf.clear().limit((int) n);
                owner.received(buf);
                if (owner.closed() || !canRead()) {
                    return;
                }
                // A read that brought fds is short for another reason: the kernel ends a recvmsg at the message
                // that carried them, with more bytes possibly queued behind it (EDGE would not report them again).
                if (n < cap && !drain && fds.length == 0) {
                    return;
                }
                if (--budget == 0) {
                    if (selfDriven()) {
                        owner.later(readAgain);
                    }
                    return;
                }
            } else if (n == 0) {
                owner.endOfStream();
                return;
            } else {
                int err = LibC.errno();
                if (err == Errno.EAGAIN) {
                    if (hungUp) {
                        owner.endOfStream();
                    }
                    return;
                }
                if (err != Errno.EINTR) {
                    owner.fail(new EpollException("recvmsg(fd=" + fd + ")", err));
                    return;
                }
            }
        }
    }

    private void readAgain() {
        if (owner.closed() || owner.connecting()) {
            return;
        }
        try {
            if (canRead() && owner.hasBuffered()) {
                owner.deliverBuffered();
            }
            if (canRead() && !owner.closed()) {
                read(true);
            }
            if (hungUp && !owner.closed()) {
                afterHangup();
            }
        } catch (Throwable t) {
            owner.fail(t);
        }
    }

    /**
     * After an event that carried EPOLLHUP (without EPOLLERR): both directions are gone, but bytes the peer sent
     * may still be in the kernel. Once its EOF was read the connection closes; while paused under LEVEL, which
     * reports a HUP for as long as it lasts and cannot mask it, the registration switches to EDGE (reported once)
     * until reading resumes, so the loop does not spin.
     */
    void afterHangup() {
        if (inputClosed) {
            owner.hungUp();
        } else if (pauses != 0 && !edge && !parked) {
            try {
                registration.triggerMode(TriggerMode.EDGE);
                parked = true;
            } catch (EpollException e) {
                owner.fail(e);
            }
        }
    }

    boolean hungUp() {
        return hungUp;
    }

    /** Whether reading continues by tasks (EDGE, or a hung-up LEVEL connection switched to EDGE). */
    boolean selfDriven() {
        return edge || parked;
    }

    // ------------------------------------------------------------------ direct reads (another thread's)

    /** Lets a reader on another thread read directly from now on (loop thread, before any reader can try). */
    void enableDirectReads() {
        directEnabled = true;
        directOpen = true;
    }

    /** Direct reads end (closing, a splice driver takes the input): no reader takes the side from now on. */
    void endDirectReads() {
        directOpen = false;
    }

    /**
     * The loop takes the token for a read of its own; false if a reader owns the side, which then learns of the
     * event ({@code READY}; unparked if it waits) and reads the bytes itself.
     */
    private boolean acquireLoop() {
        while (true) {
            int s = direct;
            if ((s & OWNED) == 0) {
                if (DIRECT.compareAndSet(this, s, s | LOOP)) {
                    return true;
                }
            } else if (DIRECT.compareAndSet(this, s, s | READY)) {
                if ((s & WAITING) != 0) {
                    LockSupport.unpark(directReader);
                }
                return false;
            }
        }
    }

    /**
     * A reader takes the read side (see {@link BlockingConnection.DirectRead#acquire}): false if direct reads ended,
     * the input ended, reading is paused for a reason the reader must respect, the loop is reading now, or the fd
     * closes.
     */
    @Override
    public boolean acquireDirect(Thread reader) {
        if (!directOpen || inputClosed || (pauses & ~ReadPause.BLOCKING_READER.bit()) != 0) {
            return false; // (the view's own pause only bounds its buffer, which direct reads do not fill)
        }
        if (!fdGuard.enter()) {
            return false;
        }
        directReader = reader;
        while (true) {
            int s = direct;
            if ((s & (LOOP | OWNED)) != 0) {
                fdGuard.exit();
                return false; // the loop reads now and delivers to the view
            }
            if (DIRECT.compareAndSet(this, s, OWNED)) { // a READY left from an earlier owner is stale: cleared
                return true;
            }
        }
    }

    /**
     * One recv(2) into {@code dst} by the reader that owns the side (see {@link BlockingConnection.DirectRead#recv}).
     */
    @Override
    public int recvDirect(ByteBuffer dst) {
        if (!directOpen) {
            return BlockingConnection.DirectRead.DECLINED; // closing: the loop reads (and discards) from here on
        }
        if (drainedByDirect && !directHup && (direct & READY) == 0) {
            // Nothing came since a recv that emptied the socket: EAGAIN without the system call. READY stays as it
            // is (not cleared), so an event from before this look still stops the park that follows.
            drainedByDirect = false; // after a wake-up without READY (spurious, a close): a real look
            return 0;
        }
        DIRECT.getAndBitwiseAnd(this, ~(READY | WAITING)); // what the loop reports from here on comes after this look
        int len = dst.remaining();
        boolean heap = !dst.isDirect();
        int slot = -1;
        long addr;
        if (heap) {
            slot = ctx.takeSendBounce();
            if (slot < 0) {
                return BlockingConnection.DirectRead.DECLINED;
            }
            len = Math.min(len, NetContext.SEND_BOUNCE_SIZE);
            addr = ctx.sendBounceAddress(slot);
        } else {
            addr = org.epoll4j.internal.NativeMemory.address(dst) + dst.position(); // not ctx.address: the loop's cache
        }
        try {
            while (true) {
                long n = LibC.recv(fd, addr, len, LibC.MSG_DONTWAIT);
                directRecvs++; // the token: one writer at a time
                drainedByDirect = n > 0 && n < len;
                if (n > 0) {
                    if (heap) {
                        dst.put(dst.position(), ctx.sendBounce(slot), 0, (int) n);
                    }
                    dst.position(dst.position() + (int) n);
                    bytesRead += n; // the token keeps the loop's reads out: one writer at a time
                    directBytes += n;
                    if (idle != null) {
                        idle.readElsewhere();
                    }
                    return (int) n;
                }
                if (n == 0) {
                    return BlockingConnection.DirectRead.EOF;
                }
                int err = LibC.errno();
                if (err == Errno.EAGAIN) {
                    return 0;
                }
                if (err != Errno.EINTR) {
                    directFailure = new EpollException("recv(fd=" + fd + ")", err);
                    return BlockingConnection.DirectRead.FAILED;
                }
            }
        } finally {
            if (slot >= 0) {
                ctx.giveSendBounce(slot);
            }
        }
    }

    /** The owning reader is about to park: false if the loop reported readiness since its last recv (look again). */
    @Override
    public boolean parkDirect() {
        while (true) {
            int s = direct;
            if ((s & READY) != 0) {
                return false;
            }
            if (DIRECT.compareAndSet(this, s, s | WAITING)) {
                return true;
            }
        }
    }

    /**
     * The reader gives the side back. If the loop reported readiness after the reader's last recv(2), or the reader
     * met the end of the stream or an error, or gave up before a recv(2) that readiness had asked for
     * ({@code handBack}), a task has the loop read: what arrived goes to the view's buffer, the FIN and errors take the
     * loop's usual way.
     */
    @Override
    public void releaseDirect(boolean handBack) {
        int s = (int) DIRECT.getAndBitwiseAnd(this, ~(OWNED | WAITING | READY));
        fdGuard.exit();
        if ((handBack || (s & READY) != 0) && !fdGuard.claimed()) {
            owner.later(readAfterDirect);
        }
    }

    /** Whether a reader on another thread owns the read side now (the loop reads nothing meanwhile). */
    boolean ownedByReader() {
        return directEnabled && (direct & OWNED) != 0;
    }

    /** The error a direct read met and the loop has not failed the connection with yet (taken), or null. */
    EpollException takeDirectFailure() {
        EpollException e = directFailure;
        if (e != null) {
            directFailure = null;
        }
        return e;
    }

    /**
     * Whether the reader that owns the side is parked (or about to park) waiting for a read event that has not come
     * yet (tests).
     */
    boolean readerWaiting() {
        return (direct & (OWNED | WAITING | READY)) == (OWNED | WAITING);
    }

    /** recv(2) calls made by direct reads so far. */
    long directRecvCalls() {
        return directRecvs;
    }

    /** Bytes read by direct reads so far. */
    long directBytesRead() {
        return directBytes;
    }

    /** After a direct reader gave the side back with something left for the loop: reads (or fails) as usual. */
    private void readAfterDirect() {
        EpollException failed = takeDirectFailure();
        if (failed != null) {
            owner.fail(failed);
            return;
        }
        readAgain();
    }

    // ------------------------------------------------------------------ pauses

    /** Whether the connection reads now: input not ended and no pause in effect. */
    boolean canRead() {
        return !inputClosed && (pauses & pausesInEffect()) == 0;
    }

    /** Whether data read may go on to the handler (TLS: unwrapping continues); input may have ended already. */
    boolean wantsData() {
        return !owner.closed() && (pauses & pausesInEffect()) == 0;
    }

    /**
     * The pause reasons that stop reading now: all of them, except during a graceful close, which reads (and
     * discards) until the peer's EOF: only a TLS delegated task still stops it then.
     */
    private int pausesInEffect() {
        return owner.closing() ? ReadPause.TLS_TASK.bit() : -1;
    }

    void pause(ReadPause reason) {
        int before = pauses;
        pauses = before | reason.bit();
        if (before == 0) {
            owner.interestChanged();
        }
    }

    void resume(ReadPause reason) {
        int before = pauses;
        if ((before & reason.bit()) == 0) {
            return;
        }
        pauses = before & ~reason.bit();
        if (pauses != 0 || owner.closed()) {
            return;
        }
        owner.resumed();
        if (pauses != 0 || owner.closed()) {
            return; // a held frame paused reading again
        }
        if (selfDriven() || owner.hasBuffered()) {
            owner.later(readAgain); // an edge may have come and gone while paused; TLS may hold whole records
        }
        if (!selfDriven()) {
            owner.interestChanged();
        }
    }

    boolean isPaused() {
        return pauses != 0;
    }

    boolean isPausedFor(ReadPause reason) {
        return (pauses & reason.bit()) != 0;
    }

    // ------------------------------------------------------------------ state

    /** The peer's input ended (its FIN, or TLS close_notify): nothing more is read. */
    void inputEnded() {
        inputClosed = true;
    }

    boolean isInputClosed() {
        return inputClosed;
    }

    long bytesRead() {
        return bytesRead;
    }
}
