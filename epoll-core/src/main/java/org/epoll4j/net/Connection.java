package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.FdReusedException;
import org.epoll4j.Handler;
import org.epoll4j.Interest;
import org.epoll4j.Reactor;
import org.epoll4j.Ready;
import org.epoll4j.Registration;
import org.epoll4j.Timeout;
import org.epoll4j.TriggerMode;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.SockAddr;
import org.epoll4j.internal.Sockets;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;

/**
 * One non-blocking stream connection (TCP or Unix-domain) on a {@link Reactor}.
 *
 * <p><b>Reads</b> go into a buffer shared by all connections of the reactor and are handed to
 * {@link ConnectionHandler#onData}; a read shorter than the buffer ends the turn (no extra read just to see EAGAIN),
 * except when the peer's FIN came with the event. {@link #pauseReading()} stops reading (backpressure toward the
 * peer). <b>Writes</b> go straight to the socket when nothing is queued; what the socket does not take is copied
 * into the connection's queue and sent with gathering writes when it becomes writable. Crossing the high watermark
 * turns the connection unwritable ({@link ConnectionHandler#onWritabilityChanged}); bytes are never dropped.
 * Sends use MSG_NOSIGNAL: a peer that resets never raises SIGPIPE; the connection closes with EPIPE or ECONNRESET.
 *
 * <p>Methods are safe from any thread: off the reactor's thread, {@link #write} copies the bytes and hands them to
 * the reactor in call order, and {@link #close()} and friends are queued likewise.
 *
 * <p><b>TLS</b> ({@link TcpServer.Builder#tls}, {@link TcpClient.Builder#tls}): the handler reads and writes
 * plaintext; writes are encrypted as the socket drains, so {@link #queuedBytes()} and the watermarks count plaintext
 * (plus at most one batch's record overhead). {@link #bytesRead()} and {@link #bytesWritten()} count what crossed
 * the socket (ciphertext, handshake included). {@link #close()} sends close_notify after the queued bytes and waits
 * (bounded) for the peer's; {@code sendFile} reads, encrypts and sends the file in bounded batches instead of
 * sendfile(2).
 */
public final class Connection {
    private static final System.Logger LOG = System.getLogger(Connection.class.getName());
    private static final Interest READ_INTEREST = Interest.READ.with(Interest.READ_HANGUP);
    /*
     * EDGE also watches EPOLLPRI: urgent data (MSG_OOB) makes a read stop short at the urgent mark with ordinary
     * bytes behind it, so an event carrying PRI reads until EAGAIN instead of trusting the short read. (Not under
     * LEVEL: there PRI stays raised while the urgent byte waits, and LEVEL reports the bytes after the mark again
     * anyway.)
     */
    private static final Interest EDGE_INTEREST = READ_INTEREST.with(Interest.WRITE).with(Interest.PRIORITY);

    private final Reactor reactor;
    private final NetContext ctx;
    private final int fd;
    private final ConnectionConfig config;
    private final ConnectionHandler handler;
    private final TcpServer server;
    private final boolean edge;
    private final IdleTimer idle;
    private final Outbound out;
    private final Runnable readAgain = this::readAgain;
    /** The TLS engine driver, or null for plaintext. */
    private final Tls tls;
    /** TLS close: close_notify sent and the queue drained; waiting for the peer's close_notify. */
    private boolean awaitingCloseNotify;
    private Registration registration;
    private CompletableFuture<Connection> connectFuture;
    private Timeout connectTimer;
    /** A graceful close's wait for the peer's EOF after half-closing (see close()). */
    private Timeout lingerTimer;
    /** Whether the server counted this connection as open (so that closing it is counted too). */
    private boolean countedOpen;

    /*
     * State the getters expose is volatile: the loop thread is its only writer, so a plain volatile write suffices
     * (no CAS), and another thread reading isWritable()/bytesRead()... sees a current value. The rest is loop-only.
     */
    private volatile boolean closed;
    private boolean connecting;
    private boolean closing;
    private boolean shutdownPending;
    private volatile boolean outputShutdown;
    private volatile boolean inputClosed;
    /** EPOLLHUP seen: the peer is gone; what it sent is read to the end, then the connection closes. */
    private boolean hungUp;
    /** A LEVEL connection switched to EDGE because of a HUP it could not mask (see afterHangup). */
    private boolean parked;
    /** The {@link ReadPause} reasons in effect, one bit each; reading is paused while any is set. */
    private volatile int readPauses;
    private Throwable closeCause;
    private volatile long bytesRead;
    /** Captured at accept (from accept4's sockaddr) or connect; asked for lazily only when that could not be. */
    private volatile SocketAddress localAddress;
    private volatile SocketAddress remoteAddress;
    /** An accepted IPv4 peer, packed ({@code SockAddr.packInet4}) until {@link #remoteAddress()} is first asked. */
    private final long remoteInet4;
    private volatile Object attachment;
    /** The decoding handler serving this connection, if any (it holds frames back while reading is paused). */
    DecodingHandler decodingHandler;
    /** The connection's offload, if any: outstanding results delay a graceful close (Offload.closeGracefully). */
    Offload offload;

    private Connection(Reactor reactor, int fd, ConnectionConfig config, ConnectionHandler handler, TcpServer server,
                       SocketAddress remote, long remoteInet4, TlsConfig tlsConfig) {
        this.reactor = reactor;
        this.remoteAddress = remote;
        this.remoteInet4 = remoteInet4;
        this.ctx = NetContext.of(reactor);
        this.fd = fd;
        this.config = config;
        this.handler = handler;
        this.server = server;
        this.edge = config.trigger() == TriggerMode.EDGE;
        this.idle = config.hasIdleTimeouts() ? new IdleTimer(this, config) : null;
        this.out = new Outbound(new OutboundOwner(), ctx, fd, config, idle);
        this.tls = tlsConfig != null ? new Tls(this, tlsConfig, ctx) : null;
    }

