package org.epoll4j.net;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * TLS settings for a {@link TcpServer} or {@link TcpClient}, built on the application's {@link SSLContext} (which
 * holds the key material and trust). Immutable; each method returns a copy.
 *
 * <pre>{@code
 * TlsConfig.server(ctx).alpn("h2", "http/1.1").clientAuth(TlsConfig.ClientAuth.WANT)
 * TlsConfig.client(ctx).serverName("example.com").alpn("http/1.1")
 * }</pre>
 */
public final class TlsConfig {
    /** Whether a server asks the client for a certificate. */
    public enum ClientAuth {
        /** Does not ask. */
        NONE,
        /** Asks; a client without a certificate is still accepted. */
        WANT,
        /** Requires one; the handshake fails without it. */
        NEED
    }

    private final SSLContext context;
    private final boolean client;
    private final String[] alpn;
    private final String[] protocols;
    private final ClientAuth clientAuth;
    private final String serverName;
    private final boolean verifyHostname;
    private final Duration handshakeTimeout;
    private final Duration closeNotifyTimeout;
    private final Executor taskExecutor;

    private TlsConfig(SSLContext context, boolean client, String[] alpn, String[] protocols, ClientAuth clientAuth,
                      String serverName, boolean verifyHostname, Duration handshakeTimeout,
                      Duration closeNotifyTimeout, Executor taskExecutor) {
        this.context = context;
        this.client = client;
        this.alpn = alpn;
        this.protocols = protocols;
        this.clientAuth = clientAuth;
        this.serverName = serverName;
        this.verifyHostname = verifyHostname;
        this.handshakeTimeout = handshakeTimeout;
        this.closeNotifyTimeout = closeNotifyTimeout;
        this.taskExecutor = taskExecutor;
    }

    /**
     * Server side: no client authentication, no ALPN, the context's default protocols, handshake timeout 10 s,
     * close_notify awaited 3 s, delegated tasks run on the loop.
     *
     * @param context holds the server's key material
     * @return the settings
     */
    public static TlsConfig server(SSLContext context) {
        return new TlsConfig(Objects.requireNonNull(context, "context"), false, null, null, ClientAuth.NONE, null,
                false, Duration.ofSeconds(10), Duration.ofSeconds(3), null);
    }

    /**
     * Client side: like {@link #server} but in client mode; the server name (SNI and hostname verification)
     * defaults to the host of the address connected to when that is a name, and hostname verification is on.
     *
     * @param context holds the trust (and, for client authentication, the client's key material)
     * @return the settings
     */
    public static TlsConfig client(SSLContext context) {
        return new TlsConfig(Objects.requireNonNull(context, "context"), true, null, null, ClientAuth.NONE, null,
                true, Duration.ofSeconds(10), Duration.ofSeconds(3), null);
    }

    private TlsConfig copy(String[] alpn, String[] protocols, ClientAuth clientAuth, String serverName,
                           boolean verifyHostname, Duration handshakeTimeout, Duration closeNotifyTimeout,
                           Executor taskExecutor) {
        return new TlsConfig(context, client, alpn, protocols, clientAuth, serverName, verifyHostname,
                handshakeTimeout, closeNotifyTimeout, taskExecutor);
    }

    /**
     * ALPN protocols, most preferred first: a client offers them; a server picks the first of these that the client
     * offered (and fails the handshake if there is none). The choice is {@link Connection#applicationProtocol()}.
     *
     * @param protocols e.g. {@code "h2", "http/1.1"}
     * @return a copy with these protocols
     */
    public TlsConfig alpn(String... protocols) {
        return copy(nonEmpty(protocols, "alpn"), this.protocols, clientAuth, serverName, verifyHostname,
                handshakeTimeout, closeNotifyTimeout, taskExecutor);
    }

    /**
     * The TLS versions to enable, e.g. {@code "TLSv1.3"} or {@code "TLSv1.2", "TLSv1.3"} (default: the context's).
     *
     * @param versions protocol names as the JDK spells them
     * @return a copy with these versions
     */
    public TlsConfig protocols(String... versions) {
        return copy(alpn, nonEmpty(versions, "protocols"), clientAuth, serverName, verifyHostname, handshakeTimeout,
                closeNotifyTimeout, taskExecutor);
    }

    /**
     * Client authentication (servers only).
     *
     * @param auth NONE, WANT or NEED
     * @return a copy with that setting
     * @throws IllegalStateException on a client's settings
     */
    public TlsConfig clientAuth(ClientAuth auth) {
        Objects.requireNonNull(auth, "clientAuth");
        if (client) {
            throw new IllegalStateException("clientAuth is a server setting; this is TlsConfig.client(...)");
        }
        return copy(alpn, protocols, auth, serverName, verifyHostname, handshakeTimeout, closeNotifyTimeout,
                taskExecutor);
    }

