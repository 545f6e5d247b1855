package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Session resumption with the defaults: a client that reconnects with the same context resumes its session (TLS 1.3
 * PSK from a session ticket; TLS 1.2 session ID or ticket) instead of a full handshake; a client without the session
 * does a full one. On the provider under test (TlsTestProvider), with the test kit's context and with contexts from
 * {@link TlsContextBuilder} for an RSA 2048 and an EC P-256 certificate; the client is the JDK's SSLSocket.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class TlsResumptionTest {
    private static TlsTestKit kit;

    @BeforeAll
    static void certificates() throws Exception {
        kit = TlsTestKit.get();
    }

    /** Connects, says ping (so a TLS 1.3 client reads the server's ticket), returns the client's session. */
    private static SSLSession pingOnce(SSLContext client, TcpServer server, String version) throws Exception {
        InetSocketAddress at = (InetSocketAddress) server.localAddress();
        try (SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket(at.getHostString(), at.getPort())) {
            s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            s.setEnabledProtocols(new String[]{version});
            s.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            assertEquals("ping", new String(s.getInputStream().readNBytes(4), StandardCharsets.US_ASCII));
            return s.getSession();
        }
    }

    private static boolean resumes(TlsConfig tls, String version, boolean sameClient) throws Exception {
        return resumes(tls, kit::peerClientContext, version, sameClient);
    }

    private interface Clients {
        SSLContext newContext() throws Exception;
    }

    private static boolean resumes(TlsConfig tls, Clients clients, String version, boolean sameClient)
            throws Exception {
        Echo echo = new Echo();
        try (Loop loop = Loop.start("tls-resume")) {
            TcpServer server = TcpServer.builder(loop.reactor).tls(tls).handler(echo).start();
            SSLContext client = clients.newContext();
            SSLSession first = pingOnce(client, server, version);
            echo.nextClose();
            SSLSession second = pingOnce(sameClient ? client : clients.newContext(), server, version);
            Connection c = echo.nextClose().connection();
            server.close();
            assertEquals(version, second.getProtocol());
            assertNotNull(c);
            // a resumed session keeps the original's creation time; a full handshake makes a new session
            return first.getCreationTime() == second.getCreationTime();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void reconnectingClientResumes(String version) throws Exception {
        assertTrue(resumes(TlsConfig.server(kit.serverContext()), version, true), "the second handshake was a full one");
    }

    /** The control: a client that lost its session (another context) gets a full handshake, and the check sees it. */
    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void aClientWithoutTheSessionDoesAFullHandshake(String version) throws Exception {
        assertFalse(resumes(TlsConfig.server(kit.serverContext()), version, false));
    }

    /** A server context from TlsContextBuilder (PEM chain and key) on the provider under test. */
    private static TlsConfig builtServer(String alg) throws Exception {
        TlsContextBuilder b = TlsContextBuilder.forServer(TlsPki.file(alg + "-chain.pem"), TlsPki.file(alg + "-leaf.key"));
        if (TlsTestProvider.jsse() != null) {
            b = b.provider(TlsTestProvider.jsse());
        }
        return b.toConfig();
    }

    /** The JDK's client (SunJSSE, whatever the provider under test) trusting the root of {@code alg}'s chain. */
    private static SSLContext trusting(String alg) throws Exception {
        return TlsContextBuilder.forClient().trust(TlsPki.file(alg + "-root.pem")).provider("SunJSSE").build();
    }

    /** RSA and EC certificates alike: the key type must not decide whether sessions resume. */
    @ParameterizedTest
    @CsvSource({"rsa, TLSv1.3", "rsa, TLSv1.2", "ec, TLSv1.3", "ec, TLSv1.2"})
    void reconnectingClientResumesWithEitherKeyType(String alg, String version) throws Exception {
        TlsConfig server = builtServer(alg);
        assertTrue(resumes(server, () -> trusting(alg), version, true), "the second handshake was a full one");
        assertFalse(resumes(server, () -> trusting(alg), version, false), "the control resumed: the check sees nothing");
    }
}