    /**
     * Wraps an accepted socket; on the reactor thread. If this throws, the fd is still the caller's to close;
     * once it returns the connection owns the fd (and has closed it already if opening failed).
     */
    static Connection accepted(Reactor reactor, int fd, SocketAddress remote, long remoteInet4, SocketAddress local,
                               ConnectionConfig config, ConnectionHandler handler, TcpServer server,
                               TlsConfig tlsConfig) throws EpollException {
        Connection c = new Connection(reactor, fd, config, handler, server, remote, remoteInet4, tlsConfig);
        c.localAddress = local;
        c.registration = reactor.register(fd, c.edge ? EDGE_INTEREST : READ_INTEREST, config.trigger(), c.io);
        c.opened();
        return c;
    }

    /** Wraps a connecting client socket; on the reactor thread. */
    static Connection connecting(Reactor reactor, int fd, SocketAddress remote, ConnectionConfig config,
                                 ConnectionHandler handler, CompletableFuture<Connection> future,
                                 Duration connectTimeout, TlsConfig tlsConfig) {
        Connection c;
        try {
            c = new Connection(reactor, fd, config, handler, null, remote, -1, tlsConfig);
        } catch (Throwable e) {
            Sockets.closeQuietly(fd);
            future.completeExceptionally(e);
            return null;
        }
        c.connectFuture = future;
        try {
            boolean now = Sockets.connect(fd, remote);
            c.connecting = !now;
            c.registration = reactor.register(fd, c.edge ? EDGE_INTEREST : now ? READ_INTEREST : Interest.WRITE,
                    config.trigger(), c.io);
            if (now) {
                c.opened();
            } else if (connectTimeout != null && !connectTimeout.isZero()) {
                c.connectTimer = reactor.schedule(connectTimeout, () -> {
                    c.connectTimer = null;
                    if (c.connecting) {
                        c.closeNow(new EpollException("connect(fd=" + fd + ", " + remote + ") after "
                                + connectTimeout.toMillis() + " ms", Errno.ETIMEDOUT));
                    }
                });
            }
        } catch (Throwable e) {
            c.closeNow(e);
        }
        return c;
    }

    /** Never throws: a failure here closes the connection (which owns its fd by now) with that cause. */
    private void opened() {
        try {
            if (localAddress == null && server == null) {
                localAddress = Sockets.localAddress(fd); // a client's: the port the kernel picked at connect
            }
            if (idle != null && tls == null) {
                idle.start(); // under TLS once the handshake finished: its own timeout covers the handshake
            }
            if (tls != null) {
                tls.start(); // onOpen follows when the handshake finishes, and then publication
                return;
            }
            publish();
        } catch (Throwable t) {
            closeNow(t);
            return;
        }
        notifyOpen();
    }

    /**
     * Makes the connection one of its server's {@code connections()} (and so reachable by broadcasts). A TLS
     * connection is published only after onOpen: a broadcast during its handshake would be held with the handshake
     * and overtake the greeting onOpen writes.
     */
    private void publish() {
        if (server != null && !closed) {
            server.connectionOpened(this);
            countedOpen = true;
        }
    }

    /** Runs onOpen, then completes a client's future; a throwing onOpen closes (and fails the future). */
    private void notifyOpen() {
        try {
            handler.onOpen(this);
        } catch (Throwable t) {
            closeNow(t);
            return;
        }
        // after onOpen, as TcpClient promises; a throwing onOpen failed the future with its throwable (in finish)
        if (connectFuture != null && !closed) {
            connectFuture.complete(this);
        }
    }

    // ------------------------------------------------------------------ events

    private final Handler io = new Handler() {
        @Override
        public void onReady(Registration reg, Ready ready) throws Exception {
            try {
                dispatch(ready);
            } catch (javax.net.ssl.SSLException e) {
                if (tls == null || !tls.isPeerFailure(e)) {
                    throw e; // the handler's own: a handler failure
                }
                tlsFailed(e);
            }
        }

        private void dispatch(Ready ready) throws Exception {
            if (connecting) {
                finishConnect();
                if (closed) {
                    return;
                }
                // Go on with the same event: bytes (or a FIN) that came with the connect completion must be read
                // now, since under EDGE this event is the only notice of them.
            }
            if (ready.isHangup() && !ready.isError()) {
                hungUp = true;
            }
            if ((ready.isReadable() || ready.isReadHangup() || hungUp || ready.isError()) && canRead()) {
                read(ready.isReadHangup() || hungUp || ready.isError() || ready.isPriority());
            }
            if (closed) {
                return;
            }
            if (ready.isWritable()) {
                out.onWritable();
            }
            if (closed) {
                return;
            }
            if (ready.isError()) {
                int err = Sockets.soError(fd);
                closeNow(err != 0 ? new EpollException("socket error on fd " + fd, err) : hangupCause());
            } else if (hungUp) {
                afterHangup();
            }
        }

        @Override
        public void onClosed(Registration reg, Throwable cause) {
            if (!closed) {
                closed = true;
                closeCause = cause;
                // Ended by the fd-reuse check: our fd was closed behind our back and its number belongs to a new
                // owner now. Closing it would close theirs.
                finish(!(cause instanceof FdReusedException));
            }
        }
    };

