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

    /**
     * Where a connection is in its life. The independent flags beside it: the read pauses and the peer's end
     * (Inbound's), and the output shut down or about to be ({@link #shutdownOutput()}).
     */
    private enum Phase {
        /** A client's connect(2) is in progress: writes queue, nothing is read. */
        CONNECTING,
        /** The socket is connected and the transport sets up (the TLS handshake); onOpen has not run. */
        ESTABLISHING,
        /** onOpen ran (or runs): the handler reads and writes. */
        OPEN,
        /** {@link #close()} was asked: queued output drains while what the peer sends is discarded. */
        CLOSING,
        /** Everything was sent and the FIN with it: waiting (bounded) for the peer's EOF before close(2). */
        LINGERING,
        /** The fd is closed and onClose ran (or runs). */
        CLOSED
    }

    private final Reactor reactor;
    private final NetContext ctx;
    private final int fd;
    private final ConnectionConfig config;
    private final ConnectionHandler handler;
    private final TcpServer server;
    private final boolean edge;
    private final IdleTimer idle;
    private final Inbound in;
    private final Outbound out;
    /** Plain or TLS: the stage between the handler and the two queues. */
    private final Transport transport;
    /** Volatile for isOpen() and the getters on other threads; the loop thread is its only writer. */
    private volatile Phase phase;
    private Registration registration;
    private CompletableFuture<Connection> connectFuture;
    private Timeout connectTimer;
    /** The bounded wait of {@link Phase#LINGERING} (the linger or close_notify timeout). */
    private Timeout lingerTimer;
    /** shutdownOutput() was asked with bytes still queued: the FIN follows the drain. */
    private boolean shutdownPending;
    private volatile boolean outputShutdown;
    /** Whether the server counted this connection as open (so that closing it is counted too). */
    private boolean countedOpen;
    private Throwable closeCause;
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
    /** Moves this socket's bytes itself while set (a Splice); see the "driver hook" section. */
    private SocketDriver driver;

    private Connection(Reactor reactor, int fd, ConnectionConfig config, ConnectionHandler handler, TcpServer server,
                       SocketAddress remote, long remoteInet4, TlsConfig tlsConfig, Phase phase) {
        this.reactor = reactor;
        this.remoteAddress = remote;
        this.remoteInet4 = remoteInet4;
        this.ctx = NetContext.of(reactor);
        this.fd = fd;
        this.config = config;
        this.handler = handler;
        this.server = server;
        this.phase = phase;
        this.edge = config.trigger() == TriggerMode.EDGE;
        this.idle = config.hasIdleTimeouts() ? new IdleTimer(this, config) : null;
        Sides sides = new Sides();
        FdGuard fdGuard = new FdGuard(fd); // a blocking view's reader and writer may both be in the fd at a close
        this.in = new Inbound(sides, ctx, fd, config, idle, fdGuard);
        this.out = new Outbound(sides, ctx, fd, config, idle, fdGuard);
        this.transport = tlsConfig != null ? new TlsTransport(this, out, tlsConfig, ctx) : new PlainTransport(this, out);
    }

    /**
     * Wraps an accepted socket; on the reactor thread. If this throws, the fd is still the caller's to close;
     * once it returns the connection owns the fd (and has closed it already if opening failed).
     */
    static Connection accepted(Reactor reactor, int fd, SocketAddress remote, long remoteInet4, SocketAddress local,
                               ConnectionConfig config, ConnectionHandler handler, TcpServer server,
                               TlsConfig tlsConfig) throws EpollException {
        Connection c = new Connection(reactor, fd, config, handler, server, remote, remoteInet4, tlsConfig,
                Phase.ESTABLISHING);
        c.localAddress = local;
        c.registered(reactor.register(fd, c.edge ? EDGE_INTEREST : READ_INTEREST, config.trigger(), c.io));
        c.connected();
        return c;
    }

    /** Wraps a connecting client socket; on the reactor thread. */
    static Connection connecting(Reactor reactor, int fd, SocketAddress remote, ConnectionConfig config,
                                 ConnectionHandler handler, CompletableFuture<Connection> future,
                                 Duration connectTimeout, TlsConfig tlsConfig) {
        Connection c;
        try {
            c = new Connection(reactor, fd, config, handler, null, remote, -1, tlsConfig, Phase.CONNECTING);
        } catch (Throwable e) {
            Sockets.closeQuietly(fd);
            future.completeExceptionally(e);
            return null;
        }
        c.connectFuture = future;
        try {
            boolean now = Sockets.connect(fd, remote);
            if (now) {
                c.phase = Phase.ESTABLISHING;
            }
            c.registered(reactor.register(fd, c.edge ? EDGE_INTEREST : now ? READ_INTEREST : Interest.WRITE,
                    config.trigger(), c.io));
            if (now) {
                c.connected();
            } else if (connectTimeout != null && !connectTimeout.isZero()) {
                c.connectTimer = reactor.schedule(connectTimeout, () -> {
                    c.connectTimer = null;
                    if (c.phase == Phase.CONNECTING) {
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

    private void registered(Registration registration) {
        this.registration = registration;
        in.registered(registration);
    }

    /** The socket is connected: the transport starts (a plain one is established at once). Never throws. */
    private void connected() {
        try {
            if (localAddress == null && server == null) {
                localAddress = Sockets.localAddress(fd); // a client's: the port the kernel picked at connect
            }
            transport.start();
        } catch (Throwable t) {
            fail(t);
        }
    }

    /**
     * The transport is established (at once, or when the TLS handshake finished): the idle timer starts (under TLS
     * the handshake has its own timeout), a server's connection joins its {@code connections()}, onOpen runs, then
     * a client's future completes. Not before: a TLS connection published during its handshake would hold a
     * broadcast with the handshake and send it ahead of the greeting onOpen writes; from here on a broadcast from
     * another thread is a task that runs after onOpen. A throwing onOpen closes the connection (and fails the
     * future).
     */
    void established() {
        if (phase != Phase.ESTABLISHING) {
            return;
        }
        phase = Phase.OPEN;
        if (idle != null) {
            idle.start();
        }
        ctx.connectionOpened(this); // the reactor's figures (ReactorStats) count every open connection
        if (server != null) {
            server.counters.opened(this);
            countedOpen = true;
        }
        try {
            handler.onOpen(this);
        } catch (Throwable t) {
            closeNow(t);
            return;
        }
        if (connectFuture != null && phase != Phase.CLOSED) {
            connectFuture.complete(this);
        }
    }

    // ------------------------------------------------------------------ events

    private final Handler io = new Handler() {
        @Override
        public void onReady(Registration reg, Ready ready) throws Exception {
            try {
                dispatch(ready);
            } catch (Exception e) {
                if (!transport.isPeerFailure(e)) {
                    throw e; // the handler's own: a handler failure
                }
                fail(e);
            }
        }

        private void dispatch(Ready ready) throws Exception {
            if (phase == Phase.CONNECTING) {
                finishConnect();
                if (phase == Phase.CLOSED) {
                    return;
                }
                // Go on with the same event: bytes (or a FIN) that came with the connect completion must be read
                // now, since under EDGE this event is the only notice of them.
            }
            in.onReady(ready);
            if (phase == Phase.CLOSED) {
                return;
            }
            if (ready.isWritable()) {
                out.onWritable();
                driverWritable();
            }
            if (phase == Phase.CLOSED) {
                return;
            }
            if (ready.isError() && in.ownedByReader()) {
                // A blocking view's reader owns the read side and was told: its recv(2) meets the error after the
                // bytes that came before it (as the loop's read would), and the connection then fails with it.
                return;
            }
            EpollException direct = ready.isError() ? in.takeDirectFailure() : null;
            if (direct != null) {
                fail(direct); // a direct read met the error (and consumed SO_ERROR with it) just before
                return;
            }
            if (ready.isError()) {
                int err = Sockets.soError(fd);
                closeNow(err != 0 ? new EpollException("socket error on fd " + fd, err) : hangupCause());
            } else if (in.hungUp()) {
                in.afterHangup();
            }
        }

        @Override
        public void onClosed(Registration reg, Throwable cause) {
            if (phase != Phase.CLOSED) {
                // Ended by the reactor. By the fd-reuse check, our fd was closed behind our back and its number
                // belongs to a new owner now: closing it would close theirs.
                phase = Phase.CLOSED;
                end(cause, !(cause instanceof FdReusedException));
            }
        }
    };

    private void finishConnect() {
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
        phase = Phase.ESTABLISHING;
        interestChanged();
        if (phase != Phase.CLOSED) {
            connected();
        }
    }

    /** null when nothing is lost; EPIPE when queued bytes cannot reach a peer that hung up. */
    private EpollException hangupCause() {
        return queuedBytes() == 0 ? null : new EpollException("send(fd=" + fd + "): peer hung up with "
                + queuedBytes() + " bytes unsent", Errno.EPIPE);
    }

    /** Queues a continuation on the loop; a closing reactor refuses it, and then ends the connection anyway. */
    void later(Runnable task) {
        try {
            reactor.execute(task);
        } catch (RejectedExecutionException closing) {
            // the reactor's close ends this connection
        }
    }

    // ------------------------------------------------------------------ from the transport (both kinds)

    /** Data for the handler: plaintext from the transport. None during a graceful close, which discards it. */
    void deliver(ByteBuffer data) throws Exception {
        if (phase == Phase.OPEN) {
            handler.onData(this, data);
        }
    }

    /** Whether data should go on to the handler (TLS: unwrapping continues): not paused, not closed. */
    boolean wantsData() {
        return in.wantsData();
    }

    /**
     * The peer's input ended cleanly (its FIN, or TLS close_notify). During a graceful close that ends the wait
     * (the drain closes if output is still going out); otherwise the handler hears {@code onReadHangup}.
     */
    void peerEnded() throws Exception {
        if (in.isInputClosed()) {
            return;
        }
        in.inputEnded();
        if (isClosing()) {
            if (phase == Phase.LINGERING || drained()) {
                closeNow(null);
            } else {
                interestChanged();
            }
            return;
        }
        handler.onReadHangup(this);
        if (phase != Phase.CLOSED) {
            // After the handler: its usual answer (close) ends the registration, and dropping the read interest
            // first would be an epoll_ctl for a registration about to go.
            interestChanged();
        }
    }

    /** The peer's FIN was read: a clean end, or (TLS without close_notify) a failure unless closing anyway. */
    private void endOfStream() throws Exception {
        Throwable unclean = transport.endOfStream();
        if (unclean != null && !isClosing()) {
            fail(unclean);
            return;
        }
        peerEnded();
    }

    /**
     * Everything written went out (a flush drained the queue, or the transport's last batch went straight to the
     * socket): what waited for it runs, a pending shutdownOutput and a graceful close.
     */
    void outputDrained() {
        if (phase == Phase.CLOSED || !drained()) {
            return;
        }
        if (shutdownPending) {
            doShutdownOutput();
        }
        if (isClosing() && phase != Phase.CLOSED) {
            linger();
        }
    }

    /**
     * Closes at once with {@code cause}; for helpers on the loop thread (idle timer, transports). A failure on what
     * the peer sent (a bad TLS handshake or record, a handshake timeout, a truncated stream) is a connection event:
     * a DEBUG line and, before the handshake finished, the server's {@code tlsHandshakeFailures}, not a handler
     * failure.
     */
    void fail(Throwable cause) {
        if (phase == Phase.CLOSED) {
            return;
        }
        if (transport.isPeerFailure(cause)) {
            boolean handshake = !transport.established();
            if (handshake && server != null) {
                server.counters.tlsHandshakeFailed();
            }
            if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
                LOG.log(System.Logger.Level.DEBUG, "TLS " + (handshake ? "handshake " : "") + "with "
                        + remoteAddress() + " on fd " + fd + " failed: " + cause);
            }
        }
        closeNow(cause);
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
        try {
            transport.write(src);
        } catch (Throwable t) {
            fail(t);
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
        try {
            transport.writeAll(srcs);
        } catch (Throwable t) {
            fail(t);
        }
    }

    // ------------------------------------------------------------------ fd passing (SCM_RIGHTS)

    /**
     * Writes {@code data}'s remaining bytes with the file descriptors {@code fds} attached to the first of them
     * (SCM_RIGHTS over a Unix-domain socket), in order with every other write: straight to the socket (one sendmsg)
     * when nothing is queued, else behind what is. The peer receives them, as new fds referring to the same open
     * files, with the read that holds that first byte ({@link ConnectionHandler#onFileDescriptors}, when its
     * connection enables {@link ConnectionConfig#withFileDescriptorPassing}).
     *
     * <p>The caller keeps its own fds: the library duplicates them here (F_DUPFD_CLOEXEC) and closes its copies
     * once sent or when the connection closes, so the caller may close its fds as soon as this returns. Safe from
     * any thread, like {@link #write(ByteBuffer)}; {@code data} is fully consumed on return.
     *
     * @param data at least one byte (the kernel passes fds only with data)
     * @param fds  1 to {@value org.epoll4j.internal.LibC#SCM_MAX_FD} open file descriptors (the kernel's
     *             SCM_MAX_FD)
     * @throws IllegalArgumentException  if {@code data} is empty, or there are no fds or more than 253
     * @throws IllegalStateException     on a TLS connection (fds cannot travel inside TLS records) or a socket that
     *                                   is not AF_UNIX (only Unix-domain sockets carry fds)
     * @throws EpollException            if an fd cannot be duplicated (EBADF: not an open fd; EMFILE)
     * @throws ClosedConnectionException as for {@link #write(ByteBuffer)}
     */
    public void writeWithFileDescriptors(ByteBuffer data, int... fds) throws EpollException {
        java.util.Objects.requireNonNull(data, "data");
        java.util.Objects.requireNonNull(fds, "fds");
        if (!data.hasRemaining()) {
            throw new IllegalArgumentException("writeWithFileDescriptors: no data; the kernel passes fds only with at "
                    + "least one byte");
        }
        if (fds.length == 0 || fds.length > LibC.SCM_MAX_FD) {
            throw new IllegalArgumentException("writeWithFileDescriptors: " + fds.length + " fds; one message carries "
                    + "1 to " + LibC.SCM_MAX_FD + " (the kernel's SCM_MAX_FD)");
        }
        checkWritable("writeWithFileDescriptors");
        if (isTls()) {
            throw new IllegalStateException("writeWithFileDescriptors on TLS " + this + ": file descriptors cannot "
                    + "travel inside TLS records");
        }
        int domain = domain();
        if (domain != LibC.AF_UNIX) {
            throw new IllegalStateException("writeWithFileDescriptors on " + this + ": an "
                    + Sockets.familyName(domain) + " socket cannot pass file descriptors (SCM_RIGHTS needs AF_UNIX)");
        }
        int[] dups = new int[fds.length];
        for (int i = 0; i < fds.length; i++) {
            int d = LibC.fcntl(fds[i], LibC.F_DUPFD_CLOEXEC, 0);
            if (d < 0) {
                int err = LibC.errno();
                for (int j = 0; j < i; j++) {
                    LibC.close(dups[j]);
                }
                throw new EpollException("writeWithFileDescriptors: fcntl(fds[" + i + "]=" + fds[i]
                        + ", F_DUPFD_CLOEXEC)", err);
            }
            dups[i] = d;
        }
        ByteBuffer src = data;
        if (!reactor.inEventLoop()) {
            byte[] copy = new byte[data.remaining()];
            data.get(copy);
            src = ByteBuffer.wrap(copy);
        }
        ByteBuffer message = src;
        Runnable send = () -> {
            if (outputEnded()) {
                for (int d : dups) {
                    LibC.close(d);
                }
                return;
            }
            try {
                transport.writeWithRights(message, dups); // the dups are the transport's from here on
            } catch (Throwable t) {
                fail(t);
            }
        };
        if (!tryOnLoop(send)) {
            for (int d : dups) {
                LibC.close(d); // the task will never run: the dups are still ours
            }
            throwIfRejectedWhileOpen();
        }
    }

    /** The socket's address family (SO_DOMAIN), asked once. */
    private int domain() throws EpollException {
        int d = domain;
        if (d == 0) {
            d = Sockets.getIntOption(fd, LibC.SOL_SOCKET, SO_DOMAIN, "SO_DOMAIN");
            domain = d;
        }
        return d;
    }

    private static final int SO_DOMAIN = 39;
    /** The address family, once asked; 0 until then. */
    private volatile int domain;

    /**
     * Holds writes back: until {@link #uncork()}, {@link #write} and {@code sendFile} only queue (copying into the
     * connection's pooled chunks), so that a response written in many parts leaves in one gathering send. Like
     * TCP_CORK, but in user space: the parts cost no system call until uncorked. {@link #close()} and
     * {@link #shutdownOutput()} uncork. Idempotent; safe from any thread (ordered with writes from that thread).
     */
    public void cork() {
        onLoop(transport::cork);
    }

    /** Sends what {@link #cork()} held back (one gathering send for what the socket takes) and writes straight again. */
    public void uncork() {
        onLoop(() -> {
            try {
                transport.uncork(); // TLS: the held plaintext is wrapped once, then goes out in one send
            } catch (Throwable t) {
                fail(t);
            }
        });
    }

    /** Whether {@link #cork()} is in effect. */
    public boolean isCorked() {
        return transport.isCorked();
    }

    private void checkWritable(String op) {
        if (outputEnded()) {
            throw new ClosedConnectionException(op + (phase == Phase.CLOSED || isClosing() ? " on closed "
                    : " after shutdownOutput() on ")
                    + this);
        }
    }

    /**
     * Sends {@code count} bytes of the file at {@code path} from {@code position} with sendfile(2): the bytes go
     * from the page cache to the socket without passing through Java. Queued in order with other writes. Bytes
     * written under {@link #cork()} right before it leave with MSG_MORE, so a head written that way shares the
     * file's first segment.
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
        enqueueFile(transport.openFile(path), position, count); // plain: for sendfile(2); TLS: read and encrypted
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
        enqueueFile(new Transport.FileRef(-1, channel, false), position, count);
    }

    private static void checkRange(long position, long count) {
        if (position < 0 || count < 0) {
            throw new IllegalArgumentException("sendFile: position and count must be >= 0: position=" + position
                    + ", count=" + count);
        }
    }

    /** Queues a file region; what the library opened for it is closed wherever it is not queued. */
    private void enqueueFile(Transport.FileRef file, long position, long count) {
        try {
            checkWritable("sendFile");
        } catch (ClosedConnectionException e) {
            file.closeQuietly();
            throw e;
        }
        Runnable enqueue = () -> {
            if (outputEnded()) {
                file.closeQuietly();
                return;
            }
            try {
                transport.addFile(file, position, count);
            } catch (Throwable t) {
                fail(t);
            }
        };
        if (!tryOnLoop(enqueue)) {
            file.closeQuietly(); // the task will never run: the file is still ours
            throwIfRejectedWhileOpen();
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
        onLoop(() -> in.pause(reason));
    }

    /** Removes {@code reason}; reading resumes if no other reason holds. Idempotent per reason; any thread. */
    void resumeReading(ReadPause reason) {
        onLoop(() -> in.resume(reason));
    }

    /** Offloaded results that could not be delivered because the reactor closed: counted by the server. */
    void offloadResultDropped(int n) {
        if (server != null) {
            server.counters.offloadResultsDropped(n);
        }
    }

    /**
     * Half-closes: sends FIN after every queued byte; the connection can still read. Further writes fail.
     */
    public void shutdownOutput() {
        onLoop(() -> {
            if (phase == Phase.CLOSED || isClosing() || outputShutdown || shutdownPending) {
                return;
            }
            out.endDirectSends(); // the FIN must follow every byte: no writer's direct send starts after this
            try {
                transport.endOutput(); // TLS: close_notify after what is held, then the FIN (TLS 1.3 half-close)
            } catch (Throwable t) {
                fail(t);
                return;
            }
            if (phase == Phase.CLOSED) {
                return;
            }
            if (drained()) {
                doShutdownOutput();
            } else {
                shutdownPending = true;
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
        if (in.isInputClosed() && out.isEmpty()) {
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
     * close_notify (or EOF) ends the wait, bounded by {@link TlsConfig#closeNotifyTimeout}. Before the connection is
     * established (a client still connecting, a TLS handshake running) nothing of the application's was exchanged,
     * and close() ends it at once. {@link ConnectionHandler#onClose} follows with a {@code null} cause (or the error
     * that interrupted it). A peer that never reads keeps the connection draining until an idle timeout or
     * {@link #abort()}. Idempotent.
     *
     * <p>The three ways to end a connection: {@code close()} (graceful, lingering), {@link #abort()} (at once, with
     * a reset: SO_LINGER 0), {@link #closeWith(Throwable)} (at once, queued bytes dropped, the cause reported). The
     * socket's own {@link SockOpt#SO_LINGER} is not needed for any of them: the library never blocks in
     * close(2), and a positive SO_LINGER would make close(2) block the reactor thread.
     */
    public void close() {
        onLoop(() -> {
            if (phase == Phase.CLOSED || isClosing()) {
                return;
            }
            if (phase != Phase.OPEN) {
                closeNow(null); // connecting or handshaking: nothing of the application's was exchanged yet
                return;
            }
            phase = Phase.CLOSING;
            out.endDirectSends();
            in.endDirectReads(); // what the peer still sends is the loop's to read and discard
            try {
                transport.endOutput(); // uncorks; TLS: close_notify after every byte written so far
            } catch (Throwable t) {
                fail(t);
                return;
            }
            if (phase != Phase.CLOSING) {
                return; // closed, or the drain inside endOutput moved on to lingering
            }
            if (drained()) {
                linger();
            } else {
                interestChanged(); // LEVEL: read on (to discard) whatever pauses hold; EPOLLOUT while queued
            }
        });
    }

    /** Closes at once with a reset (SO_LINGER 0 then close: the peer sees ECONNRESET); queued bytes are dropped. */
    public void abort() {
        onLoop(() -> {
            if (phase != Phase.CLOSED) {
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

    /** Whether a graceful close runs (draining or lingering). */
    private boolean isClosing() {
        Phase p = phase;
        return p == Phase.CLOSING || p == Phase.LINGERING;
    }

    /** Whether everything written has left: the transport holds nothing and the queue is empty. */
    private boolean drained() {
        return out.isEmpty() && transport.allQueued() && (driver == null || driver.heldForOutput() == 0);
    }

    /** Whether writes are refused: closed, closing gracefully, or output shut down (or about to be). */
    boolean outputEnded() {
        return phase == Phase.CLOSED || isClosing() || outputShutdown || shutdownPending;
    }

    /**
     * A graceful close sent everything: half-close (the FIN), then wait for the peer's EOF (TLS: its close_notify)
     * at most the transport's linger timeout, reading and discarding meanwhile; at once if the peer's end came
     * already or the timeout is zero. The FIN lets the peer read to the end; its EOF means it has, so close(2)
     * can no longer turn unread bytes into a reset that destroys the response.
     */
    private void linger() {
        if (phase != Phase.CLOSING) {
            return;
        }
        Duration wait = transport.lingerTimeout(config);
        if (in.isInputClosed() || wait.isZero()) {
            closeNow(null);
            return;
        }
        phase = Phase.LINGERING;
        if (!outputShutdown) {
            outputShutdown = true;
            if (LibC.shutdown(fd, LibC.SHUT_WR) != 0) {
                int err = LibC.errno();
                closeNow(err == Errno.ENOTCONN ? null // the peer is gone already: nothing to linger for
                        : new EpollException("shutdown(fd=" + fd + ", SHUT_WR)", err));
                return;
            }
        }
        interestChanged();
        if (phase == Phase.LINGERING) {
            lingerTimer = reactor.schedule(wait, () -> {
                lingerTimer = null;
                closeNow(null);
            });
        }
    }

    private void closeNow(Throwable cause) {
        if (phase == Phase.CLOSED) {
            return;
        }
        phase = Phase.CLOSED; // first: cancelling the registration must not come back here through onClosed
        if (registration != null && registration.isValid()) {
            registration.cancel();
        }
        end(cause, true);
    }

    /** The one end of every path (phase already CLOSED): releases everything, closes the fd if ours, tells the handler. */
    private void end(Throwable cause, boolean ownsFd) {
        closeCause = cause;
        if (ownsFd) {
            out.sendHeldBeforeClose(); // batched writes: what this batch wrote goes out before the close, as unbatched
        }
        out.clear();
        transport.closed();
        if (driver != null) {
            SocketDriver d = driver;
            driver = null;
            in.driver(null);
            d.closed();
        }
        if (idle != null) {
            idle.stop();
        }
        cancelConnectTimer();
        if (lingerTimer != null) {
            lingerTimer.cancel();
            lingerTimer = null;
        }
        out.endDirectSends();
        in.endDirectReads();
        if (ownsFd && out.claimFdForClose()) {
            LibC.close(fd); // else a direct send or read is under way on another thread, and closes it when done
        }
        ctx.connectionClosed(this); // its byte counts are final now (a connection never opened is not there)
        if (countedOpen) {
            server.counters.closed(this);
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

    /** The one place that decides what a LEVEL registration watches. */
    private void updateInterest() {
        if (registration == null || !registration.isValid()) {
            return;
        }
        Interest want = phase == Phase.CONNECTING ? Interest.WRITE : in.canRead() ? READ_INTEREST : Interest.NONE;
        if (out.wantsWrite() || driver != null && driver.heldForOutput() > 0) {
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
        if (phase != Phase.CLOSED) {
            throw new ClosedConnectionException("reactor of " + this + " is closed");
        }
    }

    /** Whether a blocking view's direct reader is parked waiting for this connection's read event (tests). */
    boolean directReaderWaiting() {
        return in.readerWaiting();
    }

    /** recv(2) calls made by direct reads (the blocking facade's readers) so far (tests). */
    long directRecvCalls() {
        return in.directRecvCalls();
    }

    /** Bytes read by direct reads (the blocking facade's readers) so far. */
    long directBytesRead() {
        return in.directBytesRead();
    }

    /** Write calls made by direct sends (the blocking facade's writers) so far. */
    long directWriteCalls() {
        return out.directWriteCalls();
    }

    /** Write system calls (send, sendmsg, sendfile) made so far, direct sends included; tests check corking with it. */
    long writeCalls() {
        return out.writeCalls();
    }

    /** The most write calls one flush of the queue has made (tests check the write budget with it). */
    int maxWriteCallsPerFlush() {
        return out.maxWriteCallsPerFlush();
    }

    /** The connection side of {@link Inbound} and {@link Outbound}: their only implementation. */
    private final class Sides implements Inbound.Owner, Outbound.Owner {
        @Override
        public void received(ByteBuffer bytes) throws Exception {
            transport.received(bytes);
        }

        @Override
        public void receivedFds(int[] fds) throws Exception {
            if (phase == Phase.OPEN) {
                handler.onFileDescriptors(Connection.this, fds); // the handler's from here on, even if it throws
            } else {
                for (int f : fds) {
                    LibC.close(f); // a graceful close discards what arrives, fds included
                }
            }
        }

        @Override
        public void endOfStream() throws Exception {
            Connection.this.endOfStream();
        }

        @Override
        public boolean closed() {
            return phase == Phase.CLOSED;
        }

        @Override
        public boolean connecting() {
            return phase == Phase.CONNECTING;
        }

        @Override
        public boolean closing() {
            return isClosing();
        }

        @Override
        public boolean hasBuffered() {
            return transport.hasBuffered();
        }

        @Override
        public void deliverBuffered() throws Exception {
            transport.deliverBuffered();
        }

        @Override
        public void resumed() {
            if (decodingHandler != null) {
                decodingHandler.readingResumed(Connection.this); // held frames before anything read from now on
            }
        }

        @Override
        public void hungUp() {
            closeNow(hangupCause());
        }

        @Override
        public boolean selfDriven() {
            return in.selfDriven();
        }

        @Override
        public void later(Runnable task) {
            Connection.this.later(task);
        }

        @Override
        public void afterBatch(Runnable task) {
            reactor.afterBatch(task);
        }

        @Override
        public int batchEvents() {
            return reactor.batchEvents();
        }

        @Override
        public void fail(Throwable cause) {
            Connection.this.fail(cause);
        }

        @Override
        public void interestChanged() {
            Connection.this.interestChanged();
        }

        @Override
        public long held() {
            return transport.held() + (driver == null ? 0 : driver.heldForOutput());
        }

        @Override
        public void refill() {
            try {
                transport.refill();
            } catch (Throwable t) {
                Connection.this.fail(t);
            }
        }

        @Override
        public void drained() {
            driverWritable();
            outputDrained();
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

    // ------------------------------------------------------------------ driver hook (Splice; see SocketDriver)

    /**
     * Hands this socket's input and output to {@code d} ({@code null}: back to read(2) and the queue). Loop thread.
     *
     * @throws IllegalStateException on a TLS connection (the kernel cannot move records it does not decrypt), or when
     *                               another driver is set
     */
    void drive(SocketDriver d) {
        if (d != null && (isTls() || driver != null)) {
            throw new IllegalStateException((isTls() ? "a TLS connection cannot be driven by splice: "
                    : "already spliced: ") + this);
        }
        driver = d;
        in.driver(d);
        if (d != null) {
            out.endDirectSends(); // the driver writes to the socket itself
            in.endDirectReads(); // and reads it
        }
        interestChanged();
    }

    /** Gives the input back to read(2) and the handler; the driver keeps the output side. Loop thread. */
    void undriveInput() {
        in.driver(null);
    }

    /** Whether a driver may write to the socket now: connected, not closed, output not shut, own queue empty. */
    boolean driverMayWrite() {
        Phase p = phase;
        return p != Phase.CONNECTING && p != Phase.CLOSED && !outputShutdown && out.isEmpty();
    }

    /** The driver wrote {@code n} bytes to the socket: the byte counter and the idle timer. */
    void driverWrote(long n) {
        out.wroteByDriver(n);
    }

    /** What the driver holds for the socket changed: watermarks, EPOLLOUT interest, and what waited for the drain. */
    void driverHeldChanged() {
        if (phase == Phase.CLOSED) {
            return;
        }
        out.heldChanged();
        interestChanged();
        outputDrained();
    }

    private void driverWritable() {
        if (driver != null && phase != Phase.CLOSED && out.isEmpty()) {
            driver.onWritable();
        }
    }

    // ------------------------------------------------------------------ TLS

    /**
     * The TLS session (protocol, cipher suite, peer certificates; on a server, the SNI names the client asked for
     * via {@link javax.net.ssl.ExtendedSSLSession#getRequestedServerNames()}), or {@code null} without TLS. Complete
     * from {@link ConnectionHandler#onOpen} on.
     */
    public javax.net.ssl.SSLSession tlsSession() {
        return transport.session();
    }

    /** The ALPN protocol agreed in the handshake; {@code null} without TLS or ALPN, empty if the peer had none. */
    public String applicationProtocol() {
        return transport.applicationProtocol();
    }

    /**
     * The blocking facade's direct send for this connection (on the loop thread, while open): a writer on another
     * thread sends with a non-blocking send(2) of its own while nothing is queued (see
     * {@link BlockingConnection.DirectSend}); null under TLS, splice or fd passing, whose writes stay the loop's.
     */
    BlockingConnection.DirectSend directSender() {
        if (isTls() || driver != null || config.fileDescriptorPassing() || phase != Phase.OPEN) {
            return null;
        }
        out.enableDirectSends();
        return out::trySendDirect;
    }

    /**
     * The blocking facade's direct read for this connection (on the loop thread, while open): a reader on another
     * thread recv(2)s straight into its own buffer while it owns the read side (see
     * {@link BlockingConnection.DirectRead}); null under TLS, splice, fd passing or LEVEL, whose reads stay the loop's.
     * (LEVEL would report the socket readable again on every loop iteration while the reader is away.)
     */
    BlockingConnection.DirectRead directReader() {
        if (isTls() || driver != null || config.fileDescriptorPassing() || phase != Phase.OPEN || !edge) {
            return null;
        }
        in.enableDirectReads();
        return in;
    }

    /** Whether this connection runs TLS. */
    public boolean isTls() {
        return transport instanceof TlsTransport;
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
        return phase != Phase.CLOSED;
    }

    /** Whether queued output is at or below the high watermark (see {@link ConnectionHandler#onWritabilityChanged}). */
    public boolean isWritable() {
        return out.isWritable();
    }

    /** Bytes queued for sending (not yet accepted by the kernel); from another thread, a recent value. */
    public long queuedBytes() {
        SocketDriver d = driver;
        return out.queuedBytes() + transport.held() + (d == null ? 0 : d.heldForOutput());
    }

    /**
     * Whether reading is paused: by {@link #pauseReading()}, or by the library for one of its own reasons (see
     * {@link #pauseReading()}).
     */
    public boolean isReadingPaused() {
        return in.isPaused();
    }

    /** Whether {@code reason} is among the reasons reading is paused for. */
    boolean isReadingPausedFor(ReadPause reason) {
        return in.isPausedFor(reason);
    }

    /** Whether the peer's FIN has been read. */
    public boolean isInputClosed() {
        return in.isInputClosed();
    }

    /** Whether {@link #shutdownOutput()} has taken effect. */
    public boolean isOutputShutdown() {
        return outputShutdown;
    }

    /** Bytes read so far. */
    public long bytesRead() {
        return in.bytesRead();
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
        if (a == null && phase != Phase.CLOSED) {
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
        return "Connection[fd=" + fd + (phase == Phase.CLOSED ? ", closed" : "") + "]";
    }
}
