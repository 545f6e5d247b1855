package org.epoll4j.net;

import org.epoll4j.Reactor;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A blocking view of a {@link Connection} for straight-line code on virtual threads (Java 21+) or platform threads:
 * reads wait for bytes, writes wait for room, and every wait parks the calling thread (with {@code LockSupport} or a
 * {@link ReentrantLock}'s conditions, never {@code synchronized}: a virtual thread is not pinned) until the reactor
 * reports progress. No thread is blocked in a system call: on plain TCP the calling thread makes non-blocking send(2)
 * calls of its own (direct sends, below), and recv(2) calls too where reads are direct; the reactor does the rest.
 *
 * <p>Get one from {@link BlockingService} (servers: one handler thread per accepted connection) or
 * {@link #connect(Reactor, SocketAddress, Duration)} (clients).
 *
 * <p><b>Reading.</b> A read first takes what this view buffered: what the reactor read for it, into a bounded buffer
 * ({@link BlockingService#inboundLimit}, 64 KiB by default); when that is full the connection stops reading (TCP
 * then pushes back on the peer) until a reader drained half of it. Memory per connection is bounded by the limit plus
 * one read of the reactor. <em>Direct reads</em>: for a view served on its reactor's thread
 * ({@link BlockingService#onReactorThread()}), or anywhere with {@code -Depoll4j.blocking.directReads=true}, a read
 * that finds nothing buffered on a plain TCP connection under EDGE (the default) reads itself: it takes the
 * connection's read side for the call, recv(2)s straight into the caller's buffer, and while the socket has nothing
 * parks until the reactor reports it readable (the reactor then only unparks it; it reads nothing while a thread owns
 * the side). TLS, splice, fd passing, LEVEL and paused reading always take the reactor's way.
 *
 * <p><b>Writing.</b> {@link #write(ByteBuffer)} copies the bytes into a staging buffer handed to the reactor, and
 * returns once all of them are queued with the connection's queue within its high watermark
 * ({@link ConnectionConfig#withWriteWatermarks}): a peer that reads slowly blocks the writer. {@link #flush()} waits
 * until the kernel took everything.
 *
 * <p><b>Timeouts.</b> {@link #readTimeout(Duration)} bounds each wait for bytes and {@link #writeTimeout(Duration)}
 * each wait for room or drain; either ends the call with a {@link ConnectionTimeoutException} naming which, and
 * leaves the connection open. The {@link ConnectionConfig} idle timeouts close the connection, and a call blocked
 * then ends with a {@link ConnectionTimeoutException} of kind {@code READ_IDLE}/{@code WRITE_IDLE}/{@code ALL_IDLE}.
 *
 * <p><b>Interrupts.</b> Interrupting a thread blocked in a call ends that call with an
 * {@link InterruptedIOException} (for a write, {@code bytesTransferred} tells how much was queued) and keeps the
 * thread's interrupt status set; the connection stays open. A call that needs no wait does not look at the status.
 *
 * <p><b>Closing.</b> {@link #close()} from any thread wakes every call blocked on this view with a
 * {@link SocketException} ("connection closed"); bytes already written are still sent. When the connection ends
 * otherwise (reset, the server shutting down, a TLS error), reads first return what had arrived, then throw a
 * {@link SocketException} whose cause is what ended it; a peer's FIN reads as end of stream ({@code -1}).
 *
 * <p><b>Passing file descriptors</b> (SCM_RIGHTS, plain Unix-domain connections):
 * {@link #writeWithFileDescriptors(ByteBuffer, int...)} sends fds in order with the bytes written before and after
 * it; on a connection whose config enables {@link ConnectionConfig#withFileDescriptorPassing}, the fds that arrive
 * wait in this view with the bytes they came with, and {@link #takeFileDescriptors()} hands the reader one message's
 * fds once it has read that message's first byte. Fds not taken are closed when the view closes; a peer that passes
 * more than 1024 the reader has not taken fails the connection.
 *
 * <p>The view is thread-safe: one thread may read while another writes. Its blocking calls must not run on the
 * reactor's thread (they throw {@link IllegalStateException} there); a virtual thread the reactor carries
 * ({@link BlockingService#onReactorThread()}) is a thread of its own, whose waits unmount it and let the loop go on.
 */
public final class BlockingConnection implements Closeable {
    static final int DEFAULT_INBOUND_LIMIT = 64 * 1024;
    /** Buffers above this are dropped once empty, so an idle connection keeps at most this much of each. */
    private static final int KEEP_BUFFER = 4096;
    /** Wrappers over the caller's arrays are kept for the next call only for arrays up to this size. */
    private static final int KEEP_WINDOW = 64 * 1024;
    private static final byte[] EMPTY = new byte[0];
    private static final long POLL_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long POLL_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    /** Where views get their connection's {@link DirectSend}. */
    static final java.util.function.Function<Connection, DirectSend> DIRECT_SENDS = Connection::directSender;

    /**
     * Where views get their connection's {@link DirectSend} ({@link #DIRECT_SENDS}; null for a view whose every write
     * is handed to the loop). Package-private: a seam for tests and benchmarks, not a setting.
     */
    static volatile java.util.function.Function<Connection, DirectSend> directSends = DIRECT_SENDS;

    /** Where views get their connection's {@link DirectRead}. */
    static final java.util.function.Function<Connection, DirectRead> DIRECT_READS = Connection::directReader;

    /** No direct reads: every read waits for what the loop buffered (the default). */
    static final java.util.function.Function<Connection, DirectRead> LOOP_READS = c -> null;

    /**
     * Where views get their connection's {@link DirectRead}: {@link #LOOP_READS} unless the system property
     * {@code epoll4j.blocking.directReads} is {@code true}. Off by default because it measured slower end to end
     * (docs/benchmarks.md, "Direct reads"): cheaper per round trip on one quiet connection, but with 50 or 200 busy
     * connections the reader's own EAGAIN look and wake-ups cost more than the loop's read and copy they save.
     * Package-private and volatile: a seam for tests and benchmarks.
     */
    static volatile java.util.function.Function<Connection, DirectRead> directReads =
            Boolean.getBoolean("epoll4j.blocking.directReads") ? DIRECT_READS : LOOP_READS;

    /**
     * Where views served on their reactor's thread ({@link BlockingService#onReactorThread()}) get their
     * {@link DirectRead}: {@link #DIRECT_READS} unless {@code epoll4j.blocking.directReads} is {@code false}. There the
     * reader's recv(2) runs on the loop's own CPU right after the event, so it saves the loop's copy without the
     * cross-CPU wake-up that made direct reads lose elsewhere (docs/benchmarks.md). A seam for tests, as above.
     */
    static volatile java.util.function.Function<Connection, DirectRead> onReactorReads =
            "false".equals(System.getProperty("epoll4j.blocking.directReads")) ? LOOP_READS : DIRECT_READS;

    private final Connection connection;
    private final Reactor reactor;
    /** The connection's direct send, or null: every write goes through the loop. */
    private final DirectSend direct;
    /** The connection's direct read, or null: every read takes what the loop buffered. */
    private final DirectRead directRead;
    private final int inboundLimit;
    private final int stageLimit;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition readable = lock.newCondition();
    private final Condition writable = lock.newCondition();
    private final Condition drained = lock.newCondition();

    // ---- guarded by lock
    private byte[] in = EMPTY;
    private int inStart;
    private int inEnd;
    /** The peer's FIN was read: after the buffered bytes, reads return -1. */
    private boolean eof;
    /** The connection's onClose ran. Volatile: a direct reader looks without the lock. */
    private volatile boolean ended;
    private Throwable endCause;
    /** close() or abort() was called on this view. Volatile: a direct reader looks without the lock. */
    private volatile boolean closedHere;
    /** A reader reads directly now (without the lock): other readers wait for the buffer meanwhile. */
    private boolean directReading;
    /** Readers waiting on {@link #readable}: a direct read's end signals them. */
    private int readWaiters;
    /** A wrapper over the last array read into directly (kept: no allocation per read); used by one reader at once. */
    private ByteBuffer arrayWindow;
    /** A wrapper over {@link #in}, for direct reads that fill it (readLine). */
    private ByteBuffer inWindow;
    /** A wrapper over the last array written with a direct send; a writer takes it ({@link #WRITE_WINDOW}). */
    @SuppressWarnings("unused") // through WRITE_WINDOW
    private volatile ByteBuffer writeWindow;
    private static final java.lang.invoke.VarHandle WRITE_WINDOW;

    static {
        try {
            WRITE_WINDOW = java.lang.invoke.MethodHandles.lookup().findVarHandle(BlockingConnection.class,
                    "writeWindow", ByteBuffer.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private boolean outputShut;
    /** Reading is paused by this view (full inbound buffer); changed only on the reactor thread. */
    private boolean readPaused;
    private boolean resumeScheduled;
    private byte[] out = EMPTY;
    /** The other staging buffer, swapped in while the reactor sends the first. */
    private byte[] spare;
    private int outLen;
    private boolean handOffScheduled;
    /** The reactor is sending a staged buffer without the lock (flush must not see an empty queue then). */
    private boolean handingOff;
    /** A writer is in {@link DirectSend#trySend} (without the lock): nothing may be staged or handed off meanwhile. */
    private boolean directSending;
    /** The connection's queue is above its high watermark (from onWritabilityChanged). */
    private boolean unwritable;
    private int flushWaiters;
    private boolean drainPollScheduled;
    private long drainPollNanos;
    /** This flush wait already looked once at the batch's end (batched writes send what they held there). */
    private boolean drainPolledAfterBatch;

    /** The thread that reads directly now (the one close() unparks); null if none. */
    private volatile Thread directThread;
    private volatile long readTimeoutNanos;
    private volatile long writeTimeoutNanos;
    /** Test seam: told of the moments {@link Probe} lists; null outside tests (one volatile read at each). */
    volatile Probe probe;
    private InputStream inputStream;
    private OutputStream outputStream;

    /** Loop-only: the wrapper handOff sends a staging buffer through (kept: one allocation less per hand-off). */
    private ByteBuffer sending;

    private final Runnable handOff = this::handOff;
    private final Runnable resumeIfDrained = this::resumeIfDrained;
    private final Runnable drainPoll = this::drainPoll;

    BlockingConnection(Connection connection, int inboundLimit, Duration readTimeout, Duration writeTimeout) {
        this(connection, inboundLimit, readTimeout, writeTimeout, false);
    }

    /** As above; {@code onReactor}: the view's reader is a thread carried by the connection's reactor. */
    BlockingConnection(Connection connection, int inboundLimit, Duration readTimeout, Duration writeTimeout,
                       boolean onReactor) {
        this.connection = connection;
        this.reactor = connection.reactor();
        this.inboundLimit = inboundLimit;
        this.stageLimit = Math.max(1, connection.config().highWatermark());
        this.direct = connection.isTls() ? null : directSends.apply(connection);
        this.directRead = connection.isTls() ? null : (onReactor ? onReactorReads : directReads).apply(connection);
        this.readTimeoutNanos = nanos(readTimeout);
        this.writeTimeoutNanos = nanos(writeTimeout);
    }

    // ------------------------------------------------------------------ clients

    /**
     * Connects to {@code remote} over plain TCP with the default configuration, blocking until connected.
     *
     * @param reactor the reactor the connection runs on
     * @param remote  the address to connect to
     * @param timeout how long the connect may take; zero waits as long as the kernel tries
     * @return the connected view
     * @throws ConnectionTimeoutException of kind {@code CONNECT} if the timeout expired (the attempt is abandoned)
     * @throws InterruptedIOException     if the calling thread was interrupted while waiting (the attempt is
     *                                    abandoned)
     * @throws IOException                if the connect failed (e.g. refused: the cause is an
     *                                    {@link org.epoll4j.EpollException} naming ECONNREFUSED)
     */
    public static BlockingConnection connect(Reactor reactor, SocketAddress remote, Duration timeout)
            throws IOException {
        return connect(TcpClient.builder(reactor).remote(remote), timeout);
    }

    /**
     * Connects with everything {@code client} was given (options, {@link ConnectionConfig}, {@link TlsConfig}: the
     * TLS handshake completes before this returns), blocking until connected. The builder's handler is replaced.
     *
     * @param client  a client builder with at least {@link TcpClient.Builder#remote} set
     * @param timeout how long the connect (and TLS handshake) may take; zero: the builder's connect timeout only
     * @return the connected view
     * @throws ConnectionTimeoutException of kind {@code CONNECT} if the timeout expired (the attempt is abandoned:
     *                                    a TCP connect ends then; a TLS handshake under way ends when it completes,
     *                                    or at its {@link TlsConfig#handshakeTimeout} at the latest)
     * @throws InterruptedIOException     if the calling thread was interrupted while waiting (the attempt is
     *                                    abandoned likewise)
     * @throws IOException                if the connect or the handshake failed; the cause says why
     */
    public static BlockingConnection connect(TcpClient.Builder client, Duration timeout) throws IOException {
        Objects.requireNonNull(client, "client");
        long nanos = nanos(timeout);
        Adapter adapter = new Adapter(DEFAULT_INBOUND_LIMIT, Duration.ZERO, Duration.ZERO, null);
        client.handler(adapter);
        if (nanos > 0) {
            client.connectTimeout(timeout);
        }
        CompletableFuture<Connection> future = client.connect();
        try {
            if (nanos > 0) {
                future.get(nanos, TimeUnit.NANOSECONDS);
            } else {
                future.get();
            }
            return adapter.view;
        } catch (TimeoutException e) {
            future.thenAccept(c -> adapter.abandon(c));
            throw new ConnectionTimeoutException(ConnectionTimeoutException.Kind.CONNECT,
                    "connect: not connected within " + timeout);
        } catch (InterruptedException e) {
            future.thenAccept(c -> adapter.abandon(c));
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("connect: interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            IOException failure = new SocketException("connect: " + cause);
            failure.initCause(cause);
            throw failure;
        }
    }

    // ------------------------------------------------------------------ reading

    /**
     * Reads what has arrived into {@code dst}, waiting for at least one byte if nothing has.
     *
     * @param dst where the bytes go (its position advances)
     * @return the number of bytes read, 0 if {@code dst} has no room, or -1 at end of stream (the peer's FIN)
     * @throws ConnectionTimeoutException if no byte came within the read timeout (kind {@code READ}), or an idle
     *                                    timeout closed the connection
     * @throws InterruptedIOException     if the thread was interrupted while waiting
     * @throws SocketException            if this view was closed, or the connection ended with an error (the cause)
     */
    public int read(ByteBuffer dst) throws IOException {
        checkNotLoop("read");
        if (!dst.hasRemaining()) {
            return 0;
        }
        lock.lock();
        try {
            int r = awaitBytes("read", dst);
            if (r != 0) {
                return r; // read straight into dst, or -1 at end of stream
            }
            int n = Math.min(dst.remaining(), inEnd - inStart);
            dst.put(in, inStart, n);
            consumed(n);
            return n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reads into {@code b[off..off+len)} like {@link #read(ByteBuffer)}.
     *
     * @param b   the array
     * @param off where to start
     * @param len at most this many bytes
     * @return the number of bytes read, or -1 at end of stream
     * @throws IOException as for {@link #read(ByteBuffer)}
     */
    public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        checkNotLoop("read");
        if (len == 0) {
            return 0;
        }
        lock.lock();
        try {
            int r = awaitBytes("read", directRead != null && !directReading ? arrayWindow(b, off, len) : null);
            if (r != 0) {
                return r;
            }
            int n = Math.min(len, inEnd - inStart);
            System.arraycopy(in, inStart, b, off, n);
            consumed(n);
            return n;
        } finally {
            lock.unlock();
        }
    }

    /** A buffer over {@code b[off..off+len)} for a direct read, reusing the last one made for {@code b}. Holds the lock. */
    private ByteBuffer arrayWindow(byte[] b, int off, int len) {
        ByteBuffer w = arrayWindow;
        if (w == null || w.array() != b) {
            w = ByteBuffer.wrap(b);
            arrayWindow = b.length <= KEEP_WINDOW ? w : null; // (a bigger array is not kept alive by this view)
        }
        w.limit(off + len).position(off);
        return w;
    }

    /**
     * Reads until {@code dst} is full. The read timeout bounds each wait for more bytes, not the whole call.
     *
     * @param dst where the bytes go
     * @throws EOFException if the stream ended first (the bytes that came are in {@code dst})
     * @throws IOException  as for {@link #read(ByteBuffer)}
     */
    public void readFully(ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            if (read(dst) < 0) {
                throw new EOFException("readFully: end of stream with " + dst.remaining() + " bytes still to read");
            }
        }
    }

    /**
     * Reads a line ending in LF (a CR before it is dropped too) and decodes it as UTF-8. At end of stream the bytes
     * after the last LF are returned as a last line.
     *
     * @param maxLength the most bytes a line may have, without its terminator
     * @return the line without its terminator, or {@code null} at end of stream with nothing read
     * @throws FrameTooLongException if the line is longer than {@code maxLength} (the bytes read of it are lost:
     *                               close the connection)
     * @throws IOException           as for {@link #read(ByteBuffer)}
     */
    public String readLine(int maxLength) throws IOException {
        if (maxLength < 0) {
            throw new IllegalArgumentException("readLine: maxLength must not be negative: " + maxLength);
        }
        checkNotLoop("readLine");
        byte[] line = null;
        int len = 0;
        lock.lock();
        try {
            while (true) {
                if (awaitBytes("readLine", null) < 0) {
                    return line == null ? null : new String(line, 0, len, StandardCharsets.UTF_8);
                }
                int lf = -1;
                for (int i = inStart; i < inEnd; i++) {
                    if (in[i] == '\n') {
                        lf = i;
                        break;
                    }
                }
                int take = (lf >= 0 ? lf : inEnd) - inStart;
                if (len + take > maxLength + 1) { // +1: a CR of a CRLF may be the last byte taken
                    consumed(lf >= 0 ? take + 1 : take);
                    throw new FrameTooLongException("readLine: line longer than " + maxLength + " bytes",
                            maxLength);
                }
                if (line == null) {
                    line = new byte[Math.max(take, 64)];
                } else if (len + take > line.length) {
                    line = Arrays.copyOf(line, Math.max(len + take, line.length * 2));
                }
                System.arraycopy(in, inStart, line, len, take);
                len += take;
                if (lf >= 0) {
                    consumed(take + 1);
                    if (len > 0 && line[len - 1] == '\r') {
                        len--;
                    }
                    if (len > maxLength) {
                        throw new FrameTooLongException("readLine: line longer than " + maxLength + " bytes",
                                maxLength);
                    }
                    return new String(line, 0, len, StandardCharsets.UTF_8);
                }
                consumed(take);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Bytes that can be read now without waiting: those this view buffered (not those a direct read would find). */
    public int available() {
        lock.lock();
        try {
            return inEnd - inStart;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until bytes are buffered (returns 0), or reads straight into {@code dst} (returns how many, {@code dst}'s
     * position advanced); -1 at end of stream. With a direct read and nothing buffered, the calling thread reads
     * itself: into {@code dst}, or (null) into the buffer. Else, or if the direct read cannot go on (the loop reads
     * now, reading is paused, the stream ended or failed), it waits for what the loop buffers. Holds the lock.
     */
    private int awaitBytes(String op, ByteBuffer dst) throws IOException {
        long timeout = readTimeoutNanos;
        long deadline = timeout == 0 ? 0 : System.nanoTime() + timeout;
        boolean tryDirect = directRead != null;
        readWaiters++;
        try {
            while (inEnd == inStart) {
                if (closedHere) {
                    throw closedException(op);
                }
                if (eof) {
                    return -1;
                }
                if (ended) {
                    throw endedException(op);
                }
                if (tryDirect && !directReading) {
                    int r = readDirectly(op, dst, timeout, deadline);
                    if (r > 0) {
                        if (closedHere) {
                            throw closedException(op); // as for bytes buffered when close() came
                        }
                        if (dst != null) {
                            return r;
                        }
                        inStart = 0;
                        inEnd = r; // the buffer was empty: the bytes are at its start
                        break;
                    }
                    if (r != RETRY) {
                        tryDirect = false; // the loop's way from here on: it reads, or ends the stream or connection
                    }
                    continue;
                }
                long left = timeout == 0 ? 0 : deadline - System.nanoTime();
                if (timeout != 0 && left <= 0) {
                    throw timeoutException(op, timeout, ConnectionTimeoutException.Kind.READ, 0);
                }
                await(readable, timeout, left, op, ConnectionTimeoutException.Kind.READ, 0);
            }
        } finally {
            readWaiters--;
        }
        if (closedHere) {
            throw closedException(op);
        }
        return 0;
    }

    /** {@link #readDirectly}'s answer when the buffer got bytes or the view ended meanwhile: look again. */
    private static final int RETRY = -100;

    /**
     * Reads on the calling thread (see {@link DirectRead}): takes the read side, recv(2)s into {@code dst} (null: the
     * empty buffer), and while the socket has nothing parks until the loop reports it readable, the view closes or
     * ends, or the read timeout or an interrupt ends the wait (then throws as a wait for the loop does). Returns the
     * bytes read, {@link #RETRY}, or another {@link DirectRead} code (the caller then waits for the loop). Called and
     * returns holding the lock; releases it meanwhile.
     */
    private int readDirectly(String op, ByteBuffer dst, long timeout, long deadline) throws IOException {
        Thread me = Thread.currentThread();
        directReading = true;
        directThread = me; // before the flags are looked at below: a close after that look unparks this thread
        lock.unlock();
        try {
            if (!directRead.acquireDirect(me)) {
                return DirectRead.DECLINED;
            }
            boolean handBack = false;
            try {
                ByteBuffer into = dst;
                lock.lock();
                try {
                    if (inEnd != inStart || closedHere || eof || ended) {
                        return RETRY; // the loop delivered before the side was ours, or the view ended: not ours to read
                    }
                    if (into == null) { // fill the (empty) buffer: no one else touches it while the side is ours
                        if (in.length == 0) {
                            in = new byte[KEEP_BUFFER];
                        }
                        if (inWindow == null || inWindow.array() != in) {
                            inWindow = ByteBuffer.wrap(in);
                        }
                        into = inWindow.clear();
                    }
                } finally {
                    lock.unlock();
                }
                while (true) {
                    int r = directRead.recvDirect(into);
                    if (r != 0) {
                        // the loop ends the stream, fails the connection, or reads what a declined recv left
                        handBack = r < 0;
                        return r;
                    }
                    // EAGAIN: park until the loop reports the socket readable (or the view ends, or time is up)
                    if (closedHere || ended) {
                        return RETRY;
                    }
                    if (!directRead.parkDirect()) {
                        continue; // reported since the recv: look again
                    }
                    if (me.isInterrupted()) {
                        InterruptedIOException e = new InterruptedIOException(op + ": interrupted; " + connection
                                + " stays open");
                        e.bytesTransferred = 0;
                        throw e;
                    }
                    parking(op); // announced (parkDirect): a read event, a close or an interrupt from here unparks it
                    if (timeout == 0) {
                        java.util.concurrent.locks.LockSupport.park(this);
                    } else {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            throw timeoutException(op, timeout, ConnectionTimeoutException.Kind.READ, 0);
                        }
                        java.util.concurrent.locks.LockSupport.parkNanos(this, left);
                    }
                    // woken by the loop, a close, the time or a spurious wake-up: the next recv tells
                }
            } finally {
                directRead.releaseDirect(handBack);
            }
        } finally {
            directThread = null;
            lock.lock();
            directReading = false;
            if (readWaiters > 1) {
                readable.signalAll(); // other readers waited for this one: the buffer is theirs to wait on again
            }
        }
    }

    /** {@code n} buffered bytes were taken: resume reading once half the limit is free. Holds the lock. */
    private void consumed(int n) {
        inStart += n;
        if (inStart == inEnd) {
            inStart = 0;
            inEnd = 0;
            if (in.length > KEEP_BUFFER) {
                in = EMPTY;
            }
        }
        if (readPaused && !resumeScheduled && inEnd - inStart <= inboundLimit / 2) {
            resumeScheduled = true;
            try {
                reactor.execute(resumeIfDrained);
            } catch (RejectedExecutionException closing) {
                resumeScheduled = false; // the connection ends with its reactor
            }
        }
    }

    // ------------------------------------------------------------------ writing

    /**
     * Writes {@code src}'s remaining bytes: returns once all are queued (its position at its limit) and the queue is
     * within the connection's high watermark, waiting for room while a slow peer keeps it above.
     *
     * @param src the bytes
     * @throws ConnectionTimeoutException of kind {@code WRITE} if a wait for room exceeded the write timeout
     *                                    ({@code bytesTransferred} were queued), or an idle timeout closed the
     *                                    connection
     * @throws InterruptedIOException     if the thread was interrupted while waiting ({@code bytesTransferred}
     *                                    were queued)
     * @throws SocketException            if this view was closed, its output shut down, or the connection ended
     */
    public void write(ByteBuffer src) throws IOException {
        checkNotLoop("write");
        int done = 0;
        if (direct != null && src.hasRemaining()) {
            int sent = sendDirect(src);
            if (!src.hasRemaining()) {
                return;
            }
            done = Math.max(0, sent);
        }
        stageAndHandOff(src, null, 0, src.remaining(), done);
    }

    /**
     * Stages {@code len} bytes, from {@code buf} (its position advances) or else from {@code array} at {@code off},
     * and hands them to the loop, waiting for room as needed; {@code done} were sent already (for the exceptions).
     */
    private void stageAndHandOff(ByteBuffer buf, byte[] array, int off, int len, int done) throws IOException {
        long timeout = writeTimeoutNanos;
        long left = timeout;
        while (true) {
            boolean schedule = false;
            lock.lock();
            try {
                while (len > 0) {
                    checkWritable("write");
                    int room = stageLimit - outLen;
                    if (directSending) {
                        // another writer sends directly: staging now could let the loop send before it
                        left = await(writable, timeout, left, "write", ConnectionTimeoutException.Kind.WRITE, done);
                        continue;
                    }
                    if (unwritable || room <= 0) {
                        if (schedule) {
                            break; // hand the staged bytes over (outside the lock) before waiting for room
                        }
                        left = await(writable, timeout, left, "write", ConnectionTimeoutException.Kind.WRITE, done);
                        continue;
                    }
                    int n = Math.min(room, len);
                    stage(n);
                    if (buf != null) {
                        buf.get(out, outLen, n);
                    } else {
                        System.arraycopy(array, off, out, outLen, n);
                        off += n;
                    }
                    outLen += n;
                    len -= n;
                    done += n;
                    left = timeout;
                    if (!handOffScheduled) {
                        handOffScheduled = true;
                        schedule = true;
                    }
                }
            } finally {
                lock.unlock();
            }
            if (schedule) {
                // outside the lock: the wake-up is a system call, and the reactor must not wait for it in onData
                scheduleHandOff("write");
            }
            if (len == 0) {
                return;
            }
        }
    }

    /**
     * Tries to send {@code src} straight from the calling thread, saving the loop a wake-up and the bytes a copy: only
     * when this view has nothing staged, no hand-off scheduled or running and no other direct send (the rule that
     * keeps one writer's bytes in order with what the loop sends for it), and {@link DirectSend#trySend} then checks
     * the connection's side (queue empty, open, not corked). Returns the bytes sent, or -1 if it did not try or the
     * connection refused; the caller stages what is left.
     */
    private int sendDirect(ByteBuffer src) throws IOException {
        lock.lock();
        try {
            checkWritable("write");
            if (directSending || outLen > 0 || handOffScheduled || handingOff || unwritable) {
                return -1;
            }
            directSending = true;
        } finally {
            lock.unlock();
        }
        int sent = -1;
        try {
            sent = direct.trySend(src);
        } finally {
            lock.lock();
            try {
                directSending = false;
                writable.signalAll(); // writers that waited for it stage now
                if (flushWaiters > 0) {
                    drained.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }
        return sent;
    }

    /**
     * Writes {@code b[off..off+len)} like {@link #write(ByteBuffer)}.
     *
     * @param b   the array
     * @param off where to start
     * @param len how many bytes
     * @throws IOException as for {@link #write(ByteBuffer)}
     */
    public void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (direct != null) {
            // DirectSend takes a buffer: the last wrapper is reused (taken, so two writers never share one)
            ByteBuffer w = (ByteBuffer) WRITE_WINDOW.getAndSet(this, null);
            if (w == null || w.array() != b) {
                w = ByteBuffer.wrap(b);
            }
            w.clear().position(off).limit(off + len);
            try {
                write(w); // consumes the bytes: sent, or copied into the staging buffer
            } finally {
                if (b.length <= KEEP_WINDOW) {
                    writeWindow = w; // (a bigger array is not kept alive by this view)
                }
            }
            return;
        }
        checkNotLoop("write");
        stageAndHandOff(null, b, off, len, 0); // no wrapper: nothing allocated per write
    }

    /**
     * Writes every byte of {@code b} like {@link #write(ByteBuffer)}.
     *
     * @param b the bytes
     * @throws IOException as for {@link #write(ByteBuffer)}
     */
    public void write(byte[] b) throws IOException {
        write(b, 0, b.length);
    }

    /**
     * Sends {@code count} bytes of the file at {@code path} from {@code position} after every byte written so far,
     * with sendfile(2) on plain TCP (see {@link Connection#sendFile(Path, long, long)}; under TLS read and encrypted
     * by the reactor). Waits for room as {@link #write(ByteBuffer)} does, then one task on the reactor hands the
     * staged bytes over and queues the file behind them, and this call returns once that task ran: the file is
     * queued (not yet sent: {@link #flush()} waits for that), and the connection's queue may now be far above its
     * high watermark, so the next write waits until most of the file has gone.
     *
     * @param path     a regular file
     * @param position the first byte to send
     * @param count    how many bytes
     * @throws IllegalArgumentException   if {@code position} or {@code count} is negative, or {@code path} is not a
     *                                    regular file
     * @throws java.nio.file.NoSuchFileException if there is no file at {@code path}
     * @throws ConnectionTimeoutException of kind {@code WRITE} if the wait for room exceeded the write timeout
     * @throws InterruptedIOException     if the thread was interrupted while waiting (if it was waiting for the
     *                                    reactor's task, the file may still be sent)
     * @throws IOException                if the file cannot be opened; as for {@link #write(ByteBuffer)}
     */
    public void sendFile(Path path, long position, long count) throws IOException {
        Objects.requireNonNull(path, "path");
        if (position < 0 || count < 0) {
            throw new IllegalArgumentException("sendFile: position and count must be >= 0: position=" + position
                    + ", count=" + count);
        }
        checkNotLoop("sendFile");
        // Checked here, on the caller's thread, so that a missing file is an IOException of this call; the
        // connection checks again on the loop (a FIFO or device could block it in open(2)).
        if (!java.nio.file.Files.isRegularFile(path)) {
            if (!java.nio.file.Files.exists(path)) {
                throw new java.nio.file.NoSuchFileException(path.toString(), null, "sendFile: no such file");
            }
            throw new IllegalArgumentException("sendFile: " + path + " is not a regular file");
        }
        long timeout = writeTimeoutNanos;
        long left = timeout;
        lock.lock();
        try {
            checkWritable("sendFile");
            while (unwritable) {
                left = await(writable, timeout, left, "sendFile", ConnectionTimeoutException.Kind.WRITE, 0);
                checkWritable("sendFile");
            }
        } finally {
            lock.unlock();
        }
        CompletableFuture<Void> queued = new CompletableFuture<>();
        try {
            reactor.execute(() -> {
                try {
                    handOff(); // the bytes staged before this call go first
                    if (!connection.isOpen() || connection.isOutputShutdown()) {
                        throw endedException("sendFile");
                    }
                    connection.sendFile(path, position, count);
                    queued.complete(null);
                } catch (Throwable t) {
                    queued.completeExceptionally(t);
                }
            });
        } catch (RejectedExecutionException e) {
            SocketException failure = new SocketException("sendFile: the reactor is closed");
            failure.initCause(e);
            throw failure;
        }
        try {
            parking("sendFile");
            queued.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("sendFile: interrupted; " + connection + " stays open");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re && !(cause instanceof ClosedConnectionException)) {
                throw re; // IllegalArgumentException: not a regular file
            }
            lock.lock();
            try {
                if (closedHere) {
                    throw closedException("sendFile");
                }
                IOException failure = endedException("sendFile");
                if (failure.getCause() == null) {
                    failure.initCause(cause);
                }
                throw failure;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Waits until every byte written so far was taken by the kernel (the connection's queue is empty).
     *
     * @throws ConnectionTimeoutException of kind {@code WRITE} if the queue did not drain within the write timeout
     * @throws InterruptedIOException     if the thread was interrupted while waiting
     * @throws SocketException            if this view was closed or the connection ended before it drained
     */
    public void flush() throws IOException {
        checkNotLoop("flush");
        lock.lock();
        flushWaiters++;
        try {
            if (closedHere) {
                throw closedException("flush");
            }
            long timeout = writeTimeoutNanos;
            long left = timeout;
            while (outLen > 0 || handOffScheduled || handingOff || directSending || connection.queuedBytes() > 0) {
                if (closedHere) {
                    throw closedException("flush");
                }
                if (ended) {
                    throw endedException("flush");
                }
                if (outLen == 0 && !handOffScheduled && !handingOff && !directSending && !drainPollScheduled) {
                    // the rest sits in the connection's queue: no callback reports "empty", so look again soon
                    drainPollScheduled = true;
                    drainPollNanos = POLL_MIN_NANOS;
                    drainPolledAfterBatch = false;
                    try {
                        reactor.execute(drainPoll);
                    } catch (RejectedExecutionException e) {
                        drainPollScheduled = false;
                        throw endedException("flush");
                    }
                }
                left = await(drained, timeout, left, "flush", ConnectionTimeoutException.Kind.WRITE, 0);
            }
        } finally {
            flushWaiters--;
            lock.unlock();
        }
    }

    /**
     * Half-closes: the peer reads end of stream after every byte written so far; this view can still read.
     * Further writes throw. Does not wait.
     */
    public void shutdownOutput() {
        lock.lock();
        try {
            outputShut = true;
            writable.signalAll();
        } finally {
            lock.unlock();
        }
        connection.shutdownOutput(); // queued behind any hand-off of staged bytes: they go first
    }

    private void checkWritable(String op) throws IOException {
        if (closedHere) {
            throw closedException(op);
        }
        if (ended) {
            throw endedException(op);
        }
        if (outputShut) {
            throw new SocketException(op + ": output shut down");
        }
    }

    /** Makes room in the staging buffer for {@code n} more bytes. Holds the lock. */
    private void stage(int n) {
        int need = outLen + n;
        if (need > out.length) {
            out = Arrays.copyOf(out, Math.min(stageLimit, Math.max(need, Math.max(256, out.length * 2))));
        }
    }

    /** Queues {@link #handOff} (handOffScheduled is already set); not holding the lock. */
    private void scheduleHandOff(String op) throws IOException {
        try {
            reactor.execute(handOff);
        } catch (RejectedExecutionException e) {
            lock.lock();
            try {
                handOffScheduled = false;
            } finally {
                lock.unlock();
            }
            SocketException failure = new SocketException(op + ": the reactor is closed");
            failure.initCause(e);
            throw failure;
        }
    }

    /** On the loop: hands the staged bytes to the connection (it sends them now, or copies them into its queue). */
    private void handOff() {
        byte[] bytes;
        int len;
        lock.lock();
        try {
            handOffScheduled = false;
            bytes = out;
            len = outLen;
            // writers stage into the spare meanwhile: the send below runs without the lock
            out = spare != null ? spare : EMPTY;
            spare = null;
            outLen = 0;
            handingOff = true;
        } finally {
            lock.unlock();
        }
        if (len > 0) {
            try {
                if (sending == null || sending.array() != bytes) {
                    sending = ByteBuffer.wrap(bytes); // the staging buffers come back: a new wrapper only when one grew
                }
                sending.limit(len).position(0);
                connection.write(sending); // sent now, or copied into the connection's queue
            } catch (ClosedConnectionException e) {
                // closing: the bytes cannot go anywhere, and onClose reports why
            }
        }
        lock.lock();
        try {
            handingOff = false;
            if (bytes.length > KEEP_BUFFER && sending != null && sending.array() == bytes) {
                sending = null; // a big staging buffer is dropped: its wrapper must not keep it
            }
            if (bytes.length <= KEEP_BUFFER && bytes.length > 0) {
                if (out.length == 0 && outLen == 0) {
                    out = bytes;
                } else {
                    spare = bytes;
                }
            }
            writable.signalAll();
            if (flushWaiters > 0) {
                drained.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** On the loop, while a flush waits on a non-empty queue: looks again with a growing delay. */
    private void drainPoll() {
        lock.lock();
        try {
            drainPollScheduled = false;
            if (flushWaiters == 0 || ended) {
                return;
            }
            if (connection.queuedBytes() == 0) {
                drained.signalAll();
                return;
            }
            drainPollScheduled = true;
            if (!drainPolledAfterBatch && connection.config().batchedWrites()) {
                // held by the batch this task runs in: sent when it ends, so look right then, not a timer later
                drainPolledAfterBatch = true;
                reactor.afterBatch(drainPoll);
                return;
            }
            long delay = drainPollNanos;
            drainPollNanos = Math.min(POLL_MAX_NANOS, delay * 2);
            reactor.schedule(Duration.ofNanos(delay), drainPoll);
        } catch (RejectedExecutionException closing) {
            drainPollScheduled = false;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ fd passing (SCM_RIGHTS)

    /** The most received fds a view holds for its reader; a peer passing more fails the connection. */
    static final int HELD_FDS_LIMIT = 1024;
    private static final int[] NO_FDS = new int[0];

    /** The fds of one received message, and where in the stream the read that brought them began. */
    private record Passed(long at, int[] fds) {
    }

    // ---- guarded by lock (fields of fd passing kept here, with the code that uses them)
    /** Bytes received so far, i.e. the stream position the next read's first byte lands at. */
    private long receivedTotal;
    /** Received fds the reader has not taken, oldest first; null until some arrive. */
    private java.util.ArrayDeque<Passed> heldFds;
    private int heldFdCount;

    /**
     * Writes {@code data}'s remaining bytes with the file descriptors {@code fds} attached to their first byte
     * (SCM_RIGHTS: see {@link Connection#writeWithFileDescriptors}), after every byte written before this call from
     * this view and before every byte written after it. Waits for room as {@link #write(ByteBuffer)} does; then one
     * task on the reactor hands the staged bytes over and writes the message behind them, and this call returns once
     * that task ran: the message is sent or queued in order (not necessarily sent: {@link #flush()} waits for that).
     *
     * <p>The fds are duplicated when this is called, so the caller keeps its own and may close them as soon as this
     * returns (or throws). Sending needs no option; the receiving end needs
     * {@link ConnectionConfig#withFileDescriptorPassing} (on a view: {@link #takeFileDescriptors()}).
     *
     * @param data at least one byte (the kernel passes fds only with data); consumed on return
     * @param fds  1 to 253 open file descriptors (the kernel's SCM_MAX_FD)
     * @throws IllegalArgumentException   if {@code data} is empty, or there are no fds or more than 253
     * @throws IllegalStateException      on a TLS connection or a socket that is not AF_UNIX (fds cannot go there)
     * @throws org.epoll4j.EpollException if an fd cannot be duplicated (EBADF: not an open fd, named; EMFILE);
     *                                    nothing is sent
     * @throws ConnectionTimeoutException of kind {@code WRITE} if the wait for room exceeded the write timeout
     *                                    (nothing is sent)
     * @throws InterruptedIOException     if the thread was interrupted while waiting (if it was waiting for the
     *                                    reactor's task, the message may still be sent)
     * @throws SocketException            if this view was closed, its output shut down, or the connection ended
     */
    public void writeWithFileDescriptors(ByteBuffer data, int... fds) throws IOException {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(fds, "fds");
        String op = "writeWithFileDescriptors";
        if (!data.hasRemaining()) {
            throw new IllegalArgumentException(op + ": no data; the kernel passes fds only with at least one byte");
        }
        if (fds.length == 0 || fds.length > org.epoll4j.internal.LibC.SCM_MAX_FD) {
            throw new IllegalArgumentException(op + ": " + fds.length + " fds; one message carries 1 to "
                    + org.epoll4j.internal.LibC.SCM_MAX_FD + " (the kernel's SCM_MAX_FD)");
        }
        if (connection.isTls()) {
            throw new IllegalStateException(op + " on TLS " + connection + ": file descriptors cannot travel inside "
                    + "TLS records");
        }
        checkNotLoop(op);
        int[] dups = duplicate(fds, op); // ours from here: closed below unless the task took them
        boolean handedOver = false;
        try {
            long timeout = writeTimeoutNanos;
            long left = timeout;
            lock.lock();
            try {
                checkWritable(op);
                while (unwritable) {
                    left = await(writable, timeout, left, op, ConnectionTimeoutException.Kind.WRITE, 0);
                    checkWritable(op);
                }
            } finally {
                lock.unlock();
            }
            byte[] copy = new byte[data.remaining()];
            data.get(copy);
            CompletableFuture<Void> queued = new CompletableFuture<>();
            try {
                reactor.execute(() -> {
                    Throwable failure = null;
                    try {
                        handOff(); // the bytes staged before this call go first
                        if (!connection.isOpen() || connection.isOutputShutdown()) {
                            throw endedException(op);
                        }
                        connection.writeWithFileDescriptors(ByteBuffer.wrap(copy), dups); // it dups them again
                    } catch (Throwable t) {
                        failure = t;
                    } finally {
                        closeFds(dups); // before the caller returns: it may count its fds then
                    }
                    if (failure == null) {
                        queued.complete(null);
                    } else {
                        queued.completeExceptionally(failure);
                    }
                });
                handedOver = true;
            } catch (RejectedExecutionException e) {
                SocketException failure = new SocketException(op + ": the reactor is closed");
                failure.initCause(e);
                throw failure;
            }
            awaitLoopTask(queued, op);
        } finally {
            if (!handedOver) {
                closeFds(dups);
            }
        }
    }

    /** F_DUPFD_CLOEXEC of each fd, all or none. */
    private static int[] duplicate(int[] fds, String op) throws org.epoll4j.EpollException {
        int[] dups = new int[fds.length];
        for (int i = 0; i < fds.length; i++) {
            int d = org.epoll4j.internal.LibC.fcntl(fds[i], org.epoll4j.internal.LibC.F_DUPFD_CLOEXEC, 0);
            if (d < 0) {
                int err = org.epoll4j.internal.LibC.errno();
                closeFds(Arrays.copyOf(dups, i));
                throw new org.epoll4j.EpollException(op + ": fcntl(fds[" + i + "]=" + fds[i] + ", F_DUPFD_CLOEXEC)",
                        err);
            }
            dups[i] = d;
        }
        return dups;
    }

    private static void closeFds(int[] fds) {
        for (int fd : fds) {
            org.epoll4j.internal.LibC.close(fd);
        }
    }

    /** Waits for a task this caller queued on the loop, and turns its failure into this call's exception. */
    private void awaitLoopTask(CompletableFuture<Void> task, String op) throws IOException {
        try {
            parking(op);
            task.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(op + ": interrupted; " + connection + " stays open");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof IllegalStateException ise && !(cause instanceof ClosedConnectionException)) {
                throw new IllegalStateException(ise.getMessage(), ise); // not AF_UNIX: with this caller's stack
            }
            if (cause instanceof RuntimeException re && !(cause instanceof ClosedConnectionException)) {
                throw re;
            }
            lock.lock();
            try {
                if (closedHere) {
                    throw closedException(op);
                }
                IOException failure = endedException(op);
                if (failure.getCause() == null) {
                    failure.initCause(cause);
                }
                throw failure;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Takes the file descriptors of one message the peer passed (SCM_RIGHTS), on a connection whose config enables
     * {@link ConnectionConfig#withFileDescriptorPassing}: the fds of the oldest message not taken yet, in the order the
     * sender passed them, once this view's reader has read the first byte of that message; they are the caller's from
     * then on (to use and close, e.g. with {@link FileDescriptors}). Returns an empty array when there are none to
     * take. Never waits; any thread.
     *
     * <p>Call it once for each message your protocol says carries fds, after reading that message's first byte (its
     * header, say): the fds are takeable by then at the latest. They may be takeable a little sooner, because the
     * kernel delivers a message's fds with a read that may begin with bytes written before the message and the view
     * cannot tell where in that read the message starts; so do not call it for messages that carry none, or it may
     * hand over the next message's fds early. Fds of an earlier message are never handed over after a later one's.
     *
     * <p>Fds not taken are closed when this view closes ({@link #close()}, {@link #abort()}, or the
     * {@link BlockingService} when its handler returns). The view holds at most 1024 fds the reader has not taken: a
     * peer that passes more fails the connection with an {@link IOException} saying so (the excess is closed), which
     * reads report once the bytes that had arrived are read; what was held stays takeable until the view closes.
     *
     * @return the fds of one message, or an empty array
     * @throws IllegalStateException if the connection does not take fds (no
     *                               {@link ConnectionConfig#withFileDescriptorPassing}, or TLS): a peer's fds never
     *                               reach this view then
     * @throws SocketException       if this view was closed (its fds were closed with it)
     */
    public int[] takeFileDescriptors() throws SocketException {
        String op = "takeFileDescriptors";
        if (connection.isTls()) {
            throw new IllegalStateException(op + " on TLS " + connection + ": file descriptors cannot travel inside "
                    + "TLS records");
        }
        if (!connection.config().fileDescriptorPassing()) {
            throw new IllegalStateException(op + " on " + connection + ": its ConnectionConfig does not enable "
                    + "withFileDescriptorPassing(true), so fds a peer passes are closed by the kernel on arrival");
        }
        lock.lock();
        try {
            if (closedHere) {
                throw closedException(op);
            }
            Passed oldest = heldFds == null ? null : heldFds.peekFirst();
            long read = receivedTotal - (inEnd - inStart);
            if (oldest == null || oldest.at() >= read) {
                return NO_FDS;
            }
            heldFds.pollFirst();
            heldFdCount -= oldest.fds().length;
            return oldest.fds();
        } finally {
            lock.unlock();
        }
    }

    /**
     * On the loop, from onFileDescriptors (right before onData of the bytes read with them): keeps the fds for the
     * reader, anchored where that read begins; closes them if no reader can take them. Past the limit it closes them
     * and the connection: the peer's doing, so a connection event (the cause reaches the reader), not a handler
     * failure for the reactor's error handler.
     */
    private void receivedFds(int[] fds) {
        IOException flood = null;
        lock.lock();
        try {
            if (closedHere || connection.isTls()) {
                closeFds(fds);
                return;
            }
            if (heldFdCount + fds.length > HELD_FDS_LIMIT) {
                closeFds(fds);
                flood = new IOException("the peer passed more file descriptors than the reader of " + connection
                        + " took: " + heldFdCount + " held and " + fds.length + " more, above the limit of "
                        + HELD_FDS_LIMIT + " (BlockingConnection.takeFileDescriptors; the " + fds.length
                        + " were closed)");
            } else {
                if (heldFds == null) {
                    heldFds = new java.util.ArrayDeque<>();
                }
                heldFds.addLast(new Passed(receivedTotal, fds));
                heldFdCount += fds.length;
            }
        } finally {
            lock.unlock();
        }
        if (flood != null) {
            connection.closeWith(flood); // on the loop: closed before the bytes that came with them are delivered
        }
    }

    /** Closes every fd the reader did not take. Holds the lock. */
    private void closeHeldFds() {
        if (heldFds != null) {
            for (Passed p : heldFds) {
                closeFds(p.fds());
            }
            heldFds = null;
            heldFdCount = 0;
        }
    }

    /** The received fds this view holds for its reader (tests). */
    int heldFdCount() {
        lock.lock();
        try {
            return heldFdCount;
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ closing

    /**
     * Closes gracefully: bytes already written are sent first (see {@link Connection#close()}); every call blocked
     * on this view ends with a {@link SocketException}, and later calls throw one. Idempotent; any thread.
     */
    @Override
    public void close() {
        if (markClosed()) {
            connection.close(); // queued behind any hand-off of staged bytes
        }
    }

    /** Closes at once with a reset; queued bytes are dropped. Blocked calls end as for {@link #close()}. */
    public void abort() {
        markClosed();
        connection.abort();
    }

    /**
     * Its service's handler threw {@code cause}: closes the connection with it, and this view (waking other threads
     * blocked on it, closing the fds the handler did not take).
     */
    void failed(Throwable cause) {
        markClosed();
        connection.closeWith(cause);
    }

    private boolean markClosed() {
        lock.lock();
        try {
            if (closedHere) {
                return false;
            }
            closedHere = true;
            closeHeldFds(); // the reader can no longer take them
            wakeAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void wakeAll() {
        readable.signalAll();
        writable.signalAll();
        drained.signalAll();
        Thread t = directThread;
        if (t != null) {
            java.util.concurrent.locks.LockSupport.unpark(t); // a direct reader parks without the condition
        }
    }

    // ------------------------------------------------------------------ reactor side (Adapter)

    /** On the loop: buffers what arrived; pauses reading once the buffer holds its limit. */
    private void received(ByteBuffer data) {
        lock.lock();
        try {
            if (closedHere) {
                return;
            }
            int n = data.remaining();
            if (inEnd + n > in.length) {
                int held = inEnd - inStart;
                if (held + n <= in.length && inStart > 0) {
                    System.arraycopy(in, inStart, in, 0, held);
                } else {
                    byte[] bigger = new byte[Math.max(held + n, Math.min(Math.max(inboundLimit, held + n),
                            Math.max(1024, in.length * 2)))];
                    System.arraycopy(in, inStart, bigger, 0, held);
                    in = bigger;
                }
                inStart = 0;
                inEnd = held;
            }
            data.get(in, inEnd, n);
            inEnd += n;
            receivedTotal += n; // where the next fds arrive in the stream
            readable.signalAll();
            if (!readPaused && inEnd - inStart >= inboundLimit) {
                readPaused = true;
                connection.pauseReading(ReadPause.BLOCKING_READER); // on the loop: in effect before the next read
            }
            probeReceived();
        } finally {
            lock.unlock();
        }
    }

    /** On the loop: a reader drained the buffer below half its limit since reading paused. */
    private void resumeIfDrained() {
        lock.lock();
        try {
            resumeScheduled = false;
            if (readPaused && inEnd - inStart <= inboundLimit / 2) {
                readPaused = false;
                connection.resumeReading(ReadPause.BLOCKING_READER); // a user's pause of its own still holds
            }
        } finally {
            lock.unlock();
        }
    }

    private void inputEnded() {
        lock.lock();
        try {
            eof = true;
            readable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void writabilityChanged(boolean isWritable) {
        lock.lock();
        try {
            unwritable = !isWritable;
            if (isWritable) {
                writable.signalAll();
                drained.signalAll();
            }
            probeWritability(isWritable);
        } finally {
            lock.unlock();
        }
    }

    private void endedWith(Throwable cause) {
        lock.lock();
        try {
            ended = true;
            endCause = cause;
            wakeAll();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ waiting

    /**
     * Waits on {@code condition} for at most {@code left} of {@code timeout} nanoseconds (0: no limit); returns what
     * is left. Holds the lock.
     */
    private long await(Condition condition, long timeout, long left, String op, ConnectionTimeoutException.Kind kind,
                       int transferred) throws IOException {
        try {
            if (timeout == 0) {
                parking(op);
                condition.await();
                return 0;
            }
            if (left <= 0) {
                throw timeoutException(op, timeout, kind, transferred);
            }
            parking(op);
            return condition.awaitNanos(left);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException failure = new InterruptedIOException(op + ": interrupted; " + connection
                    + " stays open");
            failure.bytesTransferred = transferred;
            throw failure;
        }
    }

    /** Tells the probe, if any, that the calling thread is about to park in {@code op}. */
    private void parking(String op) {
        Probe p = probe;
        if (p != null) {
            p.parking(op);
        }
    }

    /** Tells the probe, if any, how many bytes are buffered now. Holds the lock. */
    private void probeReceived() {
        Probe p = probe;
        if (p != null) {
            p.received(inEnd - inStart);
        }
    }

    /** Tells the probe, if any, of a writability change. Holds the lock. */
    private void probeWritability(boolean isWritable) {
        Probe p = probe;
        if (p != null) {
            p.writabilityChanged(isWritable);
        }
    }

    private ConnectionTimeoutException timeoutException(String op, long timeout, ConnectionTimeoutException.Kind kind,
                                                        int transferred) {
        ConnectionTimeoutException e = new ConnectionTimeoutException(kind,
                op + ": " + kind.name().toLowerCase() + " timeout of " + Duration.ofNanos(timeout)
                        + " expired on " + connection);
        e.bytesTransferred = transferred;
        return e;
    }

    private SocketException closedException(String op) {
        return new SocketException(op + ": connection closed (close() of this BlockingConnection)");
    }

    private IOException endedException(String op) {
        Throwable cause = endCause;
        if (cause instanceof IdleTimeoutException) {
            IdleState state = ((IdleTimeoutException) cause).state();
            ConnectionTimeoutException e = new ConnectionTimeoutException(ConnectionTimeoutException.Kind.of(state),
                    op + ": idle timeout (" + state + ") closed " + connection);
            e.initCause(cause);
            return e;
        }
        SocketException e = new SocketException(op + ": connection closed"
                + (cause == null ? "" : " by " + cause));
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    private void checkNotLoop(String op) {
        if (reactor.inEventLoop()) {
            throw new IllegalStateException(op + ": a blocking call on the reactor thread would stall it");
        }
    }

    private static long nanos(Duration d) {
        Objects.requireNonNull(d, "timeout");
        if (d.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + d);
        }
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    // ------------------------------------------------------------------ settings and state

    /**
     * Sets how long a read may wait for bytes; zero (the default unless the {@link BlockingService} set one) waits
     * without limit. Affects calls that start after this.
     *
     * @param timeout the limit
     * @return this view
     */
    public BlockingConnection readTimeout(Duration timeout) {
        readTimeoutNanos = nanos(timeout);
        return this;
    }

    /**
     * Sets how long a write may wait for room, or a flush for the queue to drain; zero waits without limit.
     *
     * @param timeout the limit
     * @return this view
     */
    public BlockingConnection writeTimeout(Duration timeout) {
        writeTimeoutNanos = nanos(timeout);
        return this;
    }

    /** The read timeout; zero: none. */
    public Duration readTimeout() {
        return Duration.ofNanos(readTimeoutNanos);
    }

    /** The write timeout; zero: none. */
    public Duration writeTimeout() {
        return Duration.ofNanos(writeTimeoutNanos);
    }

    /** The most bytes buffered for readers before the connection stops reading. */
    public int inboundLimit() {
        return inboundLimit;
    }

    /** Whether neither this view was closed nor the connection ended. */
    public boolean isOpen() {
        lock.lock();
        try {
            return !closedHere && !ended;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The underlying connection, for what it tells (addresses, TLS session, counters, attachment). Do not read or
     * write through it: bytes would bypass this view's buffers and order.
     */
    public Connection connection() {
        return connection;
    }

    /** The peer's address. */
    public SocketAddress remoteAddress() {
        return connection.remoteAddress();
    }

    /** This end's address. */
    public SocketAddress localAddress() {
        return connection.localAddress();
    }

    /**
     * An {@link InputStream} over this view: {@code read} blocks as {@link #read(byte[], int, int)} does;
     * {@code close} closes the connection. The same stream each call.
     */
    public InputStream inputStream() {
        lock.lock();
        try {
            if (inputStream == null) {
                inputStream = new In();
            }
            return inputStream;
        } finally {
            lock.unlock();
        }
    }

    /**
     * An {@link OutputStream} over this view: {@code write} blocks as {@link #write(ByteBuffer)} does (bytes are
     * handed to the connection on return, so {@code flush} has nothing to push and returns at once; call
     * {@link #flush()} to wait for the socket); {@code close} closes the connection. The same stream each call.
     */
    public OutputStream outputStream() {
        lock.lock();
        try {
            if (outputStream == null) {
                outputStream = new Out();
            }
            return outputStream;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "BlockingConnection[" + connection + "]";
    }

    private final class In extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = BlockingConnection.this.read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return BlockingConnection.this.read(b, off, len);
        }

        @Override
        public int available() {
            return BlockingConnection.this.available();
        }

        @Override
        public void close() {
            BlockingConnection.this.close();
        }
    }

    private final class Out extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            BlockingConnection.this.write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            BlockingConnection.this.write(b, off, len);
        }

        @Override
        public void close() {
            BlockingConnection.this.close();
        }
    }

    /**
     * The connection's side of a direct send: a writer's thread sends with one non-blocking send(2) of its own
     * instead of handing the bytes to the loop (one loop wake-up and one copy less per write). {@link Connection}
     * provides it ({@link Connection#directSender}, implemented by {@code Outbound.trySendDirect}); the contract:
     * <ul>
     *   <li>Called on a thread that is not the loop, by a view that keeps its rule: nothing of the view is staged or
     *       being handed off, and no other direct send of the view runs.</li>
     *   <li>Sends a prefix of {@code src} with {@code send(fd, ..., MSG_NOSIGNAL | MSG_DONTWAIT)} if, and only if,
     *       checked atomically with respect to the loop's writes: plain TCP (no TLS), open and not closing, output not
     *       shut down, not corked, and the outbound queue empty (nothing the loop still has to send). While it runs
     *       the loop queues any write of its own instead of sending it, and does not close the fd (a close waits for
     *       it or leaves the close(2) to it), so the fd cannot be reused under it.</li>
     *   <li>Counts what it sent in {@code bytesWritten} (and reports it as a loop write would, for metrics and the
     *       write-idle timeout).</li>
     *   <li>Returns the bytes sent ({@code src}'s position advanced by as many), 0 if the socket took nothing
     *       (EAGAIN), or -1 if a condition failed or send(2) failed otherwise; the view then hands the rest to the
     *       loop, which sends it in order after the prefix, or meets the error and closes.</li>
     * </ul>
     */
    interface DirectSend {
        /**
         * Sends a prefix of {@code src} now, or nothing.
         *
         * @param src the bytes (heap or direct)
         * @return bytes sent, 0 on EAGAIN, -1 if not possible now
         */
        int trySend(ByteBuffer src);
    }

    /**
     * What a test hears from a view's {@link #probe}: moments it must wait for that have no event of their own (a
     * caller blocked inside a call, bytes buffered, writability as the view saw it). Calls come with the view's lock
     * held (except {@link #parking} before waiting for a loop task), so an implementation must be quick and must not
     * call into the view.
     */
    interface Probe {
        /**
         * The calling thread is about to park in {@code op}. Under the lock for a wait on a condition, so whatever
         * acts on the view after hearing this (a close, the peer's bytes) or interrupts the thread wakes that wait.
         */
        default void parking(String op) {
        }

        /** On the loop: the reactor buffered bytes; {@code available} can be read now. */
        default void received(int available) {
        }

        /** On the loop: the connection went above its high watermark ({@code false}) or back below its low. */
        default void writabilityChanged(boolean writable) {
        }
    }

    /**
     * The connection's side of a direct read: while the view has nothing buffered, a reader's thread takes the read
     * side for one blocking read, recv(2)s straight into the caller's buffer (no loop hand-off, no copy through the
     * view), and parks while the socket has nothing until the loop reports it readable. {@link Connection} provides it
     * ({@link Connection#directReader}, implemented by {@link Inbound}, whose class comment tells the protocol); the
     * contract:
     * <ul>
     *   <li>Called on a thread that is not the loop, by one reader of the view at a time.</li>
     *   <li>{@link #acquireDirect} succeeds only on an open plain-TCP (EDGE) connection whose input has not ended,
     *       reading is not paused (but for the view's own full-buffer pause) and the loop is not reading: from then
     *       until {@link #releaseDirect} the loop reads nothing (a read event only reports readiness), so bytes are
     *       never read by both and reordered, and the fd stays open (a close leaves close(2) to the last one out).</li>
     *   <li>{@link #recvDirect} counts what it reads in {@code bytesRead} and for the read-idle timeout.</li>
     *   <li>The end of the stream and errors go back to the loop ({@code releaseDirect(true)}), which ends the stream
     *       or fails the connection as its own read would; readiness reported after the last recv(2) does too.</li>
     * </ul>
     */
    interface DirectRead {
        /** {@link #recvDirect}: the peer's FIN (hand back: the loop ends the stream). */
        int EOF = -1;
        /** {@link #recvDirect}: recv(2) failed (hand back: the loop fails the connection with it). */
        int FAILED = -2;
        /** {@link #recvDirect} or the caller: a direct read is not possible now; the loop's way instead. */
        int DECLINED = -3;

        /**
         * Takes the read side for {@code reader}.
         *
         * @param reader the calling thread (the one a read event unparks)
         * @return false if not possible now: wait for what the loop buffers
         */
        boolean acquireDirect(Thread reader);

        /**
         * One non-blocking recv(2) into {@code dst} (heap buffers through a bounce buffer of the reactor); clears the
         * readiness reported so far. Makes no call, and answers 0, when the last one emptied the socket (a short
         * read) and no readiness was reported since: the caller parks, and the next event wakes it.
         *
         * @param dst where the bytes go (its position advances)
         * @return bytes read, 0 if the socket had none (EAGAIN, or known empty), {@link #EOF}, {@link #FAILED} or
         *         {@link #DECLINED}
         */
        int recvDirect(ByteBuffer dst);

        /**
         * The reader is about to park (after a recv that found nothing): from now on a read event unparks it.
         *
         * @return false if readiness was reported since the last recv: do not park, look again
         */
        boolean parkDirect();

        /**
         * Gives the read side back to the loop.
         *
         * @param handBack the last recv met the end of the stream or an error, or was declined: the loop then reads
         *                 (and handles what that recv met) whether or not readiness was reported since
         */
        void releaseDirect(boolean handBack);
    }

    /** The callbacks that feed a view; one per connection. */
    static final class Adapter implements ConnectionHandler {
        private final int inboundLimit;
        private final Duration readTimeout;
        private final Duration writeTimeout;
        private final Consumer<BlockingConnection> opened;
        private final boolean onReactor;
        volatile BlockingConnection view;

        Adapter(int inboundLimit, Duration readTimeout, Duration writeTimeout, Consumer<BlockingConnection> opened) {
            this(inboundLimit, readTimeout, writeTimeout, opened, false);
        }

        /** {@code onReactor}: {@code opened} serves the view on a thread its reactor carries. */
        Adapter(int inboundLimit, Duration readTimeout, Duration writeTimeout, Consumer<BlockingConnection> opened,
                boolean onReactor) {
            this.onReactor = onReactor;
            this.inboundLimit = inboundLimit;
            this.readTimeout = readTimeout;
            this.writeTimeout = writeTimeout;
            this.opened = opened;
        }

        @Override
        public void onOpen(Connection connection) {
            BlockingConnection v = new BlockingConnection(connection, inboundLimit, readTimeout, writeTimeout,
                    onReactor);
            view = v;
            if (opened != null) {
                opened.accept(v);
            }
        }

        @Override
        public void onData(Connection connection, ByteBuffer data) {
            view.received(data);
        }

        @Override
        public void onFileDescriptors(Connection connection, int[] fds) {
            view.receivedFds(fds); // the view's from here: kept for its reader, or closed
        }

        @Override
        public void onWritabilityChanged(Connection connection, boolean writable) {
            view.writabilityChanged(writable);
        }

        @Override
        public void onReadHangup(Connection connection) {
            view.inputEnded(); // the connection stays open for writing until the handler closes it
        }

        /** A connect gave up on {@code connection}: the view, never handed out, closes with its fds. */
        void abandon(Connection connection) {
            BlockingConnection v = view;
            if (v != null) {
                v.abort();
            } else {
                connection.abort();
            }
        }

        @Override
        public void onClose(Connection connection, Throwable cause) {
            BlockingConnection v = view;
            if (v != null) {
                v.endedWith(cause);
            }
        }
    }
}
