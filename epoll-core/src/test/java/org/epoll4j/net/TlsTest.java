package org.epoll4j.net;

import org.epoll4j.TriggerMode;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * TLS on connections against the JDK's own SSLSocket and SSLServerSocket: handshake and byte-exact echo both ways
 * (TLS 1.2 and 1.3, both trigger modes), ALPN, SNI, client authentication, handshake timeout, garbage, truncation,
 * close_notify, corking and a TLS 1.3 key update mid-stream.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class TlsTest {
    private static final int TOTAL = 1 << 20;
    private static final long SEED = 20261127L;
    private static TlsTestKit kit;

    @BeforeAll
    static void certificates() throws Exception {
        kit = TlsTestKit.get();
    }

    static Stream<Arguments> versionsAndModes() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (String v : new String[]{"TLSv1.2", "TLSv1.3"}) {
            for (TriggerMode m : TriggerMode.values()) {
                b.add(Arguments.of(v, m));
            }
        }
        return b.build();
    }

    private static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private TcpServer server(Loop loop, TlsConfig tls, ConnectionConfig config, ConnectionHandler h) throws Exception {
        return TcpServer.builder(loop.reactor).config(config).tls(tls).handler(h).start();
    }

    private SSLSocket sslClient(SSLContext ctx, InetSocketAddress at, String... protocols) throws IOException {
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(at.getAddress(), at.getPort());
        s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        if (protocols.length > 0) {
            s.setEnabledProtocols(protocols);
        }
        return s;
    }

    /** Writes {@code data} in random-sized pieces (seeded) on a thread of its own. */
    private static Thread writer(OutputStream out, byte[] data, long seed) {
        Thread t = new Thread(() -> {
            Random r = new Random(seed);
            try {
                for (int i = 0; i < data.length; ) {
                    int n = Math.min(data.length - i, 1 + r.nextInt(40_000));
                    out.write(data, i, n);
                    i += n;
                }
                out.flush();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "tls-test-writer");
        t.start();
        return t;
    }

    private static byte[] readN(InputStream in, int n) throws IOException {
        byte[] b = new byte[n];
        int off = 0;
        while (off < n) {
            int r = in.read(b, off, n - off);
            if (r < 0) {
                throw new IOException("EOF after " + off + " of " + n + " bytes");
            }
            off += r;
        }
        return b;
    }

    // ------------------------------------------------------------------ echo both ways

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("versionsAndModes")
    void serverEchoesRandomChunksToSslSocket(String version, TriggerMode mode) throws Exception {
        System.out.println("seed " + SEED);
        byte[] data = random(SEED, TOTAL);
        Echo echo = new Echo();
        try (Loop loop = Loop.start("tls-echo-server")) {
            TcpServer server = server(loop, TlsConfig.server(kit.serverContext()),
                    ConnectionConfig.defaults().withTrigger(mode), echo);
            try (SSLSocket s = sslClient(kit.peerClientContext(), (InetSocketAddress) server.localAddress(), version)) {
                s.startHandshake();
                Connection c = echo.nextOpen();
                assertEquals(version, s.getSession().getProtocol());
                assertEquals(version, c.tlsSession().getProtocol());
                assertTrue(c.isTls());
                Thread w = writer(s.getOutputStream(), data, SEED + 1);
                byte[] back = readN(s.getInputStream(), TOTAL);
                w.join();
                assertArrayEquals(data, back, "echo of " + TOTAL + " bytes (seed " + SEED + ")");
            }
            Closed closed = echo.nextClose();
            assertNull(closed.cause(), "the SSLSocket's close sent close_notify: a clean close");
            server.close();
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("versionsAndModes")
    void clientEchoesRandomChunksThroughSslServerSocket(String version, TriggerMode mode) throws Exception {
        System.out.println("seed " + SEED);
        byte[] data = random(SEED, TOTAL);
        try (SSLServerSocket ss = (SSLServerSocket) kit.peerServerContext().getServerSocketFactory()
                .createServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress());
             Loop loop = Loop.start("tls-echo-client")) {
            ss.setEnabledProtocols(new String[]{version});
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (Socket s = ss.accept()) {
                    s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                    byte[] buf = new byte[8192];
                    InputStream in = s.getInputStream();
                    OutputStream out = s.getOutputStream();
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        out.write(buf, 0, n);
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            CompletableFuture<Void> all = new CompletableFuture<>();
            Tracking h = new Tracking() {
                @Override
                public void onData(Connection c, ByteBuffer d) {
                    byte[] b = new byte[d.remaining()];
                    d.get(b);
                    received.write(b, 0, b.length);
                    if (received.size() >= TOTAL) {
                        all.complete(null);
                    }
                }
            };
            Connection c = TcpClient.builder(loop.reactor).remote(new InetSocketAddress("127.0.0.1", ss.getLocalPort()))
                    .config(ConnectionConfig.defaults().withTrigger(mode))
                    .tls(TlsConfig.client(kit.clientContext()).protocols(version)).handler(h)
                    .connect().get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(version, c.tlsSession().getProtocol());
            Random r = new Random(SEED + 2);
            loop.call(() -> {
                for (int i = 0; i < TOTAL; ) {
                    int n = Math.min(TOTAL - i, 1 + r.nextInt(40_000));
                    c.write(ByteBuffer.wrap(data, i, n));
                    i += n;
                }
                return null;
            });
            all.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertArrayEquals(data, received.toByteArray(), "echo through SSLServerSocket (seed " + SEED + ")");
            c.close();
            Closed closed = h.nextClose();
            assertNull(closed.cause(), "close_notify exchanged");
            served.get(WAIT_SECONDS, TimeUnit.SECONDS);
        }
    }

    // ------------------------------------------------------------------ failures

    @Test
    void clientStoppingMidHandshakeIsTimedOut() throws Exception {
        Tracking h = new Tracking();
        try (Loop loop = Loop.start("tls-hs-timeout")) {
            TcpServer server = server(loop, TlsConfig.server(kit.serverContext())
                    .handshakeTimeout(Duration.ofMillis(300)), ConnectionConfig.defaults(), h);
            try (Socket raw = new Socket()) {
                raw.connect(server.localAddress());
                // the start of a handshake record, then nothing
                raw.getOutputStream().write(new byte[]{0x16, 0x03, 0x01, 0x02, 0x00, 0x01});
                Closed closed = h.nextClose();
                assertInstanceOf(SSLHandshakeException.class, closed.cause());
                assertTrue(closed.cause().getMessage().contains("not finished after 300 ms"), closed.cause().getMessage());
                assertTrue(h.opened.isEmpty(), "onOpen never ran");
            }
            server.close();
        }
    }

    @Test
    void garbageInsteadOfClientHelloClosesOnlyThatConnection() throws Exception {
        Echo echo = new Echo();
        try (Loop loop = Loop.start("tls-garbage")) {
            TcpServer server = server(loop, TlsConfig.server(kit.serverContext()), ConnectionConfig.defaults(), echo);
            InetSocketAddress at = (InetSocketAddress) server.localAddress();
            try (SSLSocket good = sslClient(kit.peerClientContext(), at)) {
                good.startHandshake();
                echo.nextOpen();
                try (Socket raw = new Socket()) {
                    raw.connect(at);
                    raw.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    Closed closed = echo.nextClose();
                    assertInstanceOf(SSLException.class, closed.cause());
                    raw.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                    InputStream in = raw.getInputStream();
                    while (in.read() >= 0) {
                        // an alert, maybe, then EOF
                    }
                }
                good.getOutputStream().write("still here".getBytes(StandardCharsets.US_ASCII));
                assertEquals("still here", new String(readN(good.getInputStream(), 10), StandardCharsets.US_ASCII));
            }
            assertNull(echo.nextClose().cause());
            server.close();
        }
    }

    @Test
    void peerClosingWithoutCloseNotifyIsTruncation() throws Exception {
        Tracking h = new Tracking();
        try (Loop loop = Loop.start("tls-truncation")) {
            TcpServer server = server(loop, TlsConfig.server(kit.serverContext()), ConnectionConfig.defaults(), h);
            InetSocketAddress at = (InetSocketAddress) server.localAddress();
            try (Socket plain = new Socket()) {
                plain.connect(at);
                SSLSocket s = (SSLSocket) kit.peerClientContext().getSocketFactory()
                        .createSocket(plain, "localhost", at.getPort(), false);
                s.startHandshake();
                s.getOutputStream().write(new byte[100]);
                s.getOutputStream().flush();
                h.nextOpen();
                plain.shutdownOutput(); // FIN without close_notify
                Closed closed = h.nextClose();
                assertInstanceOf(TlsTruncationException.class, closed.cause());
            }
            server.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
    void closeSendsCloseNotify(String version) throws Exception {
        Tracking h = new Tracking() {
            @Override
            public void onOpen(Connection c) throws Exception {
                super.onOpen(c);
                c.write("bye");
                c.close();
            }
        };
        try (Loop loop = Loop.start("tls-close-notify")) {
            TcpServer server = server(loop, TlsConfig.server(kit.serverContext()), ConnectionConfig.defaults(), h);
            try (SSLSocket s = sslClient(kit.peerClientContext(), (InetSocketAddress) server.localAddress(), version)) {
                InputStream in = s.getInputStream();
                assertEquals("bye", new String(readN(in, 3), StandardCharsets.US_ASCII));
                assertEquals(-1, in.read(), "close_notify reads as a clean end of stream");
            }
            assertNull(h.nextClose().cause(), "the peer's close_notify came back");
            server.close();
        }
    }

    // ------------------------------------------------------------------ ALPN, SNI, client auth

    @Test
    void alpnServerPicksFromClientsList() throws Exception {
        Tracking h = new Tracking();
        try (Loop loop = Loop.start("tls-alpn")) {
            TcpServer server = server(loop, TlsConfig.server(kit.serverContext()).alpn("h2", "http/1.1"),
                    ConnectionConfig.defaults(), h);
            try (SSLSocket s = sslClient(kit.peerClientContext(), (InetSocketAddress) server.localAddress())) {
                SSLParameters p = s.getSSLParameters();
                p.setApplicationProtocols(new String[]{"spdy/3", "http/1.1"});
                s.setSSLParameters(p);
                s.startHandshake();
                Connection c = h.nextOpen();
                assertEquals("http/1.1", c.applicationProtocol());
                assertEquals("http/1.1", s.getApplicationProtocol());
            }
            h.nextClose();
            server.close();
        }
    }

    @Test
    void clientSendsSniAndVerifiesTheName() throws Exception {
        try (SSLServerSocket ss = (SSLServerSocket) kit.peerServerContext().getServerSocketFactory()
                .createServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress());
             Loop loop = Loop.start("tls-sni")) {
            CompletableFuture<Object> names = CompletableFuture.supplyAsync(() -> {
                try (SSLSocket s = (SSLSocket) ss.accept()) {
                    s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                    s.startHandshake();
                    Object requested = ((ExtendedSSLSession) s.getSession()).getRequestedServerNames();
                    s.getOutputStream().write(1);
                    s.getInputStream().read(); // until the client closes
                    return requested;
                } catch (IOException e) {
                    return e;
                }
            });
            Tracking h = new Tracking();
            Connection c = TcpClient.builder(loop.reactor).remote(new InetSocketAddress("127.0.0.1", ss.getLocalPort()))
                    .tls(TlsConfig.client(kit.clientContext()).serverName("localhost").alpn("http/1.1"))
                    .handler(h).connect().get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals("", c.applicationProtocol(), "server without ALPN: empty");
            c.close();
            h.nextClose();
            assertEquals(java.util.List.of(new SNIHostName("localhost")), names.get(WAIT_SECONDS, TimeUnit.SECONDS));
        }
    }

    @Test
    void clientWithAWrongNameFailsHostnameVerification() throws Exception {
        try (SSLServerSocket ss = (SSLServerSocket) kit.peerServerContext().getServerSocketFactory()
                .createServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress());
             Loop loop = Loop.start("tls-wrong-name")) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (SSLSocket s = (SSLSocket) ss.accept()) {
                    s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                    s.startHandshake();
                } catch (IOException expected) {
                    // the client rejects our certificate
                }
            });
            Tracking h = new Tracking();
            CompletableFuture<Connection> f = TcpClient.builder(loop.reactor)
                    .remote(new InetSocketAddress("127.0.0.1", ss.getLocalPort()))
                    .tls(TlsConfig.client(kit.clientContext()).serverName("example.org")).handler(h).connect();
            Exception e = assertThrows(Exception.class, () -> f.get(WAIT_SECONDS, TimeUnit.SECONDS));
            assertInstanceOf(SSLException.class, e.getCause());
            assertInstanceOf(SSLException.class, h.nextClose().cause());
            assertTrue(h.opened.isEmpty());
            served.get(WAIT_SECONDS, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.2", "TLSv1.3"})
    void clientAuthNeedRejectsClientWithoutCertificate(String version) throws Exception {
        Tracking h = new Tracking();
        try (Loop loop = Loop.start("tls-client-auth")) {
            TcpServer server = server(loop, TlsConfig.server(kit.serverContext())
                    .clientAuth(TlsConfig.ClientAuth.NEED), ConnectionConfig.defaults(), h);
            InetSocketAddress at = (InetSocketAddress) server.localAddress();
            try (SSLSocket s = sslClient(kit.peerAnonymousClientContext(), at, version)) {
                assertThrows(IOException.class, () -> {
                    s.startHandshake();
                    s.getInputStream().read(); // TLS 1.3: the client finishes first, the server's alert follows
                });
            }
            Closed closed = h.nextClose();
            assertInstanceOf(SSLException.class, closed.cause());
            assertTrue(h.opened.isEmpty(), "onOpen never ran for the rejected client");
            try (SSLSocket s = sslClient(kit.peerClientContext(), at, version)) {
                s.startHandshake();
                Connection c = h.nextOpen();
                assertEquals("CN=test client",
                        ((java.security.cert.X509Certificate) c.tlsSession().getPeerCertificates()[0])
                                .getSubjectX500Principal().getName());
            }
            h.nextClose();
            server.close();
        }
    }

    // ------------------------------------------------------------------ key update, corking, delegated tasks

    /**
     * On an established connection SSLSocket.startHandshake() sends a KeyUpdate (update_requested) under TLS 1.3
     * and renegotiates under TLS 1.2 (allowed here; refused by default, see TlsDefaultsTest): either way the server
     * must follow mid-stream without losing a byte.
     */
    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void keyUpdateOrRenegotiationMidStream(String version) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(TlsTestProvider.isConscrypt() && version.equals("TLSv1.2"),
                "BoringSSL never renegotiates as a server (TLS 1.2); TLS 1.3 key updates run");
        byte[] data = random(SEED + 3, TOTAL);
        Echo echo = new Echo();
        try (Loop loop = Loop.start("tls-key-update")) {
            TcpServer server = server(loop, TlsConfig.server(kit.serverContext()).clientRenegotiation(true),
                    ConnectionConfig.defaults(), echo);
            try (SSLSocket s = sslClient(kit.peerClientContext(), (InetSocketAddress) server.localAddress(), version)) {
                s.startHandshake();
                echo.nextOpen();
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                int half = TOTAL / 2;
                out.write(data, 0, half);
                byte[] first = readN(in, half);
                s.startHandshake();
                out.write(data, half, TOTAL - half);
                byte[] second = readN(in, TOTAL - half);
                assertArrayEquals(Arrays.copyOf(data, half), first);
                assertArrayEquals(Arrays.copyOfRange(data, half, TOTAL), second);
            }
            assertNull(echo.nextClose().cause());
            server.close();
        }
    }

    @Test
    void corkedWritesAreWrappedOnceOnUncork() throws Exception {
        CompletableFuture<long[]> calls = new CompletableFuture<>();
        Tracking h = new Tracking() {
            @Override
            public void onOpen(Connection c) throws Exception {
                super.onOpen(c);
                long before = c.writeCalls();
                c.cork();
                for (int i = 0; i < 10; i++) {
                    c.write("part" + i + ";");
                }
                long corked = c.writeCalls();
                c.uncork();
                calls.complete(new long[]{before, corked, c.writeCalls()});
            }
        };
        try (Loop loop = Loop.start("tls-cork")) {
            TcpServer server = server(loop, TlsConfig.server(kit.serverContext()), ConnectionConfig.defaults(), h);
            try (SSLSocket s = sslClient(kit.peerClientContext(), (InetSocketAddress) server.localAddress())) {
                s.startHandshake();
                StringBuilder want = new StringBuilder();
                for (int i = 0; i < 10; i++) {
                    want.append("part").append(i).append(';');
                }
                assertEquals(want.toString(), new String(readN(s.getInputStream(), want.length()),
                        StandardCharsets.US_ASCII));
                long[] n = calls.get(WAIT_SECONDS, TimeUnit.SECONDS);
                assertEquals(n[0], n[1], "no write call while corked");
                assertEquals(n[0] + 1, n[2], "one send for the ten parts");
            }
            h.nextClose();
            server.close();
        }
    }

    @Test
    void delegatedTasksRunOnTheGivenExecutor() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(TlsTestProvider.isConscrypt(),
                "Conscrypt's engine (BoringSSL) does the whole handshake inline: it has no delegated tasks");
        AtomicInteger ran = new AtomicInteger();
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "tls-tasks"));
        Echo echo = new Echo();
        try (Loop loop = Loop.start("tls-tasks-loop")) {
            TcpServer server = server(loop, TlsConfig.server(kit.serverContext()).taskExecutor(task -> {
                ran.incrementAndGet();
                pool.execute(task);
            }), ConnectionConfig.defaults(), echo);
            try (SSLSocket s = sslClient(kit.peerClientContext(), (InetSocketAddress) server.localAddress())) {
                s.startHandshake();
                s.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                assertEquals("ping", new String(readN(s.getInputStream(), 4), StandardCharsets.US_ASCII));
            }
            assertNull(echo.nextClose().cause());
            assertTrue(ran.get() > 0, "the engine's delegated tasks went to the executor");
            server.close();
        } finally {
            pool.shutdown();
            assertTrue(pool.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS));
        }
    }
}