    /**
     * The server's name (clients only): sent as SNI and checked against the server's certificate.
     *
     * @param name a DNS host name
     * @return a copy with that name
     * @throws IllegalStateException on a server's settings
     */
    public TlsConfig serverName(String name) {
        Objects.requireNonNull(name, "serverName");
        if (!client) {
            throw new IllegalStateException("serverName is a client setting; this is TlsConfig.server(...)");
        }
        new SNIHostName(name); // rejects a malformed name now, with the JDK's message
        return copy(alpn, protocols, clientAuth, name, verifyHostname, handshakeTimeout, closeNotifyTimeout,
                taskExecutor);
    }

    /**
     * Whether a client checks that the server's certificate names the server (default true; turn off only for
     * tests or when the trust manager checks it).
     *
     * @param verify whether to verify
     * @return a copy with that setting
     */
    public TlsConfig verifyHostname(boolean verify) {
        return copy(alpn, protocols, clientAuth, serverName, verify, handshakeTimeout, closeNotifyTimeout,
                taskExecutor);
    }

    /**
     * How long the handshake may take from the TCP connection's start; then the connection closes with an
     * {@link javax.net.ssl.SSLHandshakeException}. Zero: no limit.
     *
     * @param timeout the limit (default 10 s)
     * @return a copy with that limit
     */
    public TlsConfig handshakeTimeout(Duration timeout) {
        return copy(alpn, protocols, clientAuth, serverName, verifyHostname, nonNegative(timeout, "handshakeTimeout"),
                closeNotifyTimeout, taskExecutor);
    }

    /**
     * How long {@link Connection#close()} waits for the peer's close_notify after sending its own (and every queued
     * byte) before closing the socket anyway. Zero: does not wait.
     *
     * @param timeout the limit (default 3 s)
     * @return a copy with that limit
     */
    public TlsConfig closeNotifyTimeout(Duration timeout) {
        return copy(alpn, protocols, clientAuth, serverName, verifyHostname, handshakeTimeout,
                nonNegative(timeout, "closeNotifyTimeout"), taskExecutor);
    }

    /**
     * Where the engine's delegated tasks (certificate checks, key exchange) run: off the loop, while the connection
     * stops reading; the result comes back to the loop. Default (or {@code null}): on the loop, inline.
     *
     * @param executor e.g. a small thread pool
     * @return a copy with that executor
     */
    public TlsConfig taskExecutor(Executor executor) {
        return copy(alpn, protocols, clientAuth, serverName, verifyHostname, handshakeTimeout, closeNotifyTimeout,
                executor);
    }

    /** Whether these are a client's settings. */
    public boolean isClient() {
        return client;
    }

    /** The handshake time limit (zero: none). */
    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /** How long close() waits for the peer's close_notify. */
    public Duration closeNotifyTimeout() {
        return closeNotifyTimeout;
    }

    Executor taskExecutor() {
        return taskExecutor;
    }

    /** A new engine for one connection to or from {@code peer}. */
    SSLEngine newEngine(SocketAddress peer) {
        SSLEngine engine;
        String host = serverName;
        if (peer instanceof InetSocketAddress isa) {
            if (client && host == null && !isa.isUnresolved() && isa.getHostString() != null
                    && !isa.getHostString().equals(isa.getAddress().getHostAddress())) {
                host = isa.getHostString(); // connected by name: that name is what to check
            }
            engine = host != null ? context.createSSLEngine(host, isa.getPort())
                    : context.createSSLEngine(isa.getAddress().getHostAddress(), isa.getPort());
        } else {
            engine = host != null ? context.createSSLEngine(host, -1) : context.createSSLEngine();
        }
        engine.setUseClientMode(client);
        SSLParameters p = engine.getSSLParameters();
        if (protocols != null) {
            p.setProtocols(protocols);
        }
        if (alpn != null) {
            p.setApplicationProtocols(alpn);
        }
        if (client) {
            if (host != null) {
                p.setServerNames(List.of(new SNIHostName(host)));
            }
            if (verifyHostname) {
                p.setEndpointIdentificationAlgorithm("HTTPS");
            }
        } else if (clientAuth == ClientAuth.NEED) {
            p.setNeedClientAuth(true);
        } else if (clientAuth == ClientAuth.WANT) {
            p.setWantClientAuth(true);
        }
        engine.setSSLParameters(p);
        return engine;
    }

    private static String[] nonEmpty(String[] values, String what) {
        if (values == null || values.length == 0) {
            throw new IllegalArgumentException(what + ": at least one value is needed");
        }
        for (String v : values) {
            if (v == null || v.isEmpty()) {
                throw new IllegalArgumentException(what + ": empty or null value in " + java.util.Arrays.toString(values));
            }
        }
        return values.clone();
    }

    private static Duration nonNegative(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative()) {
            throw new IllegalArgumentException(what + " must not be negative: " + d);
        }
        return d;
    }

    @Override
    public String toString() {
        return "TlsConfig[" + (client ? "client" : "server") + (serverName != null ? ", " + serverName : "")
                + (alpn != null ? ", alpn=" + String.join(",", alpn) : "") + "]";
    }
}
