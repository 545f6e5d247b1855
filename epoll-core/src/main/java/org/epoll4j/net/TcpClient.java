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
            if (remote == null || handler == null) {
                throw new IllegalStateException("TcpClient.builder(...) needs remote(...) and handler(...)");
            }
            SockOpts opts = options != null ? options : remote instanceof InetSocketAddress
                    ? SockOpts.empty().with(SockOpt.TCP_NODELAY, true) : SockOpts.empty();
            CompletableFuture<Connection> future = new CompletableFuture<>();
            SocketAddress to = remote;
            ConnectionConfig cfg = config;
            ConnectionHandler h = handler;
            Duration timeout = connectTimeout;
            TlsConfig tlsConfig = tls;
            Runnable start = () -> {
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
                Connection.connecting(reactor, fd, to, cfg, h, future, timeout, tlsConfig);
            };
            if (reactor.inEventLoop()) {
                start.run();
            } else {
                try {
                    reactor.execute(start);
                } catch (RejectedExecutionException e) {
                    future.completeExceptionally(e);
                }
            }
            return future;
        }
    }
}
