package org.epoll4j.net;

import org.epoll4j.ClosedReactorException;
import org.epoll4j.EpollException;
import org.epoll4j.FdReusedException;
import org.epoll4j.Interest;
import org.epoll4j.Reactor;
import org.epoll4j.Ready;
import org.epoll4j.Registration;
import org.epoll4j.RegistrationOption;
import org.epoll4j.Handler;
import org.epoll4j.TriggerMode;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.internal.SockAddr;
import org.epoll4j.internal.Sockets;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A listening stream socket (TCP over IPv4/IPv6, or Unix-domain) on a {@link Reactor}, handing each accepted
 * connection to a {@link ConnectionHandler}.
 *
 * <pre>{@code
 * TcpServer server = TcpServer.builder(reactor)
 *         .bind(new InetSocketAddress("127.0.0.1", 7007))
 *         .handler((conn, data) -> conn.write(data))      // echo
 *         .start();
 * }</pre>
 *
 * <p>Each readiness event accepts at most {@linkplain Builder#acceptBudget(int) a budget} of connections, so a
 * connection storm cannot starve established connections. When the process runs out of fds (EMFILE/ENFILE) the
 * server frees a reserved fd, accepts and immediately closes the waiting connections (their clients see the
 * connection closed instead of hanging), and takes the reserve back; if even that fails it stops listening for
 * 100 ms rather than spin on a listener that stays readable.
 *
 * <p>{@link Builder#start()} and {@link #close()} work from any thread but never make one reactor's thread wait for
 * another's (two reactors doing that to each other would deadlock): called on another reactor's thread they hand
 * the work over and return at once ({@link #closeFuture()} tells when the listener is closed). The listening fd is
 * closed only on the server's loop thread, or once no thread runs that reactor, so no accept4 can ever run on an fd
 * number that was closed and reused meanwhile.
 */
public final class TcpServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TcpServer.class.getName());
    private static final Duration ACCEPT_BACKOFF = Duration.ofMillis(100);
    /** How often a thread waiting for a hand-off checks that the reactor has not ended without running it. */
    private static final long HAND_OFF_CHECK_MS = 100;
    /*
     * Described now: out of fds, the JVM cannot open a .class file from a directory classpath, so loading Errno
     * for the first time in the EMFILE path throws NoClassDefFoundError (and would close the listener).
     */
    private static final String EMFILE_TEXT = Errno.describe(Errno.EMFILE);
    private static final String ENFILE_TEXT = Errno.describe(Errno.ENFILE);
    static {
        NetEvents.preload(); // for the same reason: the EMFILE path records a JFR event
    }

    private final Reactor reactor;
    private final Builder settings;
    private final SocketAddress localAddress;
    private final int listenFd;
    /** False when the listening fd is shared by a {@link TcpServerGroup} (EXCLUSIVE), which closes it. */
    private final boolean ownsListenFd;
    private final boolean exclusive;
    /** Where accepted connections run: this server's reactor, or the group's next one (HANDOFF). */
    private final Supplier<Reactor> childReactors;
    private final boolean inet;
    /** Open connections, on whichever reactor they run; for broadcast and graceful shutdown. */
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
    /** accept4's sockaddr (and socklen_t after it): the peer's address comes with the fd, no getpeername. */
    private final ByteBuffer peer = NativeMemory.allocate(SockAddr.MAX_SIZE + 8);
    private final long peerAddress = NativeMemory.address(peer);
    /** Every accepted socket's local address, unless bound to a wildcard address (then asked for lazily). */
    private final SocketAddress childLocal;
    private Registration registration; // loop thread only
    private boolean reRegistering; // loop thread only: an EXCLUSIVE registration is being replaced, not ended
    private int reserveFd;
    private volatile boolean closed;
    // Written on the loop thread only; volatile so that the getters may be called from any thread.
    private volatile long accepted;
    private volatile long rejected;
    /** Peers that failed the TLS handshake; counted from the connections' reactor threads (HANDOFF: several). */
    private final java.util.concurrent.atomic.LongAdder tlsHandshakeFailures = new java.util.concurrent.atomic.LongAdder();
    private final AtomicInteger active = new AtomicInteger(); // connections may run on other reactors (HANDOFF)

    private TcpServer(Reactor reactor, Builder b) throws EpollException {
        this.reactor = reactor;
        this.settings = b;
        this.inet = b.address instanceof InetSocketAddress;
        this.exclusive = b.sharedListenFd >= 0;
        this.childReactors = b.childReactors;
        if (exclusive) {
            // The group bound and listens on it; every member registers it EPOLLEXCLUSIVE on its own reactor.
            this.ownsListenFd = false;
            this.listenFd = b.sharedListenFd;
            this.localAddress = b.sharedLocalAddress;
            this.childLocal = childLocal(localAddress);
            this.reserveFd = openReserve();
            return;
        }
        this.ownsListenFd = true;
        int fd = Sockets.open(b.address);
        boolean bound = false;
        int reserve = -1;
        try {
            b.options.applyTo(fd);
            Sockets.bind(fd, b.address);
            bound = true;
            Sockets.listen(fd, b.backlog);
            this.localAddress = Sockets.localAddress(fd);
            reserve = openReserve();
        } catch (EpollException | RuntimeException e) {
            // Undo everything, so that a retry finds neither a leaked fd nor our Unix-domain socket file (EADDRINUSE).
            Sockets.closeQuietly(fd);
            Sockets.closeQuietly(reserve);
            if (bound) {
                deleteSocketFile(b.address);
            }
            throw e;
        }
        this.reserveFd = reserve;
        this.listenFd = fd;
        this.childLocal = childLocal(localAddress);
    }

    private static SocketAddress childLocal(SocketAddress listening) {
        return listening instanceof InetSocketAddress isa && isa.getAddress().isAnyLocalAddress() ? null : listening;
    }

    /**
     * A builder for a server on {@code reactor}.
     *
     * @param reactor the reactor that accepts and runs the connections
     * @return the builder
     */
    public static Builder builder(Reactor reactor) {
        Objects.requireNonNull(reactor, "reactor");
        return new Builder(reactor);
    }

    /** Settings for a {@link TcpServer}. */
    public static final class Builder {
        private final Reactor reactor;
        private SocketAddress address = new InetSocketAddress("127.0.0.1", 0);
        private int backlog = 4096;
        private int acceptBudget = 64;
        private SockOpts options = SockOpts.empty().with(SockOpt.SO_REUSEADDR, true);
        private SockOpts childOptions;
        private ConnectionConfig config = ConnectionConfig.defaults();
        private Supplier<? extends ConnectionHandler> handlers;
        private TlsConfig tls;
        // Set by TcpServerGroup only.
        private int sharedListenFd = -1;
        private SocketAddress sharedLocalAddress;
        private Supplier<Reactor> childReactors;

        private Builder(Reactor reactor) {
            this.reactor = reactor;
        }

        /**
         * Where to listen (default 127.0.0.1, ephemeral port): an {@link InetSocketAddress} (IPv4 or IPv6; port 0
         * picks a free one) or a {@link UnixDomainSocketAddress}.
         *
         * @param address the address
         * @return this builder
         */
        public Builder bind(SocketAddress address) {
            SockAddr.family(Objects.requireNonNull(address, "address"));
            this.address = address;
            return this;
        }

        /**
         * The listen(2) backlog (default 4096; the kernel caps it at net.core.somaxconn).
         *
         * @param backlog 1 or more
         * @return this builder
         */
        public Builder backlog(int backlog) {
            if (backlog < 1) {
                throw new IllegalArgumentException("backlog must be >= 1: " + backlog);
            }
            this.backlog = backlog;
            return this;
        }

        /**
         * The most connections accepted per readiness event (default 64).
         *
         * @param budget 1 or more
         * @return this builder
         */
        public Builder acceptBudget(int budget) {
            if (budget < 1) {
                throw new IllegalArgumentException("accept budget must be >= 1: " + budget);
            }
            this.acceptBudget = budget;
            return this;
        }

        /**
         * Options for the listening socket (default SO_REUSEADDR on).
         *
         * @param options the options
         * @return this builder
         */
        public Builder options(SockOpts options) {
            this.options = Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * Options applied to every accepted socket (default: TCP_NODELAY on for TCP, none for Unix-domain).
         *
         * @param options the options
         * @return this builder
         */
        public Builder childOptions(SockOpts options) {
            this.childOptions = Objects.requireNonNull(options, "childOptions");
            return this;
        }

        /**
         * Trigger mode, watermarks, read budget and idle timeouts of accepted connections.
         *
         * @param config the configuration
         * @return this builder
         */
        public Builder config(ConnectionConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            return this;
        }

        /**
         * Runs TLS on every accepted connection: a handler's {@code onOpen} runs once the handshake finished (a
         * connection whose handshake fails gets only {@code onClose}, with the cause), and it reads and writes
         * plaintext.
         *
         * @param tls server-side settings ({@link TlsConfig#server})
         * @return this builder
         * @throws IllegalArgumentException if {@code tls} holds client-side settings
         */
        public Builder tls(TlsConfig tls) {
            Objects.requireNonNull(tls, "tls");
            if (tls.isClient()) {
                throw new IllegalArgumentException("TcpServer needs TlsConfig.server(...), not " + tls);
            }
            this.tls = tls;
            return this;
        }

        /**
         * One handler shared by every connection (keep per-connection state in {@link Connection#attach}).
         *
         * @param handler the handler
         * @return this builder
         */
        public Builder handler(ConnectionHandler handler) {
            Objects.requireNonNull(handler, "handler");
            this.handlers = () -> handler;
            return this;
        }

        /**
         * A new handler per connection.
         *
         * @param factory called once per accepted connection
         * @return this builder
         */
        public Builder handlerFactory(Supplier<? extends ConnectionHandler> factory) {
            this.handlers = Objects.requireNonNull(factory, "handlerFactory");
            return this;
        }

        /** A group member that shares {@code fd} (bound and listening) with the others, registered EXCLUSIVE. */
        Builder sharedListener(int fd, SocketAddress local) {
            this.sharedListenFd = fd;
            this.sharedLocalAddress = local;
            return this;
        }

        /** A group's acceptor: accepted connections run on the reactors {@code next} hands out. */
        Builder childReactors(Supplier<Reactor> next) {
            this.childReactors = next;
            return this;
        }

        SocketAddress address() {
            return address;
        }

        int backlog() {
            return backlog;
        }

        SockOpts options() {
            return options;
        }

        /**
         * Binds and listens (here, on the calling thread), then registers with the reactor: at once on the
         * reactor's thread or while no thread runs it; otherwise handed to the reactor's thread, and waited for
         * unless the caller runs a reactor itself (then it returns at once: connections wait in the backlog until
         * the registration lands, and a failure there is logged and closes the server).
         *
         * @return the listening server
         * @throws EpollException         if socket, bind (e.g. EADDRINUSE), listen or the registration fails
         * @throws ClosedReactorException if the reactor is closed (or closes before the registration ran)
         */
        public TcpServer start() throws EpollException {
            if (handlers == null) {
                throw new IllegalStateException("TcpServer.builder(...).handler(...) or handlerFactory(...) is required");
            }
            if (childOptions == null) {
                childOptions = address instanceof InetSocketAddress
                        ? SockOpts.empty().with(SockOpt.TCP_NODELAY, true) : SockOpts.empty();
            }
            if (reactor.isClosed()) {
                throw closedReactor(reactor, "start");
            }
            TcpServer server = new TcpServer(reactor, this);
            server.startAccepting();
            return server;
        }
    }

    private static ClosedReactorException closedReactor(Reactor reactor, String op) {
        return new ClosedReactorException("TcpServer." + op + ": " + reactor.name() + " is closed");
    }

    /** Registers the listener with the reactor: here when allowed, else handed to the reactor's thread. */
    private void startAccepting() throws EpollException {
        if (reactor.inEventLoop() || !reactor.isRunning()) {
            try {
                registerNow();
                return;
            } catch (IllegalStateException e) {
                if (e instanceof ClosedReactorException || !reactor.isRunning() || reactor.inEventLoop()) {
                    closeListener(true);
                    throw e;
                }
                // a thread began running the reactor since we looked: hand the registration over
            } catch (EpollException | RuntimeException e) {
                closeListener(true);
                throw e;
            }
        }
        CompletableFuture<Void> registered = new CompletableFuture<>();
        try {
            reactor.execute(() -> {
                try {
                    registerNow();
                    registered.complete(null);
                } catch (Throwable t) {
                    closeListener(true);
                    registered.completeExceptionally(t);
                }
            });
        } catch (RejectedExecutionException e) {
            closeListener(true); // never registered: no thread can be using the fd
            throw closedReactor(reactor, "start");
        }
        if (Reactor.current() != null) {
            registered.whenComplete((ok, t) -> {
                if (t != null) {
                    LOG.log(System.Logger.Level.WARNING, "TcpServer on " + localAddress + " could not start", t);
                }
            });
            return;
        }
        if (!awaitHandOff(registered)) {
            closeAsync();
            throw new IllegalStateException("interrupted while waiting for " + reactor.name() + " to start " + this);
        }
        if (!registered.isDone()) {
            throw closedReactor(reactor, "start"); // the reactor ended without running the hand-off
        }
        try {
            registered.get();
        } catch (InterruptedException | ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof EpollException ee) {
                throw ee;
            }
            if (c instanceof ClosedReactorException) {
                throw closedReactor(reactor, "start");
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(c);
        }
    }

    /** On the loop thread (or while none runs the reactor). */
    private void registerNow() throws EpollException {
        if (!closed) {
            registration = exclusive
                    ? reactor.register(listenFd, Interest.READ, TriggerMode.LEVEL, acceptor, RegistrationOption.EXCLUSIVE)
                    : reactor.register(listenFd, Interest.READ, TriggerMode.LEVEL, acceptor);
        }
    }

    /**
     * Waits for {@code f}, the outcome of a task handed to the reactor, or the listener being closed. If the reactor
     * terminates with {@code f} still pending, the listener is closed here (no thread runs the reactor any more).
     *
     * @return false if interrupted (the interrupt flag is set again)
     */
    private boolean awaitHandOff(CompletableFuture<?> f) {
        try {
            while (!f.isDone()) {
                try {
                    f.get(HAND_OFF_CHECK_MS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    if (reactor.awaitTermination(Duration.ZERO) && !f.isDone()) {
                        closeListener(true);
                        return true;
                    }
                } catch (ExecutionException e) {
                    return true;
                }
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static int openReserve() {
        return LibC.open("/dev/null", LibC.O_RDONLY | LibC.O_CLOEXEC);
    }

    private final Acceptor acceptor = new Acceptor();

    private final class Acceptor implements Handler {
        @Override
        public void onReady(Registration reg, Ready ready) {
            for (int i = 0; i < settings.acceptBudget && !closed; i++) {
                int fd = acceptOne();
                if (fd >= 0) {
                    accepted++;
                    adopt(fd);
                    continue;
                }
                int err = LibC.errno();
                switch (err) {
                    case Errno.EAGAIN:
                        return;
                    case Errno.EINTR:
                    case Errno.ECONNABORTED:
                    case Errno.EPROTO: // the client went away during the handshake
                    case Errno.EPERM: // firewall
                        continue;
                    case Errno.EMFILE:
                    case Errno.ENFILE:
                        shedWithReserve(err);
                        return;
                    default:
                        LOG.log(System.Logger.Level.WARNING, "accept4(fd=" + listenFd + "): " + Errno.describe(err)
                                + "; pausing accepts for " + ACCEPT_BACKOFF.toMillis() + " ms");
                        pauseAccepting();
                        return;
                }
            }
        }

        @Override
        public void onClosed(Registration reg, Throwable cause) {
            if (reRegistering) {
                return; // pauseAccepting replaces an EXCLUSIVE registration: the listener stays
            }
            // An fd number that was closed under us and reused belongs to someone else now: leave it alone.
            closeListener(!(cause instanceof FdReusedException));
        }
    }

    /** accept4 with the peer's sockaddr captured into {@link #peer}. */
    private int acceptOne() {
        peer.putInt(SockAddr.MAX_SIZE, SockAddr.MAX_SIZE);
        return LibC.accept4(listenFd, peerAddress, peerAddress + SockAddr.MAX_SIZE,
                LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC);
    }

    private void adopt(int fd) {
        SocketAddress remote;
        // Read before the next accept4 reuses the buffer. IPv4 stays packed in a long until someone asks for it.
        long remoteInet4 = SockAddr.packInet4(peer);
        try {
            remote = remoteInet4 >= 0 ? null : SockAddr.decode(peer, peer.getInt(SockAddr.MAX_SIZE));
        } catch (RuntimeException e) {
            LibC.close(fd);
            LOG.log(System.Logger.Level.WARNING, "accepted fd " + fd + " with an unreadable peer address", e);
            return;
        }
        Reactor target = childReactors == null ? reactor : childReactors.get();
        if (target == reactor) {
            setUp(reactor, fd, remote, remoteInet4);
            return;
        }
        try {
            target.execute(() -> setUp(target, fd, remote, remoteInet4));
        } catch (RejectedExecutionException closing) {
            LibC.close(fd); // that reactor is closing: the client sees the connection closed
            rejected++;
        }
    }

    /** Makes the accepted socket a connection on {@code target}; on that reactor's thread. */
    private void setUp(Reactor target, int fd, SocketAddress remote, long remoteInet4) {
        try {
            settings.childOptions.applyTo(fd);
            Connection.accepted(target, fd, remote, remoteInet4, childLocal, settings.config, settings.handlers.get(),
                    this, settings.tls);
            if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
                LOG.log(System.Logger.Level.DEBUG, target.name() + ": accepted fd " + fd + " from "
                        + (remote != null ? remote : SockAddr.unpackInet4(remoteInet4)) + " on " + localAddress);
            }
        } catch (Throwable t) {
            LibC.close(fd);
            LOG.log(System.Logger.Level.WARNING, "could not set up accepted connection fd " + fd, t);
        }
    }

    /** libuv's trick: free the reserve fd, accept and drop what is waiting, take the reserve back. */
    private void shedWithReserve(int err) {
        long before = rejected;
        if (reserveFd >= 0) {
            LibC.close(reserveFd);
            reserveFd = -1;
            int fd;
            while ((fd = acceptOne()) >= 0) {
                LibC.close(fd);
                rejected++;
            }
            reserveFd = openReserve();
        }
        try {
            NetEvents.acceptRejected(listenFd, localAddress, err == Errno.EMFILE ? "EMFILE" : "ENFILE",
                    rejected - before);
            String text = err == Errno.EMFILE ? EMFILE_TEXT : ENFILE_TEXT;
            LOG.log(System.Logger.Level.WARNING, () -> "accept4(fd=" + listenFd + "): " + text + "; closed "
                    + (rejected - before) + " waiting connection(s)");
        } catch (Throwable logFailed) {
            // Logging may itself need an fd (config file, log file): never let it cost the listener.
        }
        if (reserveFd < 0) {
            pauseAccepting(); // no reserve to shed with next time: back off instead of spinning
        }
    }

    private void pauseAccepting() {
        if (exclusive) {
            // The kernel refuses EPOLL_CTL_MOD on an EPOLLEXCLUSIVE registration: take it out, add it back later.
            reRegistering = true;
            try {
                registration.cancel();
            } finally {
                reRegistering = false;
            }
        } else {
            try {
                registration.interest(Interest.NONE);
            } catch (EpollException e) {
                LOG.log(System.Logger.Level.WARNING, "pausing accepts on fd " + listenFd + " failed", e);
                return;
            }
        }
        reactor.schedule(ACCEPT_BACKOFF, () -> {
            if (closed) {
                return;
            }
            if (reserveFd < 0) {
                reserveFd = openReserve();
            }
            try {
                if (exclusive) {
                    registerNow();
                } else if (registration.isValid()) {
                    registration.interest(Interest.READ);
                }
            } catch (EpollException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "resuming accepts on fd " + listenFd + " failed", e);
            }
        });
    }

    void connectionOpened(Connection c) {
        active.incrementAndGet();
        connections.add(c);
    }

    /** Offloaded results of this server's connections dropped because their reactor closed first. */
    final java.util.concurrent.atomic.LongAdder offloadResultsDropped = new java.util.concurrent.atomic.LongAdder();

    /**
     * Results of {@link Offload}s on this server's connections that could not be delivered because the reactor
     * closed first (e.g. a graceful shutdown whose timeout ran out while work was in flight). Any thread.
     *
     * @return the count since the server started
     */
    public long offloadResultsDropped() {
        return offloadResultsDropped.sum();
    }

    void connectionClosed(Connection c) {
        if (connections.remove(c)) {
            active.decrementAndGet();
        }
    }

    /**
     * The connections open now: a live, unmodifiable view that follows opens and closes, safe to iterate from any
     * thread (the connections may run on other reactors' threads when the server belongs to a
     * {@link TcpServerGroup}, whose {@link TcpServerGroup#connections()} is a snapshot over all its servers).
     *
     * @return the open connections
     */
    public Set<Connection> connections() {
        return Collections.unmodifiableSet(connections);
    }

    /**
     * Writes {@code data}'s remaining bytes to every open connection (it is not consumed). On a connection's own
     * reactor thread the write goes straight to its socket; for the others the bytes are copied and handed over.
     * Connections that are closing, or closed meanwhile, are skipped.
     *
     * @param data the bytes
     * @return how many connections it was written to
     */
    public int broadcast(ByteBuffer data) {
        return broadcast(connections, data);
    }

    static int broadcast(Iterable<Connection> to, ByteBuffer data) {
        int n = 0;
        for (Connection c : to) {
            try {
                c.write(data.duplicate());
                n++;
            } catch (ClosedConnectionException closed) {
                // closed or closing since we looked
            }
        }
        return n;
    }

    /** The bound address (with the actual port when port 0 was asked for). */
    public SocketAddress localAddress() {
        return localAddress;
    }

    /** The bound port, or -1 for a Unix-domain server. */
    public int port() {
        return inet ? ((InetSocketAddress) localAddress).getPort() : -1;
    }

    /** The reactor the server runs on. */
    public Reactor reactor() {
        return reactor;
    }

    /** Connections accepted so far. */
    public long acceptedCount() {
        return accepted;
    }

    /** Connections closed at once because the process was out of fds (EMFILE/ENFILE). */
    public long rejectedCount() {
        return rejected;
    }

    /**
     * Connections whose TLS handshake failed (the peer spoke no TLS, a protocol or certificate it could not agree on,
     * a timeout, or it left mid-handshake). Peer trouble, so not a handler failure: each is logged at DEBUG.
     */
    public long tlsHandshakeFailures() {
        return tlsHandshakeFailures.sum();
    }

    /** Hook for {@link Connection}: one of this server's TLS handshakes failed. */
    void tlsHandshakeFailed() {
        tlsHandshakeFailures.increment();
    }

    /** Connections open now (a TLS connection from the end of its handshake on). */
    public int activeConnections() {
        return active.get();
    }

    /**
     * Stops listening and closes the listening socket (a Unix-domain socket file is removed). Connections already
     * accepted keep running until they close or the reactor closes. Safe from any thread; idempotent. On the
     * server's reactor thread, or while no thread runs that reactor, it is done on return; from another reactor's
     * thread it is only requested (see {@link #closeAsync()}); from any other thread this call waits until it is
     * done, or until the reactor has closed (which closes the listener too).
     */
    @Override
    public void close() {
        CompletableFuture<Void> done = closeAsync();
        if (!done.isDone() && Reactor.current() == null) {
            awaitHandOff(done);
        }
    }

    /**
     * Requests {@link #close()} without ever waiting: done at once on the server's reactor thread or while no
     * thread runs that reactor, otherwise handed to the reactor's thread (or, if the reactor is closing, left to
     * its close).
     *
     * @return {@link #closeFuture()}
     */
    public CompletableFuture<Void> closeAsync() {
        if (closeFuture.isDone()) {
            return closeFuture;
        }
        if (reactor.inEventLoop() || !reactor.isRunning()) {
            try {
                closeOnLoop();
                return closeFuture;
            } catch (IllegalStateException raced) {
                // a thread began running the reactor since we looked: hand the close over
            }
        }
        try {
            reactor.execute(this::closeOnLoop);
        } catch (RejectedExecutionException closing) {
            // The reactor's close ends our registration, which closes the listener on the thread running that close.
            // Once no thread runs the reactor nothing can be inside accept4 any more: close it here.
            if (!reactor.isRunning()) {
                closeListener(true);
            }
        }
        return closeFuture;
    }

    /**
     * Completes once the listening socket is closed (by {@link #close()}, {@link #closeAsync()}, the reactor's
     * close, or a failed start). Never completes exceptionally.
     *
     * @return the future
     */
    public CompletableFuture<Void> closeFuture() {
        return closeFuture;
    }

    /** On the loop thread, or while no thread runs the reactor. */
    private void closeOnLoop() {
        if (registration != null && registration.isValid()) {
            registration.cancel(); // its onClosed closes the listener
        }
        closeListener(true);
    }

    /** Closes the listener: on the loop thread, or once nothing can use the fd any more. */
    private void closeListener(boolean closeFd) {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (closeFd && ownsListenFd) {
                LibC.close(listenFd);
            }
            Sockets.closeQuietly(reserveFd);
            reserveFd = -1;
            if (ownsListenFd) {
                deleteSocketFile(localAddress);
            }
        }
        closeFuture.complete(null); // outside the lock: it runs dependants
    }

    private static void deleteSocketFile(SocketAddress address) {
        if (address instanceof UnixDomainSocketAddress u) {
            try {
                java.nio.file.Files.deleteIfExists(u.getPath());
            } catch (java.io.IOException ignored) {
                // best effort
            }
        }
    }

    @Override
    public String toString() {
        return "TcpServer[" + localAddress + ", accepted=" + accepted + ", active=" + active.get() + "]";
    }
}
