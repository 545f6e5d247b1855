package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.Interest;
import org.epoll4j.Reactor;
import org.epoll4j.Ready;
import org.epoll4j.Registration;
import org.epoll4j.Handler;
import org.epoll4j.TriggerMode;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.SockAddr;
import org.epoll4j.internal.Sockets;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
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
 */
public final class TcpServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TcpServer.class.getName());
    private static final Duration ACCEPT_BACKOFF = Duration.ofMillis(100);
    /*
     * Described now: out of fds, the JVM cannot open a .class file from a directory classpath, so loading Errno
     * for the first time in the EMFILE path throws NoClassDefFoundError (and would close the listener).
     */
    private static final String EMFILE_TEXT = Errno.describe(Errno.EMFILE);
    private static final String ENFILE_TEXT = Errno.describe(Errno.ENFILE);

    private final Reactor reactor;
    private final Builder settings;
    private final SocketAddress localAddress;
    private final int listenFd;
    private final boolean inet;
    /** accept4's sockaddr (and socklen_t after it): the peer's address comes with the fd, no getpeername. */
    private final java.nio.ByteBuffer peer = org.epoll4j.internal.NativeMemory.allocate(SockAddr.MAX_SIZE + 8);
    private final long peerAddress = org.epoll4j.internal.NativeMemory.address(peer);
    /** Every accepted socket's local address, unless bound to a wildcard address (then asked for lazily). */
    private final SocketAddress childLocal;
    private Registration registration;
    private int reserveFd;
    private boolean closed;
    private long accepted;
    private long rejected;
    private int active;

    private TcpServer(Reactor reactor, Builder b) throws EpollException {
        this.reactor = reactor;
        this.settings = b;
        this.inet = b.address instanceof InetSocketAddress;
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
            this.registration = reactor.register(fd, Interest.READ, TriggerMode.LEVEL, new Acceptor());
        } catch (EpollException | RuntimeException e) {
            // Undo everything: start() retries on the reactor's thread when register() refused this one, and that
            // retry must find neither a leaked reserve fd nor our Unix-domain socket file (EADDRINUSE).
            Sockets.closeQuietly(fd);
            if (reserve >= 0) {
                LibC.close(reserve);
            }
            if (bound && b.address instanceof UnixDomainSocketAddress u) {
                try {
                    java.nio.file.Files.deleteIfExists(u.getPath());
                } catch (java.io.IOException ignored) {
                    // best effort
                }
            }
            throw e;
        }
        this.reserveFd = reserve;
        this.listenFd = fd;
        this.childLocal = localAddress instanceof InetSocketAddress isa && isa.getAddress().isAnyLocalAddress()
                ? null : localAddress;
    }

    /**
     * A builder for a server on {@code reactor}.
     *
     * @param reactor the reactor that accepts and runs the connections
     * @return the builder
     */
    public static Builder builder(Reactor reactor) {
        return new Builder(Objects.requireNonNull(reactor, "reactor"));
    }

    /** Settings for a {@link TcpServer}. */
    public static final class Builder {
        private final Reactor reactor;
        private SocketAddress address = new InetSocketAddress("127.0.0.1", 0);
        private int backlog = 4096;
        private int acceptBudget = 64;
        private SocketOptions options = SocketOptions.empty().with(SocketOption.SO_REUSEADDR, true);
        private SocketOptions childOptions;
        private ConnectionConfig config = ConnectionConfig.defaults();
        private Supplier<? extends ConnectionHandler> handlers;

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
        public Builder options(SocketOptions options) {
            this.options = Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * Options applied to every accepted socket (default: TCP_NODELAY on for TCP, none for Unix-domain).
         *
         * @param options the options
         * @return this builder
         */
        public Builder childOptions(SocketOptions options) {
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

        /**
         * Binds, listens and registers with the reactor. Call it on the reactor's thread or while no thread runs
         * the reactor; from another thread it is handed to the reactor and this call waits for it.
         *
         * @return the listening server
         * @throws EpollException if socket, bind (e.g. EADDRINUSE) or listen fails
         */
        public TcpServer start() throws EpollException {
            if (handlers == null) {
                throw new IllegalStateException("TcpServer.builder(...).handler(...) or handlerFactory(...) is required");
            }
            if (childOptions == null) {
                childOptions = address instanceof InetSocketAddress
                        ? SocketOptions.empty().with(SocketOption.TCP_NODELAY, true) : SocketOptions.empty();
            }
            return onReactor(reactor, () -> new TcpServer(reactor, this));
        }
    }

    /** Runs {@code action} on the reactor's thread (or here when no thread runs it) and returns its result. */
    static <T> T onReactor(Reactor reactor, EpollCallable<T> action) throws EpollException {
        if (reactor.inEventLoop() || !reactor.isRunning()) {
            return action.call();
        }
        CompletableFuture<T> f = new CompletableFuture<>();
        reactor.execute(() -> {
            try {
                f.complete(action.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + reactor.name(), e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof EpollException ee) {
                throw ee;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(c);
        }
    }

    /** A call that may fail with an {@link EpollException}. */
    interface EpollCallable<T> {
        T call() throws EpollException;
    }

    private static int openReserve() {
        return LibC.open("/dev/null", LibC.O_RDONLY | LibC.O_CLOEXEC);
    }

    private final class Acceptor implements Handler {
        @Override
        public void onReady(Registration reg, Ready ready) {
            for (int i = 0; i < settings.acceptBudget && !closed; i++) {
                peer.putInt(SockAddr.MAX_SIZE, SockAddr.MAX_SIZE);
                int fd = LibC.accept4(listenFd, peerAddress, peerAddress + SockAddr.MAX_SIZE,
                        LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC);
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
                    case 71: // EPROTO: the client went away during the handshake
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
            closeListener();
        }
    }

    private void adopt(int fd) {
        try {
            settings.childOptions.applyTo(fd);
            SocketAddress remote = SockAddr.decode(peer, peer.getInt(SockAddr.MAX_SIZE));
            Connection.accepted(reactor, fd, remote, childLocal, settings.config, settings.handlers.get(), this);
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
            while ((fd = LibC.accept4(listenFd, 0L, 0L, LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC)) >= 0) {
                LibC.close(fd);
                rejected++;
            }
            reserveFd = openReserve();
        }
        try {
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
        try {
            registration.interest(Interest.NONE);
        } catch (EpollException e) {
            LOG.log(System.Logger.Level.WARNING, "pausing accepts on fd " + listenFd + " failed", e);
            return;
        }
        reactor.schedule(ACCEPT_BACKOFF, () -> {
            if (!closed && registration.isValid()) {
                if (reserveFd < 0) {
                    reserveFd = openReserve();
                }
                try {
                    registration.interest(Interest.READ);
                } catch (EpollException e) {
                    LOG.log(System.Logger.Level.WARNING, "resuming accepts on fd " + listenFd + " failed", e);
                }
            }
        });
    }

    void connectionOpened() {
        active++;
    }

    void connectionClosed() {
        active--;
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

    /** Connections open now. */
    public int activeConnections() {
        return active;
    }

    /**
     * Stops listening and closes the listening socket (a Unix-domain socket file is removed). Connections already
     * accepted keep running until they close or the reactor closes. Safe from any thread; idempotent.
     */
    @Override
    public void close() {
        if (reactor.isClosed()) {
            closeListener();
            return;
        }
        try {
            onReactor(reactor, () -> {
                if (registration.isValid()) {
                    registration.cancel();
                }
                closeListener();
                return null;
            });
        } catch (EpollException e) {
            closeListener();
        }
    }

    private synchronized void closeListener() {
        if (closed) {
            return;
        }
        closed = true;
        LibC.close(listenFd);
        if (reserveFd >= 0) {
            LibC.close(reserveFd);
            reserveFd = -1;
        }
        if (localAddress instanceof UnixDomainSocketAddress u) {
            try {
                java.nio.file.Files.deleteIfExists(u.getPath());
            } catch (java.io.IOException ignored) {
                // best effort
            }
        }
    }

    @Override
    public String toString() {
        return "TcpServer[" + localAddress + ", accepted=" + accepted + ", active=" + active + "]";
    }
}
