package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The hardened defaults: Mozilla "intermediate" protocols and suites on the engine (no CBC, no RSA key exchange, no
 * TLS 1.0/1.1), a client offering only an obsolete suite refused, and a TLS 1.2 client's renegotiation refused
 * (allowed again with clientRenegotiation(true)).
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class TlsDefaultsTest {
    private static TlsTestKit kit;

    @BeforeAll
    static void certificates() throws Exception {
        kit = TlsTestKit.get();
    }

    /** Engines a test made without a connection; closed after it (Conscrypt's hold a pipe each until closed). */
    private final List<SSLEngine> made = new java.util.ArrayList<>();

    private SSLEngine made(SSLEngine engine) {
        made.add(engine);
        return engine;
    }

    @org.junit.jupiter.api.AfterEach
    void closeEngines() {
        for (SSLEngine e : made) {
            e.closeOutbound();
            try {
                e.closeInbound();
            } catch (javax.net.ssl.SSLException ignored) {
                // never started: nothing was received
            }
        }
    }

    @Test
    void engineGetsIntermediateProfile() throws Exception {
        SSLEngine engine = made(TlsConfig.server(kit.serverContext()).newEngine(null));
        assertEquals(List.of("TLSv1.3", "TLSv1.2"), Arrays.asList(engine.getEnabledProtocols()));
        List<String> suites = Arrays.asList(engine.getEnabledCipherSuites());
        assertTrue(suites.containsAll(List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")), suites::toString);
        for (String s : suites) {
            assertTrue(TlsDefaults.CIPHER_SUITES.contains(s), s);
            assertFalse(s.contains("CBC") || s.startsWith("TLS_RSA_") || s.contains("_DHE_") || s.contains("SHA1")
                    || s.endsWith("_SHA"), () -> "obsolete suite enabled: " + s);
        }
        SSLEngine client = made(TlsConfig.client(kit.clientContext()).newEngine(null));
        assertEquals(List.of("TLSv1.3", "TLSv1.2"), Arrays.asList(client.getEnabledProtocols()));
        assertEquals(suites, Arrays.asList(client.getEnabledCipherSuites()));
    }

    /** The suite runs once per provider (epoll4j.tls.provider): this proves the provider asked for is the one used. */
    @Test
    void providerInUse() throws Exception {
        switch (TlsTestProvider.NAME) {
            case "jdk" -> assertEquals("SunEC", javax.crypto.KeyAgreement.getInstance("ECDH").getProvider().getName());
            case "accp" -> assertEquals("AmazonCorrettoCryptoProvider",
                    javax.crypto.KeyAgreement.getInstance("ECDH").getProvider().getName());
            default -> assertEquals(TlsTestProvider.jsse().getName(), kit.serverContext().getProvider().getName());
        }
        System.out.println("TLS provider under test: " + TlsTestProvider.NAME + ", SSLContext from "
                + kit.serverContext().getProvider().getName());
    }

    @Test
    void overridesWin() throws Exception {
        TlsConfig base = TlsConfig.server(kit.serverContext());
        SSLEngine own = made(base.protocols("TLSv1.2").cipherSuites("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384").newEngine(null));
        assertArrayEquals(new String[]{"TLSv1.2"}, own.getEnabledProtocols());
        assertArrayEquals(new String[]{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"}, own.getEnabledCipherSuites());
        SSLEngine jdk = made(base.contextDefaults().newEngine(null));
        SSLEngine plain = made(kit.serverContext().createSSLEngine());
        assertEquals(Arrays.asList(plain.getEnabledCipherSuites()), Arrays.asList(jdk.getEnabledCipherSuites()));
        assertTrue(Arrays.stream(jdk.getEnabledCipherSuites()).anyMatch(s -> s.contains("CBC")),
                "the JDK's own defaults still have CBC suites (else this test proves nothing)");
        assertThrows(IllegalStateException.class, () -> TlsConfig.client(kit.clientContext()).clientRenegotiation(true));
        assertFalse(base.allowsClientRenegotiation());
        assertTrue(base.clientRenegotiation(true).allowsClientRenegotiation());
    }

    @Test
    void clientOfferingOnlyCbcIsRefused() throws Exception {
        Tracking h = new Tracking();
        try (Loop loop = Loop.start("tls-cbc")) {
            TcpServer server = TcpServer.builder(loop.reactor).tls(TlsConfig.server(kit.serverContext())).handler(h)
                    .start();
            try (SSLSocket s = socket(kit.peerClientContext(), server)) {
                s.setEnabledProtocols(new String[]{"TLSv1.2"});
                s.setEnabledCipherSuites(new String[]{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"});
                assertThrows(SSLException.class, s::startHandshake);
            }
            assertInstanceOf(SSLHandshakeException.class, h.nextClose().cause());
            assertTrue(h.opened.isEmpty());
            server.close();
        }
    }

    private static SSLSocket socket(SSLContext ctx, TcpServer server) throws IOException {
        InetSocketAddress at = (InetSocketAddress) server.localAddress();
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(at.getAddress(), at.getPort());
        s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        return s;
    }

    /** A TLS 1.2 client says ping, renegotiates (SSLSocket.startHandshake on an established session), says pong. */
    private static Closed renegotiate(TlsConfig tls, boolean expectRefusal) throws Exception {
        Echo echo = new Echo();
        try (Loop loop = Loop.start("tls-reneg")) {
            TcpServer server = TcpServer.builder(loop.reactor).tls(tls).handler(echo).start();
            try (SSLSocket s = socket(kit.peerClientContext(), server)) {
                s.setEnabledProtocols(new String[]{"TLSv1.2"});
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                out.write("ping".getBytes(StandardCharsets.US_ASCII));
                assertEquals("ping", new String(in.readNBytes(4), StandardCharsets.US_ASCII));
                if (expectRefusal) {
                    // a fatal alert, not close_notify: a client must see an error (openssl s_client, testssl.sh)
                    SSLException refused = assertThrows(SSLException.class, () -> {
                        s.startHandshake();
                        out.write("pong".getBytes(StandardCharsets.US_ASCII));
                        if (in.read() < 0) {
                            throw new IOException("EOF");
                        }
                    });
                    assertTrue(refused.getMessage().contains("alert"), refused::toString);
                } else {
                    s.startHandshake();
                    out.write("pong".getBytes(StandardCharsets.US_ASCII));
                    assertEquals("pong", new String(in.readNBytes(4), StandardCharsets.US_ASCII));
                }
            }
            Closed closed = echo.nextClose();
            server.close();
            return closed;
        }
    }

    @Test
    void clientRenegotiationIsRefusedByDefault() throws Exception {
        Closed closed = renegotiate(TlsConfig.server(kit.serverContext()), true);
        assertInstanceOf(SSLHandshakeException.class, closed.cause());
        assertTrue(closed.cause().getMessage().contains("renegotiation"), closed.cause().getMessage());
    }

    @Test
    void clientRenegotiationWhenAllowed() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(TlsTestProvider.isConscrypt(),
                "BoringSSL never renegotiates as a server: clientRenegotiation(true) cannot enable it");
        assertNull(renegotiate(TlsConfig.server(kit.serverContext()).clientRenegotiation(true), false).cause());
    }
}
