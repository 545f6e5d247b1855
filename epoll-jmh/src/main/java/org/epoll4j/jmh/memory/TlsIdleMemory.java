package org.epoll4j.jmh.memory;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.epoll4j.Reactor;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.net.TcpClient;
import org.epoll4j.net.TcpServer;
import org.epoll4j.net.TlsConfig;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Heap per idle TLS connection, by class histogram: a server process (epoll4j TLS, epoll4j plain, or Netty with
 * {@code SslHandler} on the JDK provider, all echo servers on one event-loop thread) is asked for
 * {@code jcmd PID GC.class_histogram} (a full GC first: live objects only) before and after this process opened
 * {@code N} connections that finished their handshake and one echo, then sit idle. Prints bytes per connection and
 * the classes that grew most.
 *
 * <p>{@code java -cp ... org.epoll4j.jmh.memory.TlsIdleMemory [N] [servers...]} (default 10000, all three); raise
 * {@code ulimit -n} to 2N + some first.
 */
public final class TlsIdleMemory {
    private static final char[] PASSWORD = "changeit".toCharArray();

    private TlsIdleMemory() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("serve")) {
            serve(args[1], Path.of(args[2]));
            return;
        }
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        List<String> servers = args.length > 1 ? List.of(args).subList(1, args.length)
                : List.of("epoll4j-plain", "epoll4j-tls", "netty-tls");
        Path dir = Files.createTempDirectory("tls-idle-memory");
        Path keystore = dir.resolve("server.p12");
        keytool(keystore);
        for (String kind : servers) {
            measure(kind, keystore, n);
        }
    }

    // ------------------------------------------------------------------ the server process

    private static void serve(String kind, Path keystore) throws Exception {
        KeyStore ks = load(keystore);
        int port;
        switch (kind) {
            case "epoll4j-plain", "epoll4j-tls" -> {
                Reactor reactor = Reactor.builder().name("server").build();
                TcpServer.Builder b = TcpServer.builder(reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                        .backlog(4096).handler(new Echo());
                if (kind.equals("epoll4j-tls")) {
                    b.tls(TlsConfig.server(context(ks, null)).handshakeTimeout(Duration.ofMinutes(5)));
                }
                TcpServer server = b.start();
                reactor.start();
                port = server.port();
            }
            case "netty-tls" -> {
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, PASSWORD);
                SslContext ssl = SslContextBuilder.forServer(kmf).sslProvider(SslProvider.JDK).build();
                EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
                Channel ch = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                        .option(ChannelOption.SO_BACKLOG, 4096)
                        .childHandler(new ChannelInitializer<SocketChannel>() {
                            @Override
                            protected void initChannel(SocketChannel c) {
                                c.pipeline().addLast(ssl.newHandler(c.alloc()), new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                        ctx.writeAndFlush(msg);
                                    }
                                });
                            }
                        }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
                port = ((InetSocketAddress) ch.localAddress()).getPort();
            }
            default -> throw new IllegalArgumentException("unknown server " + kind);
        }
        System.out.println("PORT " + port + " PID " + ProcessHandle.current().pid());
        System.out.flush();
        System.in.read(); // until the parent closes our stdin
        System.exit(0);
    }

    /** Echoes what it reads. */
    static final class Echo implements ConnectionHandler {
        @Override
        public void onData(Connection c, ByteBuffer data) {
            c.write(data);
        }
    }

    // ------------------------------------------------------------------ the measuring process

    private static void measure(String kind, Path keystore, int n) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xms256m", "-Xmx2g", "-cp", System.getProperty("java.class.path"),
                TlsIdleMemory.class.getName(), "serve", kind, keystore.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
        String line;
        while ((line = out.readLine()) != null && !line.startsWith("PORT ")) {
            System.out.println("  server: " + line);
        }
        String[] f = line.split(" ");
        int port = Integer.parseInt(f[1]);
        long pid = Long.parseLong(f[3]);
        boolean tls = kind.endsWith("-tls");
        Reactor client = Reactor.builder().name("clients").build();
        client.start();
        try {
            Map<String, long[]> before = histogram(pid);
            TlsConfig clientTls = tls ? TlsConfig.client(context(null, load(keystore))) : null;
            CountDownLatch echoed = new CountDownLatch(n);
            List<CompletableFuture<Connection>> all = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                TcpClient.Builder b = TcpClient.builder(client).remote(new InetSocketAddress("127.0.0.1", port))
                        .connectTimeout(Duration.ofMinutes(5))
                        .handler(new ConnectionHandler() {
                            @Override
                            public void onOpen(Connection c) {
                                c.write(new byte[]{1});
                            }

                            @Override
                            public void onData(Connection c, ByteBuffer data) {
                                data.position(data.limit());
                                echoed.countDown();
                            }
                        });
                if (tls) {
                    b.tls(clientTls);
                }
                all.add(b.connect());
                if (i % 20 == 19) {
                    all.get(i).handle((c, e) -> null).get(300, TimeUnit.SECONDS); // a few handshakes at a time
                }
            }
            for (CompletableFuture<Connection> c : all) {
                c.handle((x, e) -> null).get(300, TimeUnit.SECONDS);
            }
            long failed = all.stream().filter(CompletableFuture::isCompletedExceptionally).count();
            if (!echoed.await(300, TimeUnit.SECONDS) && echoed.getCount() != failed) {
                throw new IllegalStateException(kind + ": " + echoed.getCount() + " connections not echoed");
            }
            Map<String, long[]> after = histogram(pid);
            if (failed > 0) {
                System.out.println(kind + ": " + failed + " connections failed (a loaded machine); measuring the "
                        + (n - failed) + " open ones");
            }
            report(kind, (int) (n - failed), before, after);
            for (CompletableFuture<Connection> c : all) {
                if (!c.isCompletedExceptionally()) {
                    c.join().abort();
                }
            }
        } finally {
            client.close();
            p.getOutputStream().close();
            p.waitFor(30, TimeUnit.SECONDS);
            p.destroyForcibly();
        }
    }

    /** class name -> {instances, bytes}, from jcmd (which runs a full GC first). */
    private static Map<String, long[]> histogram(long pid) throws Exception {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        Process p = new ProcessBuilder(jcmd, Long.toString(pid), "GC.class_histogram").redirectErrorStream(true)
                .start();
        Map<String, long[]> m = new HashMap<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.US_ASCII))) {
            String line;
            while ((line = r.readLine()) != null) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 4 && f[0].endsWith(":")) {
                    m.put(f[3], new long[]{Long.parseLong(f[1]), Long.parseLong(f[2])});
                } else if (f.length >= 3 && f[0].equals("Total")) {
                    m.put("(total)", new long[]{Long.parseLong(f[1]), Long.parseLong(f[2])});
                }
            }
        }
        p.waitFor(60, TimeUnit.SECONDS);
        return m;
    }

    private static void report(String kind, int n, Map<String, long[]> before, Map<String, long[]> after) {
        long total = after.get("(total)")[1] - before.get("(total)")[1];
        System.out.printf("%s: %,d B of heap per idle connection (%,d connections, live heap %,d -> %,d B)%n", kind,
                total / n, n, before.get("(total)")[1], after.get("(total)")[1]);
        List<Map.Entry<String, long[]>> grown = new ArrayList<>();
        for (Map.Entry<String, long[]> e : after.entrySet()) {
            if (e.getKey().equals("(total)")) {
                continue;
            }
            long[] b = before.getOrDefault(e.getKey(), new long[2]);
            grown.add(Map.entry(e.getKey(), new long[]{e.getValue()[0] - b[0], e.getValue()[1] - b[1]}));
        }
        grown.sort((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]));
        for (int i = 0; i < Math.min(25, grown.size()); i++) {
            long[] d = grown.get(i).getValue();
            System.out.printf("  %8.2f objects %8.1f B  %s%n", d[0] / (double) n, d[1] / (double) n,
                    grown.get(i).getKey());
        }
    }

    // ------------------------------------------------------------------ certificates

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
