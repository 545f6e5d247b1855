package org.epoll4j.jmh;

import org.epoll4j.Reactor;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.internal.Sockets;
import org.epoll4j.net.TcpServer;
import org.epoll4j.net.TlsConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What epoll4j's TLS driver adds per record. Three ways of moving one {@code size}-byte message each way:
 * <ul>
 *   <li>{@code engine}: the baseline, no sockets. A client and a server {@link SSLEngine} (JDK provider, TLS 1.3,
 *   TLS_AES_128_GCM_SHA256) exchange the message in memory: client wrap, server unwrap, server wrap, client unwrap,
 *   every buffer a reused heap buffer: the engine's own cost.</li>
 *   <li>{@code plain}: an echo through a {@link TcpServer} on loopback, everything on the benchmark thread as in
 *   {@link ConnectionEchoBenchmark}: a raw send, the reactor polled until the server echoed, a raw read.</li>
 *   <li>{@code tls}: the same echo with the server on TLS (epoll4j's TlsTransport) and the client driving its own
 *   {@link SSLEngine} over the raw socket with the baseline's heap buffers (copied to and from native memory around
 *   each send and read): the client does the baseline's client half, the server the baseline's server half plus
 *   whatever epoll4j does around it.</li>
 * </ul>
 * So {@code tls - plain - engine} estimates what the driver adds per round trip (one record each way; two for 16 KiB,
 * as the JDK puts at most 16,367 plaintext bytes in a record), plus the client's two ciphertext copies. With
 * {@code -prof gc}, {@code tls}'s B/op minus {@code engine}'s (and {@code plain}'s, which is none) is what the
 * driver allocates per round trip.
 *
 * <p>The client uses heap buffers because the JDK's AES-GCM (17 at least) encrypts into a direct buffer through a
 * per-block Java GHASH instead of its intrinsic: a client with direct buffers measures that, not the driver.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class TlsRecordBenchmark {
    static final String PROTOCOL = "TLSv1.3";
    static final String SUITE = "TLS_AES_128_GCM_SHA256";
    private static final char[] PASSWORD = "changeit".toCharArray();

    /** Plaintext bytes per message: one record each way, two for 16 KiB (the JDK fills records to 16,367 B). */
    @Param({"64", "1024", "16384"})
    public int size;

    // both: the client's engine and buffers
    private SSLEngine client;
    private ByteBuffer clientApp;
    private ByteBuffer clientAppIn;
    /** The client's ciphertext, heap (see the class comment); copied to and from {@link #wire} for the socket. */
    private ByteBuffer clientNetOut;
    private ByteBuffer clientNetIn;
    /** Native memory the client sends from and reads into. */
    private ByteBuffer wire;
    private long wireAddress;
    // engine: the server's engine and buffers
    private SSLEngine server;
    private ByteBuffer serverApp;
    private ByteBuffer serverNetOut;
    // plain and tls: the reactor, the server and the client's socket
    private Reactor reactor;
    private TcpServer tcpServer;
    private int fd = -1;
    private Path keyDir;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) throws Exception {
        String bench = params.getBenchmark();
        String kind = bench.substring(bench.lastIndexOf('.') + 1);
        boolean plain = kind.equals("plain");
        SSLContext serverContext = null;
        if (!plain) {
            keyDir = Files.createTempDirectory("tls-record-bench");
            Path keystore = keyDir.resolve("server.p12");
            keytool(keystore);
            KeyStore ks = load(keystore);
            serverContext = context(ks, null);
            client = configure(context(null, ks).createSSLEngine("localhost", 443), true);
        }
        clientApp = ByteBuffer.allocate(size);
        for (int i = 0; i < size; i++) {
            clientApp.put(i, (byte) i);
        }
        clientAppIn = ByteBuffer.allocate(Math.max(size, 17 * 1024) + 1024);
        clientNetOut = ByteBuffer.allocate(64 * 1024);
        clientNetIn = ByteBuffer.allocate(64 * 1024);
        wire = NativeMemory.allocate(64 * 1024);
        wireAddress = NativeMemory.address(wire);
        if (kind.startsWith("engine")) {
            server = configure(serverContext.createSSLEngine(), false);
            serverApp = ByteBuffer.allocate(17 * 1024 + 1024);
            serverNetOut = ByteBuffer.allocate(64 * 1024);
            handshakeInMemory();
            checkSession(client);
            return;
        }
        reactor = Reactor.open();
        TcpServer.Builder b = TcpServer.builder(reactor).handler((c, data) -> c.write(data));
        if (!plain) {
            b.tls(TlsConfig.server(serverContext).protocols(PROTOCOL).cipherSuites(SUITE));
        }
        tcpServer = b.start();
        InetSocketAddress remote = new InetSocketAddress("127.0.0.1", tcpServer.port());
        fd = Sockets.open(remote);
        Sockets.connect(fd, remote);
        while (plain && tcpServer.activeConnections() == 0) { // a TLS connection counts once its handshake is done
            reactor.poll(Duration.ofMillis(10));
        }
        Sockets.setIntOption(fd, LibC.IPPROTO_TCP, LibC.TCP_NODELAY, 1, "TCP_NODELAY");
        if (!plain) {
            handshakeOverSocket();
            checkSession(client);
        }
        clientNetIn.clear();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (fd >= 0) {
            LibC.close(fd);
            fd = -1;
        }
        if (tcpServer != null) {
            tcpServer.close();
        }
        if (reactor != null) {
            reactor.close();
        }
        if (keyDir != null) {
            try (var files = Files.list(keyDir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.delete(p);
                }
            }
            Files.delete(keyDir);
        }
    }

    // ------------------------------------------------------------------ the three benchmarks

    /**
     * The baseline: client wrap, server unwrap, server wrap, client unwrap, in memory (the JDK's engine puts at most
     * 16,367 plaintext bytes in a TLS 1.3 record, so 16 KiB takes two records each way, as on the socket).
     */
    @Benchmark
    public int engine() throws Exception {
        clientApp.clear();
        clientNetOut.clear();
        while (clientApp.hasRemaining()) {
            check(client.wrap(clientApp, clientNetOut));
        }
        clientNetOut.flip();
        serverApp.clear();
        while (clientNetOut.hasRemaining()) {
            check(server.unwrap(clientNetOut, serverApp));
        }
        serverApp.flip();
        serverNetOut.clear();
        while (serverApp.hasRemaining()) {
            check(server.wrap(serverApp, serverNetOut));
        }
        serverNetOut.flip();
        clientAppIn.clear();
        while (serverNetOut.hasRemaining()) {
            check(client.unwrap(serverNetOut, clientAppIn));
        }
        if (clientAppIn.position() != size) {
            throw new IllegalStateException("engine exchange: " + clientAppIn.position() + " bytes, not " + size);
        }
        return clientAppIn.position();
    }

    /**
     * The baseline with the server's ciphertext in a direct buffer, as the driver unwraps whole records straight from
     * the reactor's (direct) read buffer: shows what the engine does differently with direct input.
     */
    @Benchmark
    public int engineDirectIn() throws Exception {
        clientApp.clear();
        clientNetOut.clear();
        while (clientApp.hasRemaining()) {
            check(client.wrap(clientApp, clientNetOut));
        }
        wire.clear();
        wire.put(clientNetOut.flip()).flip();
        serverApp.clear();
        while (wire.hasRemaining()) {
            check(server.unwrap(wire, serverApp));
        }
        serverApp.flip();
        serverNetOut.clear();
        while (serverApp.hasRemaining()) {
            check(server.wrap(serverApp, serverNetOut));
        }
        serverNetOut.flip();
        clientAppIn.clear();
        while (serverNetOut.hasRemaining()) {
            check(client.unwrap(serverNetOut, clientAppIn));
        }
        if (clientAppIn.position() != size) {
            throw new IllegalStateException("engine exchange: " + clientAppIn.position() + " bytes, not " + size);
        }
        return clientAppIn.position();
    }

    /** Plaintext echo of {@code size} bytes through a TcpServer connection. */
    @Benchmark
    public long plain() throws Exception {
        sendAll(wireAddress, size);
        long got = 0;
        for (int spins = 0; got < size; spins++) {
            stuck(spins);
            reactor.poll(Duration.ZERO);
            long n = LibC.read(fd, wireAddress + got, size - got);
            if (n > 0) {
                got += n;
            } else if (n == 0 || LibC.errno() != 11) {
                throw new IllegalStateException("client read: " + n + " errno " + LibC.errno());
            }
        }
        return got;
    }

    /** TLS echo of {@code size} bytes (one record, two for 16 KiB) through a TcpServer connection on TLS. */
    @Benchmark
    public int tls() throws Exception {
        clientApp.clear();
        clientNetOut.clear();
        while (clientApp.hasRemaining()) {
            check(client.wrap(clientApp, clientNetOut));
        }
        sendCipher();
        clientAppIn.clear();
        for (int spins = 0; clientAppIn.position() < size; spins++) {
            stuck(spins);
            reactor.poll(Duration.ZERO);
            readSome();
            clientNetIn.flip();
            while (clientNetIn.hasRemaining()) {
                SSLEngineResult r = client.unwrap(clientNetIn, clientAppIn);
                if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                    break;
                }
                check(r);
            }
            clientNetIn.compact();
        }
        if (clientAppIn.position() != size) {
            throw new IllegalStateException("tls echo: " + clientAppIn.position() + " bytes, not " + size);
        }
        return clientAppIn.position();
    }

    // ------------------------------------------------------------------ helpers

    /** A lost echo fails the run instead of spinning until JMH's timeout. */
    private void stuck(int spins) {
        if (spins == 10_000_000) {
            throw new IllegalStateException("no echo after 10M polls (size " + size + ")");
        }
    }

    private void sendAll(long address, int len) throws Exception {
        int sent = 0;
        while (sent < len) {
            long n = LibC.send(fd, address + sent, len - sent, LibC.MSG_NOSIGNAL);
            if (n < 0) {
                if (LibC.errno() != 11) {
                    throw new IllegalStateException("client send: errno " + LibC.errno());
                }
                reactor.poll(Duration.ZERO); // the server's reads make room
                continue;
            }
            sent += (int) n;
        }
    }

    /** Sends clientNetOut's ciphertext (write mode) through the native buffer. */
    private void sendCipher() throws Exception {
        int len = clientNetOut.position();
        wire.put(0, clientNetOut, 0, len);
        sendAll(wireAddress, len);
    }

    /** Reads what the socket has into clientNetIn (write mode) through the native buffer; nothing on EAGAIN. */
    private void readSome() {
        long n = LibC.read(fd, wireAddress, Math.min(clientNetIn.remaining(), wire.capacity()));
        if (n > 0) {
            clientNetIn.put(clientNetIn.position(), wire, 0, (int) n);
            clientNetIn.position(clientNetIn.position() + (int) n);
        } else if (n == 0 || LibC.errno() != 11) {
            throw new IllegalStateException("client read: " + n + " errno " + LibC.errno());
        }
    }

    private static void check(SSLEngineResult r) {
        if (r.getStatus() != SSLEngineResult.Status.OK || r.getHandshakeStatus() != HandshakeStatus.NOT_HANDSHAKING) {
            throw new IllegalStateException("engine: " + r);
        }
    }

    private void checkSession(SSLEngine e) {
        if (!e.getSession().getProtocol().equals(PROTOCOL) || !e.getSession().getCipherSuite().equals(SUITE)) {
            throw new IllegalStateException("negotiated " + e.getSession().getProtocol() + " "
                    + e.getSession().getCipherSuite());
        }
    }

    private static SSLEngine configure(SSLEngine e, boolean clientMode) {
        e.setUseClientMode(clientMode);
        e.setEnabledProtocols(new String[] {PROTOCOL});
        e.setEnabledCipherSuites(new String[] {SUITE});
        return e;
    }

    /**
     * The in-memory handshake, then a few exchanges so that the server's session tickets (post-handshake messages)
     * are consumed before measuring.
     */
    private void handshakeInMemory() throws Exception {
        client.beginHandshake();
        server.beginHandshake();
        ByteBuffer c2s = ByteBuffer.allocate(64 * 1024);
        ByteBuffer s2c = ByteBuffer.allocate(64 * 1024);
        ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
        for (int i = 0; i < 100 && !(done(client) && done(server)); i++) {
            step(client, s2c, c2s, sink);
            step(server, c2s, s2c, sink);
        }
        if (!done(client) || !done(server)) {
            throw new IllegalStateException("in-memory handshake did not finish");
        }
        // the server's NewSessionTicket follows the handshake: let the client consume it
        s2c.flip();
        while (s2c.hasRemaining()) {
            sink.clear();
            SSLEngineResult r = client.unwrap(s2c, sink);
            if (r.getStatus() != SSLEngineResult.Status.OK) {
                break;
            }
            runTasks(client);
        }
        for (int i = 0; i < 10; i++) {
            engine();
        }
    }

    private static boolean done(SSLEngine e) {
        return e.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING;
    }

    /** One handshake step of {@code e}: unwraps what is in {@code in}, wraps into {@code out}. */
    private static void step(SSLEngine e, ByteBuffer in, ByteBuffer out, ByteBuffer sink) throws Exception {
        runTasks(e);
        if (e.getHandshakeStatus() == HandshakeStatus.NEED_UNWRAP && in.position() > 0) {
            in.flip();
            while (in.hasRemaining() && e.getHandshakeStatus() == HandshakeStatus.NEED_UNWRAP) {
                sink.clear();
                SSLEngineResult r = e.unwrap(in, sink);
                runTasks(e);
                if (r.getStatus() != SSLEngineResult.Status.OK) {
                    break;
                }
            }
            in.compact();
        }
        while (e.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
            SSLEngineResult r = e.wrap(ByteBuffer.allocate(0), out);
            runTasks(e);
            if (r.getStatus() != SSLEngineResult.Status.OK) {
                throw new IllegalStateException("handshake wrap: " + r);
            }
        }
    }

    private static void runTasks(SSLEngine e) {
        Runnable t;
        while ((t = e.getDelegatedTask()) != null) {
            t.run();
        }
    }

    /** The client's handshake over the socket, the reactor polled between steps; then a few warm-up echoes. */
    private void handshakeOverSocket() throws Exception {
        client.beginHandshake();
        ByteBuffer empty = ByteBuffer.allocate(0);
        clientNetIn.clear();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!done(client)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("TLS handshake over loopback did not finish");
            }
            runTasks(client);
            HandshakeStatus hs = client.getHandshakeStatus();
            if (hs == HandshakeStatus.NEED_WRAP) {
                clientNetOut.clear();
                client.wrap(empty, clientNetOut);
                sendCipher();
            } else if (hs == HandshakeStatus.NEED_UNWRAP) {
                reactor.poll(Duration.ofMillis(1));
                readSome();
                clientNetIn.flip();
                while (clientNetIn.hasRemaining() && client.getHandshakeStatus() == HandshakeStatus.NEED_UNWRAP) {
                    clientAppIn.clear();
                    SSLEngineResult r = client.unwrap(clientNetIn, clientAppIn);
                    runTasks(client);
                    if (r.getStatus() != SSLEngineResult.Status.OK) {
                        break;
                    }
                }
                clientNetIn.compact();
            }
        }
        // the echoes' unwrap loop also consumes the server's NewSessionTicket records
        for (int i = 0; i < 10; i++) {
            tlsWarmUp();
        }
    }

    /** One echo that tolerates non-application records (tickets) before the echo. */
    private void tlsWarmUp() throws Exception {
        clientApp.clear();
        clientNetOut.clear();
        while (clientApp.hasRemaining()) {
            check(client.wrap(clientApp, clientNetOut));
        }
        sendCipher();
        clientAppIn.clear();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (clientAppIn.position() < size) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no TLS echo within 30 s");
            }
            reactor.poll(Duration.ofMillis(1));
            readSome();
            clientNetIn.flip();
            while (clientNetIn.hasRemaining()) {
                SSLEngineResult r = client.unwrap(clientNetIn, clientAppIn);
                runTasks(client);
                if (r.getStatus() != SSLEngineResult.Status.OK) {
                    break;
                }
            }
            clientNetIn.compact();
        }
    }

    // ------------------------------------------------------------------ certificates (as TlsIdleMemory makes them)

    private static void keytool(Path file) throws Exception {
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname",
                "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "3",
                "-storetype", "PKCS12", "-keystore", file.toString(), "-storepass", new String(PASSWORD),
                "-keypass", new String(PASSWORD)).redirectErrorStream(true).start();
        try (InputStream in = p.getInputStream()) {
            in.readAllBytes();
        }
        if (p.waitFor() != 0) {
            throw new IllegalStateException("keytool failed");
        }
    }

    private static KeyStore load(Path file) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, PASSWORD);
        }
        return ks;
    }

    /** With {@code keys}: a server's context; with {@code trusted}: a client's that trusts that certificate. */
    private static SSLContext context(KeyStore keys, KeyStore trusted) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        KeyManagerFactory kmf = null;
        if (keys != null) {
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, PASSWORD);
        }
        TrustManagerFactory tmf = null;
        if (trusted != null) {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("server", trusted.getCertificate("server"));
            tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
        }
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
        return ctx;
    }
}
