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
 * holds the key material and trust; {@link TlsContextBuilder} builds one from PEM or PKCS#12 files, on any JSSE
 * provider). Immutable; each method returns a copy. Defaults are hardened ({@link TlsDefaults}): Mozilla's
 * "intermediate" protocols and suites, client-initiated renegotiation refused.
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
    private String[] alpn;
    private String[] protocols;
    private String[] cipherSuites;
    private boolean contextDefaults;
    private boolean clientRenegotiation;
    private ClientAuth clientAuth = ClientAuth.NONE;
    private String serverName;
    private boolean verifyHostname;
    private Duration handshakeTimeout = Duration.ofSeconds(10);
    private Duration closeNotifyTimeout = Duration.ofSeconds(3);
    private Executor taskExecutor;
    /** TlsDefaults intersected with the provider's support, computed for the first engine (racy but idempotent). */
    private volatile String[] defaultProtocols;
    private volatile String[] defaultCipherSuites;

    private TlsConfig(SSLContext context, boolean client) {
        this.context = Objects.requireNonNull(context, "context");
        this.client = client;
        this.verifyHostname = client;
    }

    /**
     * Server side: Mozilla's "intermediate" profile ({@link TlsDefaults}: TLS 1.3, and TLS 1.2 with ECDHE and AEAD
     * suites only), client-initiated renegotiation refused, no client authentication, no ALPN, handshake timeout
     * 10 s, close_notify awaited 3 s, delegated tasks run on the loop.
     *
     * @param context holds the server's key material (see {@link TlsContextBuilder} to build one from PEM files)
     * @return the settings
     */
    public static TlsConfig server(SSLContext context) {
        return new TlsConfig(context, false);
    }

    /**
     * Client side: like {@link #server} but in client mode; the server name (SNI and hostname verification)
     * defaults to the host of the address connected to when that is a name, and hostname verification is on.
     *
     * @param context holds the trust (and, for client authentication, the client's key material)
     * @return the settings
     */
    public static TlsConfig client(SSLContext context) {
        return new TlsConfig(context, true);
    }

    private TlsConfig copy() {
        TlsConfig c = new TlsConfig(context, client);
        c.alpn = alpn;
        c.protocols = protocols;
        c.cipherSuites = cipherSuites;
        c.contextDefaults = contextDefaults;
        c.clientRenegotiation = clientRenegotiation;
        c.clientAuth = clientAuth;
        c.serverName = serverName;
        c.verifyHostname = verifyHostname;
        c.handshakeTimeout = handshakeTimeout;
        c.closeNotifyTimeout = closeNotifyTimeout;
        c.taskExecutor = taskExecutor;
        return c;
    }

    /**
     * ALPN protocols, most preferred first: a client offers them; a server picks the first of these that the client
     * offered (and fails the handshake if there is none). The choice is {@link Connection#applicationProtocol()}.
     *
     * @param protocols e.g. {@code "h2", "http/1.1"}
     * @return a copy with these protocols
     */
    public TlsConfig alpn(String... protocols) {
        TlsConfig c = copy();
        c.alpn = nonEmpty(protocols, "alpn");
        return c;
    }

    /**
     * The TLS versions to enable, e.g. {@code "TLSv1.3"} (default: {@link TlsDefaults#PROTOCOLS}, TLS 1.3 and 1.2,
     * as far as the provider supports them).
     *
     * @param versions protocol names as the JDK spells them
     * @return a copy with these versions
     */
    public TlsConfig protocols(String... versions) {
        TlsConfig c = copy();
        c.protocols = nonEmpty(versions, "protocols");
        return c;
    }

    /**
     * The cipher suites to enable, most preferred first, as the JDK names them (default: {@link
     * TlsDefaults#CIPHER_SUITES}, Mozilla's "intermediate" list, as far as the provider supports them).
     *
     * @param suites e.g. {@code "TLS_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}
     * @return a copy with these suites
     */
    public TlsConfig cipherSuites(String... suites) {
        TlsConfig c = copy();
        c.cipherSuites = nonEmpty(suites, "cipherSuites");
        return c;
    }

    /**
     * Uses the context's (the provider's) own default protocols and cipher suites instead of {@link TlsDefaults}
     * (which may include CBC suites and RSA key exchange); {@link #protocols} and {@link #cipherSuites} still win.
     *
     * @return a copy with that setting
     */
    public TlsConfig contextDefaults() {
        TlsConfig c = copy();
        c.contextDefaults = true;
        return c;
    }

    /**
     * Whether a server lets a TLS 1.2 client renegotiate on an established connection (default false: the
     * connection is closed with an alert and an {@link javax.net.ssl.SSLHandshakeException}, as nginx does; each
     * renegotiation costs the server a full handshake, a cheap denial of service). TLS 1.3 has no renegotiation; its
     * key updates are always followed. Decided per connection, without the JDK's global
     * {@code jdk.tls.rejectClientInitiatedRenegotiation} property.
     *
     * @param allow true to let clients renegotiate
     * @return a copy with that setting
     * @throws IllegalStateException on a client's settings
     */
    public TlsConfig clientRenegotiation(boolean allow) {
        if (client) {
            throw new IllegalStateException("clientRenegotiation is a server setting; this is TlsConfig.client(...)");
        }
        TlsConfig c = copy();
        c.clientRenegotiation = allow;
        return c;
    }

    /** Whether a server follows a client's renegotiation (TLS 1.2); see {@link #clientRenegotiation(boolean)}. */
    public boolean allowsClientRenegotiation() {
        return clientRenegotiation;
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
        TlsConfig c = copy();
        c.clientAuth = auth;
        return c;
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
        TlsConfig c = copy();
        c.serverName = name;
        return c;
    }

    /**
     * Whether a client checks that the server's certificate names the server (default true; turn off only for
     * tests or when the trust manager checks it).
     *
     * @param verify whether to verify
     * @return a copy with that setting
     */
    public TlsConfig verifyHostname(boolean verify) {
        TlsConfig c = copy();
        c.verifyHostname = verify;
        return c;
    }

    /**
     * How long the handshake may take from the TCP connection's start; then the connection closes with an
     * {@link javax.net.ssl.SSLHandshakeException}. Zero: no limit.
     *
     * @param timeout the limit (default 10 s)
     * @return a copy with that limit
     */
    public TlsConfig handshakeTimeout(Duration timeout) {
        TlsConfig c = copy();
        c.handshakeTimeout = nonNegative(timeout, "handshakeTimeout");
        return c;
    }

    /**
     * How long {@link Connection#close()} waits for the peer's close_notify after sending its own (and every queued
     * byte) before closing the socket anyway. Zero: does not wait.
     *
     * @param timeout the limit (default 3 s)
     * @return a copy with that limit
     */
    public TlsConfig closeNotifyTimeout(Duration timeout) {
        TlsConfig c = copy();
        c.closeNotifyTimeout = nonNegative(timeout, "closeNotifyTimeout");
        return c;
    }

    /**
     * Where the engine's delegated tasks (certificate checks, key exchange) run: off the loop, while the connection
     * stops reading; the result comes back to the loop. Default (or {@code null}): on the loop, inline.
     *
     * @param executor e.g. a small thread pool
     * @return a copy with that executor
     */
    public TlsConfig taskExecutor(Executor executor) {
        TlsConfig c = copy();
        c.taskExecutor = executor;
        return c;
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
        } else if (!contextDefaults) {
            if (defaultProtocols == null) {
                defaultProtocols = TlsDefaults.protocols(engine);
            }
            p.setProtocols(defaultProtocols);
        }
        if (cipherSuites != null) {
            p.setCipherSuites(cipherSuites);
        } else if (!contextDefaults) {
            if (defaultCipherSuites == null) {
                defaultCipherSuites = TlsDefaults.cipherSuites(engine);
            }
            p.setCipherSuites(defaultCipherSuites);
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
        EngineQuirks.apply(engine);
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
