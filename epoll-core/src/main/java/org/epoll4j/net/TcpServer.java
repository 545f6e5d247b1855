package org.epoll4j.net;

import org.epoll4j.ClosedReactorException;
import org.epoll4j.EpollException;
import org.epoll4j.FdReusedException;
import org.epoll4j.Reactor;
import org.epoll4j.internal.IoFigures;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.SockAddr;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
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
 * 100 ms rather than spin on a listener that stays readable. If the reactor closes during such a pause, the
 * listener closes with it all the same.
 *
 * <p>{@link Builder#start()} and {@link #close()} work from any thread but never make one reactor's thread wait for
 * another's (two reactors doing that to each other would deadlock): called on another reactor's thread they hand
 * the work over and return at once ({@link #closeFuture()} tells when the listener is closed). The listening fd is
 * closed only on the server's loop thread, or once no thread runs that reactor, so no accept4 can ever run on an fd
 * number that was closed and reused meanwhile.
 */
public final class TcpServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TcpServer.class.getName());

    private final Reactor reactor;
    private final ServerSettings settings;
    private final ListenSocket listener;
    /** False when the listener is shared by a {@link TcpServerGroup} (EXCLUSIVE), which closes it. */
    private final boolean ownsListener;
    private final Acceptor acceptor;
    /** Where accepted connections run: this server's reactor, or the group's next one (HANDOFF). */
    private final Supplier<Reactor> childReactors;
    /** Every accepted socket's local address, unless bound to a wildcard address (then asked for lazily). */
    private final SocketAddress childLocal;
    /** Open connections and the counters behind {@link #stats()}; {@link Connection} reports to them. */
    final ServerCounters counters = new ServerCounters();
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
    private volatile boolean closed;
    /** The MXBean, if {@link Builder#jmxName} asked for one; unregistered when the listener closes. */
    private volatile ServerJmx jmx;

    private TcpServer(Reactor reactor, ServerSettings settings, ListenSocket listener, boolean ownsListener,
                      Acceptor.Share share, Supplier<Reactor> childReactors) {
        this.reactor = reactor;
        this.settings = settings;
        this.listener = listener;
        this.ownsListener = ownsListener;
        this.childReactors = childReactors;
        this.childLocal = childLocal(listener.localAddress);
        this.acceptor = new Acceptor(reactor, listener.fd, listener.localAddress, settings.acceptBudget, !ownsListener,
                share, new Acceptor.Sink() {
                    @Override
                    public void accepted(int fd, SocketAddress remote, long remoteInet4) {
                        adopt(fd, remote, remoteInet4);
                    }

                    @Override
                    public void ended(Throwable cause) {
                        // An fd number that was closed under us and reused belongs to someone else now: leave it.
                        closeListener(!(cause instanceof FdReusedException));
                    }
                });
    }

    private static SocketAddress childLocal(SocketAddress listening) {
        return listening instanceof InetSocketAddress isa && isa.getAddress().isAnyLocalAddress() ? null : listening;
    }

    /**
     * Binds and listens with {@code settings} on the calling thread, then starts accepting on {@code reactor}.
     *
     * @param childReactors where accepted connections run (a group's HANDOFF), or {@code null} for {@code reactor}
     */
    static TcpServer open(Reactor reactor, ServerSettings settings, Supplier<Reactor> childReactors)
            throws EpollException {
        if (reactor.isClosed()) {
            throw closedReactor(reactor, "start");
        }
        ListenSocket listener = ListenSocket.open(settings, settings.options);
        TcpServer server;
        try {
            server = new TcpServer(reactor, settings, listener, true, null, childReactors);
        } catch (RuntimeException | Error e) {
            listener.close();
            throw e;
        }
        server.startAccepting();
        return server;
    }

    /** A member of an EXCLUSIVE group: accepts from {@code shared} (which the group owns) on {@code reactor}. */
    static TcpServer member(Reactor reactor, ServerSettings settings, ListenSocket shared, Acceptor.Share share)
            throws EpollException {
        if (reactor.isClosed()) {
            throw closedReactor(reactor, "start");
        }
        TcpServer server = new TcpServer(reactor, settings, shared, false, share, null);
        server.startAccepting();
        return server;
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

    /** Settings for a {@link TcpServer}; each setter checks its value at once. */
    public static final class Builder {
        private final Reactor reactor;
        private ServerSettings settings = ServerSettings.DEFAULTS;
        private String jmxName;

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
            settings = settings.address(address);
            return this;
        }

        /**
         * The listen(2) backlog (default 4096; the kernel caps it at net.core.somaxconn).
         *
         * @param backlog 1 or more
         * @return this builder
         */
        public Builder backlog(int backlog) {
            settings = settings.backlog(backlog);
            return this;
        }

        /**
         * The most connections accepted per readiness event (default 64).
         *
         * @param budget 1 or more
         * @return this builder
         */
        public Builder acceptBudget(int budget) {
            settings = settings.acceptBudget(budget);
            return this;
        }

        /**
         * Options for the listening socket (default SO_REUSEADDR on).
         *
         * @param options the options
         * @return this builder
         */
        public Builder options(SockOpts options) {
            settings = settings.options(options);
            return this;
        }

        /**
         * Options applied to every accepted socket (default: TCP_NODELAY on for TCP, none for Unix-domain).
         *
         * @param options the options
         * @return this builder
         */
        public Builder childOptions(SockOpts options) {
            settings = settings.childOptions(options);
            return this;
        }

        /**
         * Trigger mode, watermarks, read budget and idle timeouts of accepted connections.
         *
         * @param config the configuration
         * @return this builder
         */
        public Builder config(ConnectionConfig config) {
            settings = settings.config(config);
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
            settings = settings.tls(tls);
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
            settings = settings.handlers(() -> handler);
            return this;
        }

        /**
         * A new handler per connection.
         *
         * @param factory called once per accepted connection
         * @return this builder
         */
        public Builder handlerFactory(Supplier<? extends ConnectionHandler> factory) {
            settings = settings.handlers(factory);
            return this;
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
            TcpServer server = open(reactor, settings.resolved("TcpServer"), null);
            if (jmxName != null) {
                server.registerMBean(jmxName);
            }
            return server;
        }

        /**
         * Registers the server's {@link #stats() statistics} as a {@link TcpServerMXBean} named
         * {@code org.epoll4j:type=TcpServer,name=NAME} on the platform MBean server when it starts (default: none),
         * unregistered when its listener closes. {@link #start()} throws {@link IllegalStateException} (and leaves
         * nothing open) if another MBean has that name.
         *
         * @param name a non-empty name, unique among registered servers (quoted if JMX needs it)
         * @return this builder
         */
        public Builder jmxName(String name) {
            ServerJmx.objectName(Objects.requireNonNull(name, "name")); // a bad name fails here, not at start()
            this.jmxName = name;
            return this;
        }
    }

    /** Registers the MXBean; if that fails, closes the server and throws. */
    private void registerMBean(String name) {
        try {
            jmx = ServerJmx.register(name, localAddress(), this::stats);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        if (closeFuture.isDone()) {
            jmx.unregister(); // closed meanwhile (the reactor's end): closeListener may have looked before we set it
        }
    }

    private static ClosedReactorException closedReactor(Reactor reactor, String op) {
        return new ClosedReactorException("TcpServer." + op + ": " + reactor.name() + " is closed");
    }

    /** Registers the listener with the reactor: here when allowed, else handed to the reactor's thread. */
    private void startAccepting() throws EpollException {
        // However the reactor ends (even with the acceptor paused and out of epoll), the listener closes with it.
        reactor.terminationFuture().whenComplete((ok, t) -> closeListener(true));
        if (reactor.inEventLoop() || !reactor.isRunning()) {
            try {
                acceptor.register();
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
                    acceptor.register();
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
                    LOG.log(System.Logger.Level.WARNING, "TcpServer on " + localAddress() + " could not start", t);
                }
            });
            return;
        }
        if (!awaitEither(registered)) {
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

    /**
     * Waits for {@code f}, the outcome of a task handed to the reactor, or for the reactor's end (which closes the
     * listener: no thread runs the reactor any more).
     *
     * @return false if interrupted (the interrupt flag is set again)
     */
    private boolean awaitEither(CompletableFuture<?> f) {
        try {
            CompletableFuture.anyOf(f, reactor.terminationFuture()).get();
        } catch (ExecutionException e) {
            // f failed: the caller looks at it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return true;
    }

    /** Makes an accepted socket a connection, here or on the group's next reactor (HANDOFF). */
    private void adopt(int fd, SocketAddress remote, long remoteInet4) {
        Reactor target = childReactors == null ? reactor : childReactors.get();
        if (target == reactor) {
            setUp(reactor, fd, remote, remoteInet4);
            return;
        }
        try {
            target.execute(() -> setUp(target, fd, remote, remoteInet4));
        } catch (RejectedExecutionException closing) {
            LibC.close(fd); // that reactor is closing: the client sees the connection closed
            acceptor.rejectedOne();
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
                        + (remote != null ? remote : SockAddr.unpackInet4(remoteInet4)) + " on " + localAddress());
            }
        } catch (Throwable t) {
            LibC.close(fd);
            LOG.log(System.Logger.Level.WARNING, "could not set up accepted connection fd " + fd, t);
        }
    }

    /**
     * Results of {@link Offload}s on this server's connections that could not be delivered because the reactor
     * closed first (e.g. a graceful shutdown whose timeout ran out while work was in flight). Any thread.
     *
     * @return the count since the server started
     */
    public long offloadResultsDropped() {
        return counters.offloadResultsDropped();
    }

    /**
     * A snapshot of this server's connections and memory: open and paused connections, bytes queued, read and
     * written, direct memory, and the accept counters. Safe from any thread; computed now by a walk over the open
     * connections (see {@link ServerStats} for what each value counts and how current it is).
     *
     * @return the snapshot
     */
    public ServerStats stats() {
        return ServerStats.of(List.of(this));
    }

    /** Adds this server's connection figures to {@code io}, and the reactors they run on to {@code reactors}. */
    void addTo(IoFigures io, Set<Reactor> reactors) {
        reactors.add(reactor);
        counters.connections.addTo(io, childReactors != null ? reactors : null);
    }

    /**
     * The connections open now: a live, unmodifiable view that follows opens and closes, safe to iterate from any
     * thread (the connections may run on other reactors' threads when the server belongs to a
     * {@link TcpServerGroup}, whose {@link TcpServerGroup#connections()} is a snapshot over all its servers).
     *
     * @return the open connections
     */
    public Set<Connection> connections() {
        return Collections.unmodifiableSet(counters.connections.live());
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
        return broadcast(counters.connections.live(), data);
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
        return listener.localAddress;
    }

    /** The listening fd (shared by the members of an EXCLUSIVE group); for tests. */
    int listenFd() {
        return listener.fd;
    }

    /** The accept loop; for the group and tests. */
    Acceptor acceptor() {
        return acceptor;
    }

    /** The bound port, or -1 for a Unix-domain server. */
    public int port() {
        return listener.localAddress instanceof InetSocketAddress i ? i.getPort() : -1;
    }

    /** The reactor the server runs on. */
    public Reactor reactor() {
        return reactor;
    }

    /** Connections accepted so far. */
    public long acceptedCount() {
        return acceptor.accepted();
    }

    /** Connections closed at once because the process was out of fds (EMFILE/ENFILE). */
    public long rejectedCount() {
        return acceptor.rejected();
    }

    /**
     * Connections whose TLS handshake failed (the peer spoke no TLS, a protocol or certificate it could not agree on,
     * a timeout, or it left mid-handshake). Peer trouble, so not a handler failure: each is logged at DEBUG.
     */
    public long tlsHandshakeFailures() {
        return counters.tlsHandshakeFailures();
    }

    /** Connections open now (a TLS connection from the end of its handshake on). */
    public int activeConnections() {
        return counters.active();
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
            awaitEither(done);
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
        acceptor.stop(); // its registration's end closes the listener
        closeListener(true);
    }

    /** Closes the listener: on the loop thread, or once nothing can use the fd any more. */
    private void closeListener(boolean closeFd) {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            acceptor.closeReserve();
            if (ownsListener) {
                listener.close(closeFd);
            }
        }
        ServerJmx bean = jmx;
        if (bean != null) {
            bean.unregister(); // before closeFuture completes: whoever waits for the close finds it gone
        }
        closeFuture.complete(null); // outside the lock: it runs dependants
    }

    @Override
    public String toString() {
        return "TcpServer[" + listener.localAddress + ", accepted=" + acceptor.accepted() + ", active="
                + counters.active() + "]";
    }
}
