package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.Reactor;
import org.epoll4j.ReactorGroup;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

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
 *       leave waiting. No thundering herd; the spread follows who is idle, not a hash, capped: a reactor holding
 *       more than 9/8 of the mean number of connections (+1) leaves accepts to the others (as nginx's
 *       {@code ngx_accept_disabled} does), unless they have not answered for 100 ms.</li>
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
        /**
         * One listener registered in every reactor with EPOLLEXCLUSIVE; an idle reactor takes the accept, unless it
         * holds more than its fair share of the connections (9/8 of the mean, +1).
         */
        EXCLUSIVE,
        /** One acceptor (the group's first reactor) hands accepted sockets to the reactors round-robin. */
        HANDOFF
    }

    private final ReactorGroup group;
    private final AcceptStrategy strategy;
    private final List<TcpServer> servers;
    private final SocketAddress localAddress;
    /** The MXBean, if {@link Builder#jmxName} asked for one. */
    private volatile ServerJmx jmx;

    private TcpServerGroup(ReactorGroup group, AcceptStrategy strategy, List<TcpServer> servers, ListenSocket shared) {
        this.group = group;
        this.strategy = strategy;
        this.servers = List.copyOf(servers);
        this.localAddress = servers.get(0).localAddress();
        if (shared != null) {
            // Every member has stopped using the shared fd once all their listeners are closed.
            closeFuture().whenComplete((ok, t) -> shared.close());
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

    /**
     * Settings for a {@link TcpServerGroup}; the same as {@link TcpServer.Builder}'s (one immutable settings value
     * that every listener shares), plus the strategy. Each setter checks its value at once.
     */
    public static final class Builder {
        private final ReactorGroup group;
        private ServerSettings settings = ServerSettings.DEFAULTS;
        private AcceptStrategy strategy = AcceptStrategy.REUSEPORT;
        private Function<Reactor, ? extends ConnectionHandler> perReactorFactory;
        private String jmxName;

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
            settings = settings.address(address);
            return this;
        }

        /**
         * See {@link TcpServer.Builder#backlog}.
         *
         * @param backlog 1 or more
         * @return this builder
         */
        public Builder backlog(int backlog) {
            settings = settings.backlog(backlog);
            return this;
        }

        /**
         * See {@link TcpServer.Builder#acceptBudget}.
         *
         * @param budget 1 or more
         * @return this builder
         */
        public Builder acceptBudget(int budget) {
            settings = settings.acceptBudget(budget);
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
            settings = settings.options(options);
            return this;
        }

        /**
         * See {@link TcpServer.Builder#childOptions}.
         *
         * @param options the options
         * @return this builder
         */
        public Builder childOptions(SockOpts options) {
            settings = settings.childOptions(options);
            return this;
        }

        /**
         * See {@link TcpServer.Builder#config}.
         *
         * @param config the configuration
         * @return this builder
         */
        public Builder config(ConnectionConfig config) {
            settings = settings.config(config);
            return this;
        }

        /**
         * See {@link TcpServer.Builder#tls}.
         *
         * @param tls server-side settings
         * @return this builder
         */
        public Builder tls(TlsConfig tls) {
            settings = settings.tls(tls);
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
            settings = settings.handlers(() -> handler);
            perReactorFactory = null;
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
            settings = settings.handlers(factory);
            perReactorFactory = null;
            return this;
        }

        /**
         * One handler per reactor, made here for each of the group's reactors and shared by the connections that
         * run on that reactor only: per-reactor state (counters, caches) without locks or atomics.
         *
         * @param factory called once per reactor, on the thread calling {@link #start()}
         * @return this builder
         */
        public Builder handlerPerReactor(Function<Reactor, ? extends ConnectionHandler> factory) {
            this.perReactorFactory = Objects.requireNonNull(factory, "handlerPerReactor");
            settings = settings.handlers(() -> {
                throw new IllegalStateException("replaced at start");
            });
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
            ServerSettings s = settings.resolved("TcpServerGroup");
            if (group.current() != null) {
                throw new IllegalStateException("TcpServerGroup.start() on one of " + group.name()
                        + "'s own threads would wait for its other reactors; call it from another thread");
            }
            if (perReactorFactory != null) {
                Map<Reactor, ConnectionHandler> perReactor = new IdentityHashMap<>();
                for (Reactor r : group) {
                    perReactor.put(r, Objects.requireNonNull(perReactorFactory.apply(r), "handler for " + r.name()));
                }
                Map<Reactor, ConnectionHandler> handlers = Collections.unmodifiableMap(perReactor);
                s = s.handlers(() -> handlers.get(Reactor.current()));
            }
            TcpServerGroup started;
            switch (strategy) {
                case REUSEPORT:
                    started = startReusePort(s);
                    break;
                case EXCLUSIVE:
                    started = startExclusive(s);
                    break;
                default:
                    started = startHandOff(s);
            }
            if (jmxName != null) {
                started.registerMBean(jmxName);
            }
            return started;
        }

        /**
         * Registers the group's {@link TcpServerGroup#stats() statistics} (the sum over its servers) as one
         * {@link TcpServerMXBean} named {@code org.epoll4j:type=TcpServer,name=NAME} when it starts (default: none),
         * unregistered when every listener has closed; the per-reactor servers are not registered one by one.
         * {@link #start()} throws {@link IllegalStateException} (and leaves nothing open) if another MBean has that
         * name.
         *
         * @param name a non-empty name, unique among registered servers (quoted if JMX needs it)
         * @return this builder
         */
        public Builder jmxName(String name) {
            ServerJmx.objectName(Objects.requireNonNull(name, "name")); // a bad name fails here, not at start()
            this.jmxName = name;
            return this;
        }

        private TcpServerGroup startReusePort(ServerSettings s) throws EpollException {
            List<TcpServer> started = new ArrayList<>();
            ServerSettings member = s.options(s.options.with(SockOpt.SO_REUSEPORT, true));
            try {
                for (Reactor r : group) {
                    TcpServer server = TcpServer.open(r, member, null);
                    started.add(server);
                    // port 0: the others join the port the kernel picked for the first
                    member = member.address(server.localAddress());
                }
            } catch (EpollException | RuntimeException e) {
                started.forEach(TcpServer::close);
                throw e;
            }
            return new TcpServerGroup(group, AcceptStrategy.REUSEPORT, started, null);
        }

        private TcpServerGroup startExclusive(ServerSettings s) throws EpollException {
            ListenSocket shared = ListenSocket.open(s, s.options);
            FairShare share = new FairShare(group.size());
            List<TcpServer> started = new ArrayList<>();
            try {
                for (Reactor r : group) {
                    TcpServer member = TcpServer.member(r, s, shared, group.size() > 1 ? share.of(started.size())
                            : null);
                    started.add(member);
                    share.joined(started.size() - 1, member);
                }
            } catch (EpollException | RuntimeException e) {
                started.forEach(TcpServer::close);
                shared.close();
                throw e;
            }
            return new TcpServerGroup(group, AcceptStrategy.EXCLUSIVE, started, shared);
        }

        private TcpServerGroup startHandOff(ServerSettings s) throws EpollException {
            TcpServer server = TcpServer.open(group.reactor(0), s, group::next);
            return new TcpServerGroup(group, AcceptStrategy.HANDOFF, List.of(server), null);
        }
    }

    /**
     * EXCLUSIVE balance. The kernel wakes the same idle reactor first for every new connection (its wait queue is
     * ordered), so without help one reactor ends up with most of a burst. Like nginx's {@code ngx_accept_disabled},
     * a member holding more than its fair share (above 9/8 of the mean, plus one) accepts nothing: it takes its
     * registration out for {@link Acceptor#YIELD} (re-added at the end of the wait queue) and hands what is
     * waiting to the member holding the fewest connections, which is never above its share, so accepts always make
     * progress. A member whose loop has not run an earlier hand-off within 100 ms is busy: it is
     * skipped, and with no one else to take them the member accepts after all (an idle reactor still takes the
     * accepts a blocked one would leave waiting).
     */
    private static final class FairShare {
        private final TcpServer[] members;

        FairShare(int size) {
            this.members = new TcpServer[size];
        }

        void joined(int index, TcpServer member) {
            synchronized (members) {
                members[index] = member;
            }
        }

        private TcpServer[] snapshot() {
            synchronized (members) {
                return members.clone();
            }
        }

        Acceptor.Share of(int index) {
            return new Acceptor.Share() {
                private TcpServer[] all;

                private TcpServer[] all() {
                    TcpServer[] a = all;
                    if (a == null || a[a.length - 1] == null) {
                        a = snapshot(); // until every member has joined; then fixed
                        all = a;
                    }
                    return a;
                }

                @Override
                public boolean aboveShare() {
                    TcpServer[] a = all();
                    long total = 0;
                    long mine = 0;
                    for (int i = 0; i < a.length; i++) {
                        if (a[i] != null) {
                            int n = a[i].activeConnections();
                            total += n;
                            if (i == index) {
                                mine = n;
                            }
                        }
                    }
                    // mine > total/N * 9/8 + 1, in integers
                    return mine * a.length * 8 > total * 9 + 8L * a.length;
                }

                @Override
                public boolean handOff() {
                    TcpServer[] a = all();
                    long now = System.nanoTime();
                    TcpServer least = null;
                    for (int i = 0; i < a.length; i++) {
                        TcpServer m = a[i];
                        if (i != index && m != null && !m.reactor().isClosed() && !m.acceptor().handOffStale(now)
                                && (least == null || m.activeConnections() < least.activeConnections())) {
                            least = m;
                        }
                    }
                    return least != null && least.acceptor().handOff(now);
                }
            };
        }
    }

    /** Registers the MXBean; if that fails, closes the group and throws. */
    private void registerMBean(String name) {
        ServerJmx bean;
        try {
            bean = ServerJmx.register(name, localAddress, this::stats);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        jmx = bean;
        closeFuture().whenComplete((ok, t) -> bean.unregister()); // however the listeners end (a reactor's close)
    }

    /**
     * A snapshot of the group's connections and memory: the sum over its {@link #servers() servers} (each reactor's
     * direct memory counted once). Safe from any thread; computed now by a walk over the open connections (see
     * {@link ServerStats}).
     *
     * @return the snapshot
     */
    public ServerStats stats() {
        return ServerStats.of(servers);
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
        return (int) sum(TcpServer::activeConnections);
    }

    /** Connections accepted so far, by all listeners. */
    public long acceptedCount() {
        return sum(TcpServer::acceptedCount);
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
            unregisterMBean(); // here too, so the caller finds it gone on return (the dependant may run after us)
        }
    }

    private void unregisterMBean() {
        ServerJmx bean = jmx;
        if (bean != null) {
            bean.unregister();
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
        return sum(TcpServer::offloadResultsDropped);
    }

    /** {@code counter} summed over the servers. */
    private long sum(ToLongFunction<TcpServer> counter) {
        long n = 0;
        for (TcpServer s : servers) {
            n += counter.applyAsLong(s);
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