    private void finishConnect() {
        connecting = false;
        cancelConnectTimer();
        int err;
        try {
            err = Sockets.soError(fd);
        } catch (EpollException e) {
            closeNow(e);
            return;
        }
        if (err != 0) {
            closeNow(new EpollException("connect(fd=" + fd + ", " + remoteAddress + ")", err));
            return;
        }
        interestChanged();
        if (!closed) {
            opened();
        }
    }

    /** Whether the connection reads now: not paused and input not ended. */
    private boolean canRead() {
        return !inputEnded() && (readPauses & pausesInEffect()) == 0;
    }

    /**
     * The pause reasons that stop reading now: all of them, except during a graceful close, which reads (and
     * discards) whatever the peer sends until its EOF or close_notify: only a TLS task still stops it then.
     */
    private int pausesInEffect() {
        return closing ? ReadPause.TLS_TASK.bit() : -1;
    }

    /** Whether reading stopped for good: the peer's FIN was read, or close() stopped reading. */
    private boolean inputEnded() {
        return inputClosed; // a graceful close reads on: see close()
    }

    /** Whether writes are refused: closed, closing gracefully, or output shut down (or about to be). */
    private boolean outputEnded() {
        return closed || closing || outputShutdown || shutdownPending;
    }

    /**
     * The peer hung up (EPOLLHUP without EPOLLERR): both directions are gone, but bytes it sent may still be in the
     * kernel. They are read to the end first (honouring the read budget and pauses); once EOF was read (or reading
     * stopped for good because of close()) the connection closes.
     */
    private void afterHangup() {
        if (inputEnded()) {
            closeNow(hangupCause());
        } else if (readPauses != 0 && !edge && !parked) {
            // LEVEL reports a HUP for as long as it lasts and epoll cannot mask it: under LEVEL with nothing to
            // read the loop would spin. Switch to EDGE (it reports the HUP once) until resumeReading().
            try {
                registration.triggerMode(TriggerMode.EDGE);
                parked = true;
            } catch (EpollException e) {
                closeNow(e);
            }
        }
    }

    /** null when nothing is lost; EPIPE when queued bytes cannot reach a peer that hung up. */
    private EpollException hangupCause() {
        return out.isEmpty() ? null : new EpollException("send(fd=" + fd + "): peer hung up with "
                + out.queuedBytes() + " bytes unsent", Errno.EPIPE);
    }

    /** Whether reading continues by tasks (EDGE, or a hung-up LEVEL connection switched to EDGE). */
    private boolean selfDriven() {
        return edge || parked;
    }

    private void read(boolean drain) throws Exception {
        int budget = config.readBudget();
        ByteBuffer buf = ctx.readBuffer;
        long addr = ctx.readAddress;
        int cap = buf.capacity();
        while (true) {
            long n = LibC.read(fd, addr, cap);
            if (n > 0) {
                bytesRead += n;
                if (idle != null) {
                    idle.read();
                }
                buf.clear().limit((int) n);
                if (tls != null) {
                    tls.onNetData(buf);
                } else if (!closing) {
                    handler.onData(this, buf);
                } // else: a graceful close discards what the peer still sends (see close())
                if (closed || !canRead()) {
                    return;
                }
                if (n < cap && !drain) {
                    return;
                }
                if (--budget == 0) {
                    if (selfDriven()) {
                        // EDGE will not report the unread rest again: come back after other work.
                        later(readAgain);
                    }
                    return;
                }
            } else if (n == 0) {
                peerShutdown();
                return;
            } else {
                int err = LibC.errno();
                if (err == Errno.EAGAIN) {
                    if (hungUp) {
                        peerShutdown(); // nothing more can come from a peer that hung up
                    }
                    return;
                }
                if (err != Errno.EINTR) {
                    closeNow(new EpollException("read(fd=" + fd + ")", err));
                    return;
                }
            }
        }
    }

    /** Queues a continuation on the loop; a closing reactor refuses it, and then ends the connection anyway. */
    private void later(Runnable task) {
        try {
            reactor.execute(task);
        } catch (RejectedExecutionException closing) {
            // the reactor's close ends this connection
        }
    }

    private void readAgain() {
        if (closed || connecting) {
            return;
        }
        try {
            if (canRead() && tls != null && tls.hasBuffered()) {
                tls.onNetData(EMPTY); // records left unread by a pause or a delegated task
            }
            if (canRead() && !closed) {
                read(true);
            }
            if (hungUp && !closed) {
                afterHangup();
            }
        } catch (Throwable t) {
            fail(t);
        }
    }

    private void peerShutdown() throws Exception {
        if (tls != null && !tls.inboundDone()) {
            if (!closing) {
                Exception eof = tls.eofCause(); // a FIN without close_notify: what came may have been cut short
                if (tls.handshakeDone()) {
                    closeNow(eof);
                } else {
                    tlsFailed(eof);
                }
                return;
            }
            // close() already stopped delivering: the FIN only ends the wait for close_notify once all is sent
            inputClosed = true;
            interestChanged();
            if (out.isEmpty() && tls.allWrapped()) {
                closeNow(null);
            }
            return;
        }
        inputClosed = true;
        if (closing) {
            // the EOF a lingering close waits for; while the queue still drains, the drain closes
            if (outputShutdown) {
                closeNow(null);
            } else {
                interestChanged();
            }
            return;
        }
        handler.onReadHangup(this);
        if (!closed) {
            // After the handler: its usual answer (close) ends the registration, and dropping the read interest
            // first would be an epoll_ctl for a registration about to go.
            interestChanged();
        }
    }

