package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.Reactor;
import org.epoll4j.internal.Sockets;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;

/**
 * Opens client connections with a non-blocking connect: EINPROGRESS, wait for writability, then SO_ERROR.
 *
 * <pre>{@code
 * TcpClient.builder(reactor)
 *         .remote(new InetSocketAddress("127.0.0.1", 7007))
 *         .handler(myHandler)
 *         .connect()                      // CompletableFuture<Connection>
 *         .thenAccept(c -> c.write("hello\n"));
 * }</pre>
 *
 * <p>A failed connect (ECONNREFUSED, ETIMEDOUT, ...) reaches the handler's {@link ConnectionHandler#onClose} with
 * an {@link EpollException} naming the errno (without {@link ConnectionHandler#onOpen} before it), and completes
 * the future exceptionally.
 */
public final class TcpClient {
    private TcpClient() {
    }

    /**
     * A builder for one connection from {@code reactor}.
     *
     * @param reactor the reactor the connection runs on
     * @return the builder
     */
    public static Builder builder(Reactor reactor) {
        return new Builder(Objects.requireNonNull(reactor, "reactor"));
    }

    /** Settings for one client connection. */
    public static final class Builder {
        private final Reactor reactor;
        private SocketAddress remote;
        private SockOpts options;
        private ConnectionConfig config = ConnectionConfig.defaults();
        private ConnectionHandler handler;
        private Duration connectTimeout = Duration.ofSeconds(30);
        private TlsConfig tls;
        private String host;
        private int port;
        private Resolver resolver = Resolver.system();
        private Duration attemptDelay = Duration.ofMillis(250);

        private Builder(Reactor reactor) {
            this.reactor = reactor;
        }

        /**
         * The address to connect to.
         *
         * @param remote an {@link InetSocketAddress} (resolved) or a {@link java.net.UnixDomainSocketAddress}
         * @return this builder
         */
        public Builder remote(SocketAddress remote) {
            this.remote = Objects.requireNonNull(remote, "remote");
            this.host = null;
            return this;
        }

        /**
         * The host and port to connect to: the name is resolved off the loop ({@link #resolver}), and its addresses
         * race with happy eyeballs (RFC 8305): families interleaved, a new attempt every {@link #attemptDelay} or as
         * soon as one fails, the first to open wins and the others are aborted unseen by the handler.
         *
         * @param host a name or an IP literal
         * @param port {@code 1..65535}
         * @return this builder
         */
        public Builder remote(String host, int port) {
            Objects.requireNonNull(host, "host");
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port must be 1..65535: " + port);
            }
            this.host = host;
            this.port = port;
            this.remote = null;
            return this;
        }

        /**
         * @param resolver resolves {@link #remote(String, int)}'s host (default {@link Resolver#system()})
         * @return this builder
         */
        public Builder resolver(Resolver resolver) {
            this.resolver = Objects.requireNonNull(resolver, "resolver");
            return this;
        }

        /**
         * @param delay how long an attempt runs before the next address's starts beside it (RFC 8305's Connection
         *              Attempt Delay; default 250 ms, the RFC's recommendation; 10 ms..2 s)
         * @return this builder
         */
        public Builder attemptDelay(Duration delay) {
            if (delay.compareTo(Duration.ofMillis(10)) < 0 || delay.compareTo(Duration.ofSeconds(2)) > 0) {
                throw new IllegalArgumentException("attemptDelay must be 10 ms..2 s (RFC 8305): " + delay);
            }
            this.attemptDelay = delay;
            return this;
        }

        /**
         * Socket options (default: TCP_NODELAY on for TCP).
         *
         * @param options the options
         * @return this builder
         */
        public Builder options(SockOpts options) {
            this.options = Objects.requireNonNull(options, "options");
            return this;
        }

        /**
         * Trigger mode, watermarks, read budget and idle timeouts.
         *
         * @param config the configuration
         * @return this builder
         */
        public Builder config(ConnectionConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            return this;
        }

        /**
         * How long the connect may take before it fails with ETIMEDOUT (default 30 s; zero: no limit but the
         * kernel's).
         *
         * @param timeout the limit
         * @return this builder
         */
        public Builder connectTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "connectTimeout");
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("connectTimeout must not be negative: " + timeout);
            }
            this.connectTimeout = timeout;
            return this;
        }

        /**
         * Runs TLS over the connection: the handler's {@code onOpen} runs once the handshake finished, and it reads
         * and writes plaintext.
         *
         * @param tls client-side settings ({@link TlsConfig#client})
         * @return this builder
         * @throws IllegalArgumentException if {@code tls} holds server-side settings
         */
        public Builder tls(TlsConfig tls) {
            Objects.requireNonNull(tls, "tls");
            if (!tls.isClient()) {
                throw new IllegalArgumentException("TcpClient needs TlsConfig.client(...), not " + tls);
            }
            this.tls = tls;
            return this;
        }

        /**
         * The connection's handler.
         *
         * @param handler the handler
         * @return this builder
         */
        public Builder handler(ConnectionHandler handler) {
            this.handler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * Starts connecting; safe from any thread.
         *
         * @return completes with the connection once established (after {@link ConnectionHandler#onOpen}), or
         *         exceptionally with the reason it failed
         */
        public CompletableFuture<Connection> connect() {
            if ((remote == null && host == null) || handler == null) {
                throw new IllegalStateException("TcpClient.builder(...) needs remote(...) and handler(...)");
            }
            CompletableFuture<Connection> future = new CompletableFuture<>();
            if (host == null) {
                SocketAddress to = remote;
                ConnectionHandler h = handler;
                onLoop(future, () -> start(to, h, future));
                return future;
            }
            String name = host;
            int p = port;
            Duration delay = attemptDelay;
            ConnectionHandler h = handler;
            resolver.resolve(name).whenComplete((addresses, e) -> onLoop(future, () -> {
                if (e != null) {
                    future.completeExceptionally(e instanceof java.util.concurrent.CompletionException
                            && e.getCause() != null ? e.getCause() : e);
                } else {
                    HappyEyeballs.race(reactor, addresses, p, delay, h, (address, attempt) -> {
                        CompletableFuture<Connection> one = new CompletableFuture<>();
                        start(address, attempt, one);
                        return one;
                    }, future);
                }
            }));
            return future;
        }

        private void onLoop(CompletableFuture<Connection> future, Runnable task) {
            if (reactor.inEventLoop()) {
                task.run();
            } else {
                try {
                    reactor.execute(task);
                } catch (RejectedExecutionException e) {
                    future.completeExceptionally(e);
                }
            }
        }

        /** One connect to {@code to}, on the reactor's thread. */
        private void start(SocketAddress to, ConnectionHandler h, CompletableFuture<Connection> future) {
            SockOpts opts = options != null ? options : to instanceof InetSocketAddress
                    ? SockOpts.empty().with(SockOpt.TCP_NODELAY, true) : SockOpts.empty();
            int fd;
            try {
                fd = Sockets.open(to);
            } catch (EpollException e) {
                future.completeExceptionally(e);
                return;
            }
            try {
                opts.applyTo(fd);
            } catch (EpollException e) {
                Sockets.closeQuietly(fd);
                future.completeExceptionally(e);
                return;
            }
            Connection.connecting(reactor, fd, to, config, h, future, connectTimeout, tls);
        }
    }
}
