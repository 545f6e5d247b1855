package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.Reactor;
import org.epoll4j.ReactorGroup;
import org.epoll4j.internal.Sockets;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * One server on every reactor of a {@link ReactorGroup}: the same port, connections spread over the group's
 * threads. Three ways to spread them ({@link AcceptStrategy}):
 *
 * <ul>
 *   <li>{@link AcceptStrategy#REUSEPORT}: one {@code SO_REUSEPORT} listener per reactor; the kernel hashes each
 *       new connection's 4-tuple onto one of them. Even spread over many clients, no shared accept queue, but a
 *       busy reactor still gets its share.</li>
 *   <li>{@link AcceptStrategy#EXCLUSIVE}: one listener in every reactor's epoll set with {@code EPOLLEXCLUSIVE};
 *       the kernel wakes one waiting reactor per connection, so an idle reactor takes the accepts a busy one would
 *       leave waiting. No thundering herd; the spread follows who is idle, not a hash.</li>
 *   <li>{@link AcceptStrategy#HANDOFF}: one listener on the group's first reactor, which hands accepted sockets to
 *       the reactors round-robin (the classic acceptor thread). Exactly even counts, portable, but every accept
 *       costs the acceptor a system call and a cross-thread hand-off.</li>
 * </ul>
 *
 * <pre>{@code
 * ReactorGroup group = ReactorGroup.open(4);
 * TcpServerGroup server = TcpServerGroup.builder(group)
 *         .bind(new InetSocketAddress("0.0.0.0", 7007))
 *         .accept(AcceptStrategy.REUSEPORT)
 *         .handlerFactory(EchoHandler::new)
 *         .start();
 * }</pre>
 *
 * <p>{@link ReactorGroup#shutdownGracefully} stops the listeners and closes every connection gracefully (its
 * queued bytes are sent first, and a connection with {@link Offload} results outstanding stops reading, delivers and
 * writes them, then closes), so no byte already written is lost on shutdown; results the timeout cuts off are
 * counted ({@link #offloadResultsDropped()}).
 */
public final class TcpServerGroup implements AutoCloseable {
    /** How a {@link TcpServerGroup} spreads accepted connections over its reactors. */
    public enum AcceptStrategy {
        /** One SO_REUSEPORT listener per reactor; the kernel balances by the connection's 4-tuple hash. */
        REUSEPORT,
        /** One listener registered in every reactor with EPOLLEXCLUSIVE; an idle reactor takes the accept. */
        EXCLUSIVE,
        /** One acceptor (the group's first reactor) hands accepted sockets to the reactors round-robin. */
        HANDOFF
    }

    private final ReactorGroup group;
    private final AcceptStrategy strategy;
    private final List<TcpServer> servers;
    private final int sharedFd;
    private final SocketAddress localAddress;

    private TcpServerGroup(ReactorGroup group, AcceptStrategy strategy, List<TcpServer> servers, int sharedFd,
                           SocketAddress localAddress) {
        this.group = group;
        this.strategy = strategy;
        this.servers = List.copyOf(servers);
        this.sharedFd = sharedFd;
        this.localAddress = localAddress;
        if (sharedFd >= 0) {
            // Every member has stopped using the shared fd once all their listeners are closed.
            CompletableFuture.allOf(this.servers.stream().map(TcpServer::closeFuture)
                    .toArray(CompletableFuture[]::new)).whenComplete((ok, t) -> {
                        Sockets.closeQuietly(sharedFd);
                        if (localAddress instanceof UnixDomainSocketAddress u) {
                            try {
                                java.nio.file.Files.deleteIfExists(u.getPath());
                            } catch (java.io.IOException ignored) {
                                // best effort
                            }
                        }
                    });
        }
        group.addShutdownListener(this::closeGracefully);
    }

    /**
     * A builder for a server on every reactor of {@code group}.
     *
     * @param group the reactors
     * @return the builder
     */
    public static Builder builder(ReactorGroup group) {
        return new Builder(Objects.requireNonNull(group, "group"));
    }

    /** Settings for a {@link TcpServerGroup}; the same as {@link TcpServer.Builder}'s, plus the strategy. */
    public static final class Builder {
        private final ReactorGroup group;
        private final List<java.util.function.Consumer<TcpServer.Builder>> settings = new ArrayList<>();
        private SocketAddress address = new InetSocketAddress("127.0.0.1", 0);
        private AcceptStrategy strategy = AcceptStrategy.REUSEPORT;
        private SockOpts options;
        private boolean hasHandler;
        private java.util.function.Function<Reactor, ? extends ConnectionHandler> perReactorFactory;
        private final Map<Reactor, ConnectionHandler> perReactor = new java.util.concurrent.ConcurrentHashMap<>();

        private Builder(ReactorGroup group) {
            this.group = group;
        }

        /**
         * How to spread connections over the reactors (default {@link AcceptStrategy#REUSEPORT}).
         *
         * @param strategy the strategy
         * @return this builder
         */
        public Builder accept(AcceptStrategy strategy) {
            this.strategy = Objects.requireNonNull(strategy, "strategy");
            return this;
        }

        /**
         * Where to listen; see {@link TcpServer.Builder#bind}. Port 0 picks one free port for the whole group.
         *
         * @param address the address
         * @return this builder
         */
        public Builder bind(SocketAddress address) {
            this.address = Objects.requireNonNull(address, "address");
            settings.add(b -> b.bind(this.address));
            return this;
        }

        /**
         * See {@link TcpServer.Builder#backlog}.
         *
         * @param backlog 1 or more
         * @return this builder
         */
        public Builder backlog(int backlog) {
            TcpServer.builder(group.reactor(0)).backlog(backlog); // checks the value now
            settings.add(b -> b.backlog(backlog));
            return this;
        }

        /**
         * See {@link TcpServer.Builder#acceptBudget}.
         *
         * @param budget 1 or more
         * @return this builder
         */
        public Builder acceptBudget(int budget) {
            TcpServer.builder(group.reactor(0)).acceptBudget(budget);
            settings.add(b -> b.acceptBudget(budget));
            return this;
        }

        /**
         * Options of the listening socket(s); see {@link TcpServer.Builder#options}. REUSEPORT adds
         * {@code SO_REUSEPORT} itself.
         *
         * @param options the options
         * @return this builder
         */
        public Builder options(SockOpts options) {
            this.options = Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * See {@link TcpServer.Builder#childOptions}.
         *
         * @param options the options
         * @return this builder
         */
        public Builder childOptions(SockOpts options) {
            Objects.requireNonNull(options, "childOptions");
            settings.add(b -> b.childOptions(options));
            return this;
        }

        /**
         * See {@link TcpServer.Builder#config}.
         *
         * @param config the configuration
         * @return this builder
         */
        public Builder config(ConnectionConfig config) {
            Objects.requireNonNull(config, "config");
            settings.add(b -> b.config(config));
            return this;
        }

        /**
         * See {@link TcpServer.Builder#tls}.
         *
         * @param tls server-side settings
         * @return this builder
         */
        public Builder tls(TlsConfig tls) {
            TcpServer.builder(group.reactor(0)).tls(tls); // checks the value now
            settings.add(b -> b.tls(tls));
            return this;
        }

        /**
         * One handler shared by every connection on every reactor: it is called from several threads at once, so
         * it must be thread-safe (or use {@link #handlerFactory}).
         *
         * @param handler the handler
         * @return this builder
         */
        public Builder handler(ConnectionHandler handler) {
            Objects.requireNonNull(handler, "handler");
            settings.add(b -> b.handler(handler));
            hasHandler = true;
            return this;
        }

        /**
         * A new handler per connection, made on the reactor thread the connection runs on (for every strategy, so a
         * factory may look at {@link Reactor#current()}, the reactor it runs on).
         *
         * @param factory called once per accepted connection, possibly from several threads at once
         * @return this builder
         */
        public Builder handlerFactory(Supplier<? extends ConnectionHandler> factory) {
            Objects.requireNonNull(factory, "handlerFactory");
            settings.add(b -> b.handlerFactory(factory));
            hasHandler = true;
            return this;
        }

        /**
         * One handler per reactor, made here for each of the group's reactors and shared by the connections that
         * run on that reactor only: per-reactor state (counters, caches) without locks or atomics.
         *
         * @param factory called once per reactor, on the thread calling {@link #start()}
         * @return this builder
         */
        public Builder handlerPerReactor(java.util.function.Function<Reactor, ? extends ConnectionHandler> factory) {
            Objects.requireNonNull(factory, "handlerPerReactor");
            settings.add(b -> b.handlerFactory(() -> perReactor.get(Reactor.current())));
            perReactorFactory = factory;
            hasHandler = true;
            return this;
        }

        /**
         * Binds, listens and starts accepting on every reactor. Call it from a thread that is not one of the
         * group's.
         *
         * @return the running server
         * @throws EpollException if socket, bind (e.g. EADDRINUSE) or listen fails; nothing is left open then
         */
        public TcpServerGroup start() throws EpollException {
            if (!hasHandler) {
                throw new IllegalStateException("TcpServerGroup.builder(...).handler(...) or handlerFactory(...) is "
                        + "required");
            }
            if (group.current() != null) {
                throw new IllegalStateException("TcpServerGroup.start() on one of " + group.name()
                        + "'s own threads would wait for its other reactors; call it from another thread");
            }
            if (perReactorFactory != null) {
                for (Reactor r : group) {
                    perReactor.put(r, Objects.requireNonNull(perReactorFactory.apply(r), "handler for " + r.name()));
                }
            }
            switch (strategy) {
                case REUSEPORT:
                    return startReusePort();
                case EXCLUSIVE:
                    return startExclusive();
                default:
                    return startHandOff();
            }
        }

        private TcpServer.Builder member(Reactor reactor) {
            TcpServer.Builder b = TcpServer.builder(reactor);
            for (java.util.function.Consumer<TcpServer.Builder> s : settings) {
                s.accept(b);
            }
            if (options != null) {
                b.options(options);
            }
            return b;
        }

        private TcpServerGroup startReusePort() throws EpollException {
            List<TcpServer> started = new ArrayList<>();
            SocketAddress at = address;
            try {
                for (Reactor r : group) {
                    TcpServer.Builder b = member(r).bind(at);
                    b.options(b.options().with(SockOpt.SO_REUSEPORT, true));
                    TcpServer s = b.start();
                    started.add(s);
                    at = s.localAddress(); // port 0: the others join the port the kernel picked for the first
                }
            } catch (EpollException | RuntimeException e) {
                started.forEach(TcpServer::close);
                throw e;
            }
            return new TcpServerGroup(group, AcceptStrategy.REUSEPORT, started, -1, started.get(0).localAddress());
        }

        private TcpServerGroup startExclusive() throws EpollException {
            TcpServer.Builder template = member(group.reactor(0));
            int fd = Sockets.open(address);
            List<TcpServer> started = new ArrayList<>();
            SocketAddress local;
            try {
                template.options().applyTo(fd);
                Sockets.bind(fd, address);
                Sockets.listen(fd, template.backlog());
                local = Sockets.localAddress(fd);
                for (Reactor r : group) {
                    started.add(member(r).sharedListener(fd, local).start());
                }
            } catch (EpollException | RuntimeException e) {
                started.forEach(TcpServer::close);
                Sockets.closeQuietly(fd);
                if (address instanceof UnixDomainSocketAddress u) {
                    try {
                        java.nio.file.Files.deleteIfExists(u.getPath());
                    } catch (java.io.IOException ignored) {
                        // best effort
                    }
                }
                throw e;
            }
            return new TcpServerGroup(group, AcceptStrategy.EXCLUSIVE, started, fd, local);
        }

        private TcpServerGroup startHandOff() throws EpollException {
            TcpServer s = member(group.reactor(0)).childReactors(group::next).start();
            return new TcpServerGroup(group, AcceptStrategy.HANDOFF, List.of(s), -1, s.localAddress());
        }
    }

    /** The strategy this server spreads connections with. */
    public AcceptStrategy strategy() {
        return strategy;
    }

    /** The group's reactors. */
    public ReactorGroup group() {
        return group;
    }

    /** The per-reactor listeners: one per reactor, or one in all for HANDOFF. */
    public List<TcpServer> servers() {
        return servers;
    }

    /** The bound address (with the actual port when port 0 was asked for). */
    public SocketAddress localAddress() {
        return localAddress;
    }

    /** The bound port, or -1 for a Unix-domain server. */
    public int port() {
        return localAddress instanceof InetSocketAddress i ? i.getPort() : -1;
    }

    /** Connections open now, on all reactors. */
    public int activeConnections() {
        int n = 0;
        for (TcpServer s : servers) {
            n += s.activeConnections();
        }
        return n;
    }

    /** Connections accepted so far, by all listeners. */
    public long acceptedCount() {
        long n = 0;
        for (TcpServer s : servers) {
            n += s.acceptedCount();
        }
        return n;
    }

    /**
     * How many connections are open on each reactor now, in the group's reactor order (a reactor with none maps to
     * 0): how evenly the strategy spread them.
     *
     * @return reactor name to open connections
     */
    public Map<String, Integer> connectionsPerReactor() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Reactor r : group) {
            counts.put(r.name(), 0);
        }
        for (TcpServer s : servers) {
            for (Connection c : s.connections()) {
                counts.merge(c.reactor().name(), 1, Integer::sum);
            }
        }
        return counts;
    }

    /**
     * Every open connection, on all reactors: a snapshot (a copy taken now), unlike {@link TcpServer#connections()}'s
     * live view. The group's connections are spread over one server per reactor; the copy is their union at one
     * moment, with a size that agrees with its contents (a live union's could not), so later opens and closes do
     * not show in it. Use each {@link #servers() server}'s view for a live one.
     *
     * @return a new set of the connections open when called
     */
    public Set<Connection> connections() {
        Set<Connection> all = new HashSet<>();
        for (TcpServer s : servers) {
            all.addAll(s.connections());
        }
        return all;
    }

    /**
     * Writes {@code data}'s remaining bytes to every open connection on every reactor; see
     * {@link TcpServer#broadcast}.
     *
     * @param data the bytes (not consumed)
     * @return how many connections it was written to
     */
    public int broadcast(ByteBuffer data) {
        int n = 0;
        for (TcpServer s : servers) {
            n += s.broadcast(data);
        }
        return n;
    }

    /**
     * Stops listening on every reactor; connections keep running. Never waits for one reactor on another's thread.
     */
    @Override
    public void close() {
        for (TcpServer s : servers) {
            s.closeAsync();
        }
        if (group.current() == null) {
            closeFuture().join();
        }
    }

    /**
     * Stops listening and closes every connection gracefully: each sends what it has queued, then closes. What
     * {@link ReactorGroup#shutdownGracefully} does for every server on the group.
     */
    public void closeGracefully() {
        for (TcpServer s : servers) {
            s.closeAsync();
        }
        for (Connection c : connections()) {
            try {
                Offload.closeGracefully(c); // after its offloaded results, if it has any
            } catch (ClosedConnectionException gone) {
                // its reactor is closing: the connection ends with it
            }
        }
    }

    /**
     * Results of {@link Offload}s on the group's connections that could not be delivered because their reactor
     * closed first (a graceful shutdown whose timeout ran out). Any thread.
     *
     * @return the sum over the group's servers
     */
    public long offloadResultsDropped() {
        long n = 0;
        for (TcpServer s : servers) {
            n += s.offloadResultsDropped();
        }
        return n;
    }

    /** Completes once every listener is closed. */
    public CompletableFuture<Void> closeFuture() {
        return CompletableFuture.allOf(servers.stream().map(TcpServer::closeFuture).toArray(CompletableFuture[]::new));
    }

    @Override
    public String toString() {
        return "TcpServerGroup[" + localAddress + ", " + strategy + ", " + group.size() + " reactors, active="
                + activeConnections() + "]";
    }
}