    // ------------------------------------------------------------------ writes (the work is Outbound's)

    /**
     * Writes {@code src}'s remaining bytes: straight to the socket when nothing is queued, the rest queued. On
     * return {@code src} is fully consumed (its position at its limit). Never blocks and never drops bytes; check
     * {@link #isWritable()} or {@link ConnectionHandler#onWritabilityChanged} to bound memory.
     *
     * @param src the bytes; heap or direct
     * @throws ClosedConnectionException if the connection is closed, closing, or its output was shut down
     */
    public void write(ByteBuffer src) {
        if (!reactor.inEventLoop()) {
            checkWritable("write");
            byte[] copy = new byte[src.remaining()];
            src.get(copy);
            onLoop(() -> {
                if (!outputEnded()) {
                    writeOnLoop(ByteBuffer.wrap(copy));
                }
            });
            return;
        }
        checkWritable("write");
        writeOnLoop(src);
    }

    private void writeOnLoop(ByteBuffer src) {
        if (tls == null) {
            out.write(src);
            return;
        }
        try {
            tls.write(src);
        } catch (Throwable t) {
            closeNow(t);
        }
    }

    /**
     * Writes {@code bytes}.
     *
     * @param bytes the bytes
     * @throws ClosedConnectionException as for {@link #write(ByteBuffer)}
     */
    public void write(byte[] bytes) {
        write(ByteBuffer.wrap(bytes));
    }

