package org.epoll4j.net;

import org.epoll4j.internal.SockAddr;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Everything a server is started with, as one immutable value: what {@link TcpServer.Builder} and
 * {@link TcpServerGroup.Builder} collect (each setter makes a new value, checked at once), and what every listener
 * of a group shares. The builders are thin shells over it.
 */
final class ServerSettings {
    static final ServerSettings DEFAULTS = new ServerSettings(new InetSocketAddress("127.0.0.1", 0), 4096, 64,
            SockOpts.empty().with(SockOpt.SO_REUSEADDR, true), null, ConnectionConfig.defaults(), null, null);

    final SocketAddress address;
    final int backlog;
    final int acceptBudget;
    /** Options of the listening socket. */
    final SockOpts options;
    /** Options of every accepted socket; {@code null} until {@link #resolved}: the default depends on the address. */
    final SockOpts childOptions;
    final ConnectionConfig config;
    /** Makes each connection's handler; {@code null} until one is given. */
    final Supplier<? extends ConnectionHandler> handlers;
    final TlsConfig tls;

    private ServerSettings(SocketAddress address, int backlog, int acceptBudget, SockOpts options, SockOpts childOptions,
                           ConnectionConfig config, Supplier<? extends ConnectionHandler> handlers, TlsConfig tls) {
        this.address = address;
        this.backlog = backlog;
        this.acceptBudget = acceptBudget;
        this.options = options;
        this.childOptions = childOptions;
        this.config = config;
        this.handlers = handlers;
        this.tls = tls;
    }

    ServerSettings address(SocketAddress address) {
        SockAddr.family(Objects.requireNonNull(address, "address"));
        return new ServerSettings(address, backlog, acceptBudget, options, childOptions, config, handlers, tls);
    }

    ServerSettings backlog(int backlog) {
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog must be >= 1: " + backlog);
        }
        return new ServerSettings(address, backlog, acceptBudget, options, childOptions, config, handlers, tls);
    }

    ServerSettings acceptBudget(int budget) {
        if (budget < 1) {
            throw new IllegalArgumentException("accept budget must be >= 1: " + budget);
        }
        return new ServerSettings(address, backlog, budget, options, childOptions, config, handlers, tls);
    }

    ServerSettings options(SockOpts options) {
        Objects.requireNonNull(options, "options");
        return new ServerSettings(address, backlog, acceptBudget, options, childOptions, config, handlers, tls);
    }

    ServerSettings childOptions(SockOpts childOptions) {
        Objects.requireNonNull(childOptions, "childOptions");
        return new ServerSettings(address, backlog, acceptBudget, options, childOptions, config, handlers, tls);
    }

    ServerSettings config(ConnectionConfig config) {
        Objects.requireNonNull(config, "config");
        return new ServerSettings(address, backlog, acceptBudget, options, childOptions, config, handlers, tls);
    }

    ServerSettings tls(TlsConfig tls) {
        Objects.requireNonNull(tls, "tls");
        if (tls.isClient()) {
            throw new IllegalArgumentException("TcpServer needs TlsConfig.server(...), not " + tls);
        }
        return new ServerSettings(address, backlog, acceptBudget, options, childOptions, config, handlers, tls);
    }

    ServerSettings handlers(Supplier<? extends ConnectionHandler> handlers) {
        Objects.requireNonNull(handlers, "handlerFactory");
        return new ServerSettings(address, backlog, acceptBudget, options, childOptions, config, handlers, tls);
    }

    /**
     * The settings a server starts with: a handler is required, and accepted TCP sockets get TCP_NODELAY unless
     * child options were given.
     *
     * @param who the builder, for the message
     * @throws IllegalStateException if no handler was given
     */
    ServerSettings resolved(String who) {
        if (handlers == null) {
            throw new IllegalStateException(who + ".builder(...).handler(...) or handlerFactory(...) is required");
        }
        if (childOptions != null) {
            return this;
        }
        return childOptions(address instanceof InetSocketAddress
                ? SockOpts.empty().with(SockOpt.TCP_NODELAY, true) : SockOpts.empty());
    }

    @Override
    public String toString() {
        return "ServerSettings[" + address + ", backlog=" + backlog + ", acceptBudget=" + acceptBudget
                + (tls != null ? ", tls" : "") + "]";
    }
}