    /**
     * Writes {@code text} as UTF-8.
     *
     * @param text the text
     * @throws ClosedConnectionException as for {@link #write(ByteBuffer)}
     */
    public void write(String text) {
        write(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Writes the remaining bytes of every buffer, in order, as one unit: on the loop thread they go out together
     * (one send when they fit the socket, instead of one per part); from another thread they are copied into one
     * task, so no other thread's write lands between them. Each buffer is fully consumed on return.
     *
     * @param srcs the parts, heap or direct
     * @throws ClosedConnectionException as for {@link #write(ByteBuffer)}
     */
    public void write(ByteBuffer... srcs) {
        if (!reactor.inEventLoop()) {
            checkWritable("write");
            long total = 0;
            for (ByteBuffer b : srcs) {
                total += b.remaining();
            }
            if (total > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("write: " + total + " bytes in one gathering write from another "
                        + "thread; split it");
            }
            ByteBuffer copy = ByteBuffer.allocate((int) total);
            for (ByteBuffer b : srcs) {
                copy.put(b);
            }
            write(copy.flip());
            return;
        }
        checkWritable("write");
        if (tls == null) {
            out.writeAll(srcs);
            return;
        }
        boolean wasCorked = tls.isCorked();
        tls.cork(); // one unit: wrapped together into as few records as fit
        for (ByteBuffer b : srcs) {
            writeOnLoop(b);
        }
        if (!wasCorked) {
            tlsUncork();
        }
    }

    /**
     * Holds writes back: until {@link #uncork()}, {@link #write} and {@code sendFile} only queue (copying into the
     * connection's pooled chunks), so that a response written in many parts leaves in one gathering send. Like
     * TCP_CORK, but in user space: the parts cost no system call until uncorked. {@link #close()} and
     * {@link #shutdownOutput()} uncork. Idempotent; safe from any thread (ordered with writes from that thread).
     */
    public void cork() {
        onLoop(tls == null ? out::cork : tls::cork);
    }

    /** Sends what {@link #cork()} held back (one gathering send for what the socket takes) and writes straight again. */
    public void uncork() {
        onLoop(tls == null ? out::uncork : this::tlsUncork);
    }

    private void tlsUncork() {
        try {
            tls.uncork(); // the held plaintext is wrapped once, then goes out in one send when it fits
        } catch (Throwable t) {
            closeNow(t);
        }
    }

    /** Whether {@link #cork()} is in effect. */
    public boolean isCorked() {
        return tls == null ? out.isCorked() : tls.isCorked();
    }

    private void checkWritable(String op) {
        if (outputEnded()) {
            throw new ClosedConnectionException(op + (closed || closing ? " on closed " : " after shutdownOutput() on ")
                    + this);
        }
    }

    /**
     * Sends {@code count} bytes of the file at {@code path} from {@code position} with sendfile(2): the bytes go
     * from the page cache to the socket without passing through Java. Queued in order with other writes.
     *
     * @param path     a regular file
     * @param position the first byte to send
     * @param count    how many bytes
     * @throws IllegalArgumentException  if {@code path} is not a regular file (a FIFO or device could block the
     *                                   reactor in open(2))
     * @throws IOException               if the file cannot be opened
     * @throws ClosedConnectionException as for {@link #write(ByteBuffer)}
     */
    public void sendFile(Path path, long position, long count) throws IOException {
        checkRange(position, count);
        // open(2) of a FIFO or a device can block (a FIFO until a writer comes): that would stall the whole reactor.
        if (!java.nio.file.Files.isRegularFile(path)) {
            throw new IllegalArgumentException("sendFile: " + path + " is not a regular file");
        }
        if (tls != null) {
            // TLS cannot use sendfile(2): the bytes are read, encrypted and sent in bounded batches
            enqueueFile(-1, FileChannel.open(path, java.nio.file.StandardOpenOption.READ), true, position, count);
            return;
        }
        // O_NONBLOCK too, in case the path was swapped for a FIFO since the check; sendfile(2) then fails cleanly.
        int file = LibC.open(path.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC | LibC.O_NONBLOCK);
        if (file < 0) {
            throw new EpollException("open(" + path + ", O_RDONLY|O_NONBLOCK)", LibC.errno());
        }
        enqueueFile(file, null, false, position, count);
    }

    /**
     * Sends {@code count} bytes of {@code channel} from {@code position}: read with positional reads into the
     * reactor's 64 KiB bounce buffer and sent from there (the JDK does not expose a FileChannel's fd, so sendfile(2)
     * is kept for {@link #sendFile(Path, long, long)}; no memory mapping, so nothing waits for GC). The channel must
     * stay open until the bytes are sent; the caller closes it.
     *
     * @param channel  a readable file channel
     * @param position the first byte to send
     * @param count    how many bytes
     * @throws ClosedConnectionException as for {@link #write(ByteBuffer)}
     */
    public void sendFile(FileChannel channel, long position, long count) {
        checkRange(position, count);
        enqueueFile(-1, channel, false, position, count);
    }

    private static void checkRange(long position, long count) {
        if (position < 0 || count < 0) {
            throw new IllegalArgumentException("sendFile: position and count must be >= 0: position=" + position
                    + ", count=" + count);
        }
    }

    /** Queues a file region; {@code file} (opened by sendFile(Path), else -1) is closed wherever it is not queued. */
    private void enqueueFile(int file, FileChannel channel, boolean ownsChannel, long position, long count) {
        try {
            checkWritable("sendFile");
        } catch (ClosedConnectionException e) {
            closeIfOpened(file, channel, ownsChannel);
            throw e;
        }
        Runnable enqueue = () -> {
            if (outputEnded()) {
                closeIfOpened(file, channel, ownsChannel);
            } else if (tls != null) {
                try {
                    tls.addFile(channel, ownsChannel, position, count);
                } catch (Throwable t) {
                    closeNow(t);
                }
            } else {
                out.addFile(file, channel, position, count);
            }
        };
        if (!tryOnLoop(enqueue)) {
            closeIfOpened(file, channel, ownsChannel); // the task will never run: the file is still ours
            throwIfRejectedWhileOpen();
        }
    }

    private static void closeIfOpened(int file, FileChannel channel, boolean ownsChannel) {
        if (file >= 0) {
            LibC.close(file);
        }
        if (ownsChannel) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // read-only
            }
        }
    }

    // ------------------------------------------------------------------ flow control and closing

    /**
     * Stops reading: the kernel buffers fill and TCP pushes back on the peer. Idempotent. The library pauses reading
     * for reasons of its own too (a TLS delegated task running, an {@link Offload} at its limit); reading resumes
     * only when {@link #resumeReading()} was called and no such reason holds either.
     */
    public void pauseReading() {
        pauseReading(ReadPause.USER);
    }

    /** Resumes reading after {@link #pauseReading()}; anything that arrived meanwhile is delivered. */
    public void resumeReading() {
        resumeReading(ReadPause.USER);
    }

    /** Adds {@code reason} to the reasons reading is paused for. Idempotent per reason; safe from any thread. */
    void pauseReading(ReadPause reason) {
        onLoop(() -> pauseOnLoop(reason));
    }

    /** Removes {@code reason}; reading resumes if no other reason holds. Idempotent per reason; any thread. */
    void resumeReading(ReadPause reason) {
        onLoop(() -> resumeOnLoop(reason));
    }

    private void pauseOnLoop(ReadPause reason) {
        int before = readPauses;
        readPauses = before | reason.bit();
        if (before == 0) {
            interestChanged();
        }
    }

    private void resumeOnLoop(ReadPause reason) {
        int before = readPauses;
        if ((before & reason.bit()) == 0) {
            return;
        }
        readPauses = before & ~reason.bit();
        if (readPauses != 0 || closed) {
            return;
        }
        resumedDecoder(); // frames a decoder held back go before anything read from now on
        if (readPauses != 0 || closed) {
            return; // a held frame paused reading again
        }
        if (selfDriven() || tls != null) {
            // an edge may have come and gone while paused; TLS may hold whole records already read
            later(readAgain);
        }
        if (!selfDriven()) {
            updateInterest();
        }
    }

    /** Offloaded results that could not be delivered because the reactor closed: counted by the server. */
    void offloadResultDropped(int n) {
        if (server != null) {
            server.offloadResultsDropped.add(n);
        }
    }

    /** Lets a decoding handler deliver the frames it held back while reading was paused (before reading again). */
    private void resumedDecoder() {
        if (decodingHandler != null) {
            decodingHandler.readingResumed(this);
        }
    }

    /**
     * Half-closes: sends FIN after every queued byte; the connection can still read. Further writes fail.
     */
    public void shutdownOutput() {
        onLoop(() -> {
            if (closed || outputShutdown || shutdownPending) {
                return;
            }
            if (tls != null && tls.handshakeDone()) {
                try {
                    tls.requestClose(); // close_notify after what is held, then the FIN (TLS 1.3 half-close)
                } catch (Throwable t) {
                    closeNow(t);
                    return;
                }
                if (closed) {
                    return;
                }
                if (out.isEmpty() && tls.allWrapped()) {
                    doShutdownOutput();
                } else {
                    shutdownPending = true;
                }
                return;
            }
            boolean wasCorked = out.uncorkForEnd();
            if (out.isEmpty()) {
                doShutdownOutput();
            } else {
                shutdownPending = true;
                if (wasCorked) {
                    out.flushNowOrLater();
                }
            }
        });
    }

    private void doShutdownOutput() {
        shutdownPending = false;
        outputShutdown = true;
        if (LibC.shutdown(fd, LibC.SHUT_WR) != 0) {
            int err = LibC.errno();
            if (err != Errno.ENOTCONN) {
                closeNow(new EpollException("shutdown(fd=" + fd + ", SHUT_WR)", err));
                return;
            }
        }
        if (inputClosed && out.isEmpty()) {
            closeNow(null); // both directions done
        }
    }

    /**
     * Closes gracefully, with a lingering close: stops delivering data (what the peer still sends is read and
     * discarded), sends every queued byte, half-closes (FIN), then waits for the peer's EOF at most
     * {@link ConnectionConfig#lingerTimeout()} (default 2 s) before closing the socket. Closing at once would lose
     * the end of the response when the peer sent anything after close() was asked (a pipelined request after a
     * {@code Connection: close} answer): Linux answers close(2) on a socket with unread bytes with a reset, which
     * discards what is still in the send buffer. Under TLS, close_notify goes after the queued bytes and the peer's
     * close_notify (or EOF) ends the wait, bounded by {@link TlsConfig#closeNotifyTimeout}.
     * {@link ConnectionHandler#onClose} follows with a {@code null} cause (or the error that interrupted it). A peer
     * that never reads keeps the connection draining until an idle timeout or {@link #abort()}. Idempotent.
     *
     * <p>The three ways to end a connection: {@code close()} (graceful, lingering), {@link #abort()} (at once, with
     * a reset: SO_LINGER 0), {@link #closeWith(Throwable)} (at once, queued bytes dropped, the cause reported). The
     * socket's own {@link SockOpt#SO_LINGER} is not needed for any of them: the library never blocks in
     * close(2), and a positive SO_LINGER would make close(2) block the reactor thread.
     */
    public void close() {
        onLoop(() -> {
            if (closed) {
                return;
            }
            if (tls != null) {
                if (!tls.handshakeDone()) {
                    closeNow(null); // nothing of the application's was exchanged yet
                    return;
                }
                closing = true;
                try {
                    tls.requestClose(); // close_notify after every byte written so far
                } catch (Throwable t) {
                    closeNow(t);
                    return;
                }
                if (!closed && out.isEmpty() && tls.allWrapped()) {
                    closeDrained();
                } else if (!closed) {
                    interestChanged();
                }
                return;
            }
            boolean wasCorked = out.uncorkForEnd();
            if (out.isEmpty()) {
                closing = true;
                closeDrained();
            } else if (!closing) {
                closing = true;
                if (wasCorked) {
                    out.flushNowOrLater(); // no EPOLLOUT edge is coming for bytes held back by the cork
                } else {
                    interestChanged();
                }
            }
        });
    }

    /** Closes at once with a reset (SO_LINGER 0 then close: the peer sees ECONNRESET); queued bytes are dropped. */
    public void abort() {
        onLoop(() -> {
            if (!closed) {
                try {
                    Sockets.lingerZero(fd);
                } catch (EpollException ignored) {
                    // the socket is going away either way
                }
                closeNow(null);
            }
        });
    }

    /**
     * Closes at once, dropping queued bytes, and reports {@code cause} to {@link ConnectionHandler#onClose}.
     *
     * @param cause why, or {@code null}
     */
    public void closeWith(Throwable cause) {
        onLoop(() -> closeNow(cause));
    }

    /**
     * A graceful close sent everything. Plain: half-close and linger (read and discard until the peer's EOF, at
     * most the linger timeout), then close; at once if the peer's EOF came already or the linger is zero. TLS: the
     * same, with the peer's close_notify (or EOF) ending the wait, bounded by the close_notify timeout.
     */
    private void closeDrained() {
        if (tls != null) {
            if (inputClosed || tls.inboundDone()) {
                closeNow(null);
            } else if (!awaitingCloseNotify) {
                awaitingCloseNotify = true;
                halfCloseForLinger();
                if (!closed) {
                    tls.awaitCloseNotify();
                }
            }
            return;
        }
        java.time.Duration linger = config.lingerTimeout();
        if (inputClosed || linger.isZero()) {
            closeNow(null);
            return;
        }
        if (lingerTimer != null || outputShutdown) {
            return; // lingering already
        }
        halfCloseForLinger();
        if (!closed) {
            lingerTimer = reactor.schedule(linger, () -> {
                lingerTimer = null;
                closeNow(null);
            });
        }
    }

    /** The FIN after everything sent: the peer reads to the end, and its EOF (or close_notify) ends the linger. */
    private void halfCloseForLinger() {
        outputShutdown = true;
        if (LibC.shutdown(fd, LibC.SHUT_WR) != 0) {
            int err = LibC.errno();
            if (err != Errno.ENOTCONN) {
                closeNow(new EpollException("shutdown(fd=" + fd + ", SHUT_WR)", err));
                return;
            }
            closeNow(null); // the peer is gone already: nothing to linger for
            return;
        }
        interestChanged();
    }

    private void closeNow(Throwable cause) {
        if (closed) {
            return;
        }
        closed = true;
        closeCause = cause;
        if (registration != null && registration.isValid()) {
            registration.cancel();
        }
        finish(true);
    }

    private void finish(boolean ownsFd) {
        out.clear();
        if (tls != null) {
            tls.closed();
        }
        if (idle != null) {
            idle.stop();
        }
        cancelConnectTimer();
        if (lingerTimer != null) {
            lingerTimer.cancel();
            lingerTimer = null;
        }
        if (ownsFd) {
            LibC.close(fd);
        }
        if (countedOpen) {
            server.connectionClosed(this);
        }
        if (offload != null) {
            offload.connectionClosed(closeCause); // counts results a closing reactor can no longer deliver
        }
        if (connectFuture != null && !connectFuture.isDone()) {
            connectFuture.completeExceptionally(closeCause != null ? closeCause
                    : new ClosedConnectionException("closed before connecting: " + this));
        }
        if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
            LOG.log(System.Logger.Level.DEBUG, "closed fd " + fd + " (peer " + remoteAddress() + "), read "
                    + bytesRead() + " B, wrote " + bytesWritten() + " B: "
                    + (closeCause == null ? "no error" : closeCause.toString()));
        }
        try {
            handler.onClose(this, closeCause);
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.WARNING, "onClose of " + this + " failed", t);
        }
    }

    private void cancelConnectTimer() {
        if (connectTimer != null) {
            connectTimer.cancel();
            connectTimer = null;
        }
    }

    /**
     * The state that decides what to watch changed. Only LEVEL's interest follows it: EDGE registers for
     * everything once (no epoll_ctl per change) and continues reading and flushing by tasks instead.
     */
    private void interestChanged() {
        if (!edge) {
            updateInterest();
        }
    }

    private void updateInterest() {
        if (registration == null || !registration.isValid()) {
            return;
        }
        Interest want = connecting ? Interest.WRITE : canRead() ? READ_INTEREST : Interest.NONE;
        if (out.wantsWrite()) {
            want = want.with(Interest.WRITE);
        }
        try {
            registration.interest(want);
        } catch (EpollException e) {
            closeNow(e);
        }
    }

    /** Runs {@code action} on the reactor thread: now if this is it, else queued. */
    private void onLoop(Runnable action) {
        if (!tryOnLoop(action)) {
            throwIfRejectedWhileOpen();
        }
    }

    /** Runs or queues {@code action} like {@link #onLoop}; {@code false} if the reactor refused it (closing). */
    private boolean tryOnLoop(Runnable action) {
        if (reactor.inEventLoop()) {
            action.run();
            return true;
        }
        try {
            reactor.execute(() -> {
                try {
                    action.run();
                } catch (Throwable t) {
                    closeNow(t);
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    private void throwIfRejectedWhileOpen() {
        if (!closed) {
            throw new ClosedConnectionException("reactor of " + this + " is closed");
        }
    }

    /** Closes at once with {@code cause}; for helpers on the loop thread (idle timer, TLS). */
    void fail(Throwable cause) {
        if (tls != null && tls.isPeerFailure(cause)) {
            tlsFailed(cause);
        } else {
            closeNow(cause);
        }
    }

    /** Write system calls (send, sendmsg, sendfile) made so far; tests check corking with it. */
    long writeCalls() {
        return out.writeCalls();
    }

    /** The most write calls one flush of the queue has made (tests check the write budget with it). */
    int maxWriteCallsPerFlush() {
        return out.maxWriteCallsPerFlush();
    }

    /** The connection side of {@link Outbound}: its only implementation. */
    private final class OutboundOwner implements Outbound.Owner {
        @Override
        public boolean connecting() {
            return connecting;
        }

        @Override
        public boolean closed() {
            return closed;
        }

        @Override
        public boolean selfDriven() {
            return Connection.this.selfDriven();
        }

        @Override
        public void later(Runnable task) {
            Connection.this.later(task);
        }

        @Override
        public void fail(Throwable cause) {
            closeNow(cause);
        }

        @Override
        public void interestChanged() {
            Connection.this.interestChanged();
        }

        @Override
        public long held() {
            return tls == null ? 0 : tls.heldBytes();
        }

        @Override
        public void refill() {
            if (tls != null) {
                try {
                    tls.pump();
                } catch (Throwable t) {
                    closeNow(t);
                }
            }
        }

        @Override
        public void drained() {
            afterDrain();
        }

        @Override
        public void writabilityChanged(boolean writable) {
            try {
                handler.onWritabilityChanged(Connection.this, writable);
            } catch (Throwable t) {
                closeNow(t);
            }
        }
    }

    // ------------------------------------------------------------------ TLS callbacks (from Tls, on the loop)

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    void tlsHandshakeFinished() {
        if (idle != null) {
            idle.start(); // onIdle never comes before onOpen
        }
        notifyOpen();
        publish();
    }

    /**
     * The TLS engine failed on what the peer sent (a plaintext client, no common protocol, a bad certificate or
     * record), the handshake timed out, or the peer left mid-handshake: peer trouble, so a connection event (DEBUG,
     * the server's {@code tlsHandshakeFailures}) rather than a handler failure.
     */
    private void tlsFailed(Throwable cause) {
        if (closed) {
            return;
        }
        if (!tls.handshakeDone() && server != null) {
            server.tlsHandshakeFailed();
        }
        if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
            LOG.log(System.Logger.Level.DEBUG, "TLS " + (tls.handshakeDone() ? "" : "handshake ") + "with "
                    + remoteAddress() + " on fd " + fd + " failed: " + cause);
        }
        closeNow(cause);
    }

    /** Decrypted bytes for the handler (none after close(): the connection only waits for close_notify then). */
    void tlsData(ByteBuffer plain) throws Exception {
        if (!closing) {
            handler.onData(this, plain);
        }
    }

    /** Whether unwrapping should go on: not paused (a graceful close reads on for close_notify). */
    boolean tlsWantsData() {
        return !closed && (readPauses & pausesInEffect()) == 0;
    }

    /** Ciphertext (handshake, records, alerts) for the socket. */
    void tlsSend(ByteBuffer cipher) {
        if (!closed) {
            out.write(cipher);
        }
    }

    /** The peer's close_notify arrived: like a FIN, but authenticated. */
    void tlsInputClosed() throws Exception {
        inputClosed = true;
        interestChanged();
        if (closing) {
            if (out.isEmpty() && tls.allWrapped()) {
                closeNow(null);
            }
            return; // the drain closes
        }
        handler.onReadHangup(this);
    }

    void tlsCloseWaitOver() {
        closeNow(null);
    }

    /** Everything written went out: run what waited for it (a pending shutdownOutput, a graceful close). */
    private void afterDrain() {
        if (closed || (tls != null && !tls.allWrapped())) {
            return; // held plaintext or close_notify still to go
        }
        if (shutdownPending) {
            doShutdownOutput();
        }
        if (closing && !closed) {
            closeDrained();
        }
    }

    /** A pump outside a flush wrapped everything and the socket took it all. */
    void tlsAllSent() {
        afterDrain();
    }

    void tlsLater(Runnable task) {
        later(task);
    }

    boolean tlsOutboundEmpty() {
        return out.isEmpty();
    }

    /** Held plaintext changed: the watermarks count it. */
    void tlsHeldChanged() {
        out.heldChanged();
    }

    void tlsReadingBlocked() {
        pauseOnLoop(ReadPause.TLS_TASK);
    }

    void tlsReadingUnblocked() {
        resumeOnLoop(ReadPause.TLS_TASK);
    }

    /**
     * The TLS session (protocol, cipher suite, peer certificates; on a server, the SNI names the client asked for
     * via {@link javax.net.ssl.ExtendedSSLSession#getRequestedServerNames()}), or {@code null} without TLS. Complete
     * from {@link ConnectionHandler#onOpen} on.
     */
    public javax.net.ssl.SSLSession tlsSession() {
        return tls == null ? null : tls.engine().getSession();
    }

    /** The ALPN protocol agreed in the handshake; {@code null} without TLS or ALPN, empty if the peer had none. */
    public String applicationProtocol() {
        return tls == null ? null : tls.engine().getApplicationProtocol();
    }

    /** Whether this connection runs TLS. */
    public boolean isTls() {
        return tls != null;
    }

    ConnectionHandler handler() {
        return handler;
    }

    // ------------------------------------------------------------------ queries

    /** The reactor this connection runs on. */
    public Reactor reactor() {
        return reactor;
    }

    /** The socket's fd (for diagnostics; do not read or write it directly). */
    public int fd() {
        return fd;
    }

    /** The configuration this connection runs with. */
    public ConnectionConfig config() {
        return config;
    }

    /** Whether the connection is not yet closed (it may be closing gracefully). */
    public boolean isOpen() {
        return !closed;
    }

    /** Whether queued output is at or below the high watermark (see {@link ConnectionHandler#onWritabilityChanged}). */
    public boolean isWritable() {
        return out.isWritable();
    }

    /** Bytes queued for sending (not yet accepted by the kernel); from another thread, a recent value. */
    public long queuedBytes() {
        return out.queuedBytes() + (tls == null ? 0 : tls.heldBytes());
    }

    /**
     * Whether reading is paused: by {@link #pauseReading()}, or by the library for one of its own reasons (see
     * {@link #pauseReading()}).
     */
    public boolean isReadingPaused() {
        return readPauses != 0;
    }

    /** Whether {@code reason} is among the reasons reading is paused for. */
    boolean isReadingPausedFor(ReadPause reason) {
        return (readPauses & reason.bit()) != 0;
    }

    /** Whether the peer's FIN has been read. */
    public boolean isInputClosed() {
        return inputClosed;
    }

    /** Whether {@link #shutdownOutput()} has taken effect. */
    public boolean isOutputShutdown() {
        return outputShutdown;
    }

    /** Bytes read so far. */
    public long bytesRead() {
        return bytesRead;
    }

    /** Bytes the kernel accepted so far. */
    public long bytesWritten() {
        return out.bytesWritten();
    }

    /**
     * The local address: captured when the connection was set up (a client's at connect, an accepted one's from
     * its server unless that listens on a wildcard address; then asked once, while open). {@code null} if unknown.
     */
    public SocketAddress localAddress() {
        SocketAddress a = localAddress;
        if (a == null && !closed) {
            try {
                a = Sockets.localAddress(fd);
                localAddress = a;
            } catch (EpollException e) {
                return null;
            }
        }
        return a;
    }

    /**
     * The peer's address, captured at accept (accept4 returns it with the socket) or connect (the address given);
     * still known after close. An unnamed Unix-domain peer has the empty path.
     */
    public SocketAddress remoteAddress() {
        SocketAddress a = remoteAddress;
        if (a == null && remoteInet4 >= 0) {
            a = SockAddr.unpackInet4(remoteInet4); // two racing threads make equal objects: harmless
            remoteAddress = a;
        }
        return a;
    }
    /** The object the application associated with this connection. */
    public Object attachment() {
        return attachment;
    }

    /**
     * Associates an object with this connection, e.g. per-connection protocol state.
     *
     * @param attachment the object, or {@code null}
     * @return the previous attachment
     */
    public Object attach(Object attachment) {
        Object old = this.attachment;
        this.attachment = attachment;
        return old;
    }

    @Override
    public String toString() {
        return "Connection[fd=" + fd + (closed ? ", closed" : "") + "]";
    }
}
