package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.SockOpt.*;
import static org.junit.jupiter.api.Assertions.*;

/** SockOpts given to TcpServer.childOptions and TcpClient.options are in effect on the connections' sockets. */
@Timeout(30)
@ExtendWith(FdLeakCheck.class)
class NetSocketOptionsTest {
    private Reactor reactor;

    @BeforeEach
    void start() throws Exception {
        reactor = NetTestKit.startReactor("options");
    }

    @AfterEach
    void stop() throws Exception {
        NetTestKit.stop(reactor);
    }

    /** Reads the options on the connection's socket from its onOpen, on the reactor thread. */
    private static ConnectionHandler reading(CompletableFuture<Map<String, Object>> out) {
        return new ConnectionHandler() {
            @Override
            public void onOpen(Connection c) throws Exception {
                int fd = c.fd();
                out.complete(Map.of(
                        "nodelay", SockOpts.read(fd, TCP_NODELAY),
                        "keepalive", SockOpts.read(fd, SO_KEEPALIVE),
                        "keepidle", SockOpts.read(fd, TCP_KEEPIDLE),
                        "keepintvl", SockOpts.read(fd, TCP_KEEPINTVL),
                        "keepcnt", SockOpts.read(fd, TCP_KEEPCNT),
                        "sndbuf", SockOpts.read(fd, SO_SNDBUF),
                        "linger", SockOpts.read(fd, SO_LINGER),
                        "usertimeout", SockOpts.read(fd, TCP_USER_TIMEOUT)));
            }

            @Override
            public void onData(Connection c, ByteBuffer data) {
            }
        };
    }

    private static final SockOpts CUSTOM = SockOpts.empty()
            .with(TCP_NODELAY, false)
            .with(SO_KEEPALIVE, true)
            .with(TCP_KEEPIDLE, Duration.ofSeconds(42))
            .with(TCP_KEEPINTVL, Duration.ofSeconds(7))
            .with(TCP_KEEPCNT, 5)
            .with(SO_SNDBUF, 32 * 1024)
            .with(SO_LINGER, Duration.ofSeconds(3))
            .with(TCP_USER_TIMEOUT, Duration.ofMillis(15_000));

    private static void assertCustom(Map<String, Object> o) {
        assertEquals(false, o.get("nodelay"));
        assertEquals(true, o.get("keepalive"));
        assertEquals(Duration.ofSeconds(42), o.get("keepidle"));
        assertEquals(Duration.ofSeconds(7), o.get("keepintvl"));
        assertEquals(5, o.get("keepcnt"));
        assertTrue((Integer) o.get("sndbuf") >= 32 * 1024, "SO_SNDBUF reads back about doubled: " + o.get("sndbuf"));
        assertTrue((Integer) o.get("sndbuf") <= 4 * 32 * 1024, "SO_SNDBUF " + o.get("sndbuf"));
        assertEquals(Duration.ofSeconds(3), o.get("linger"));
        assertEquals(Duration.ofMillis(15_000), o.get("usertimeout"));
    }

    @Test
    void childOptionsApplyToAcceptedSockets() throws Exception {
        CompletableFuture<Map<String, Object>> seen = new CompletableFuture<>();
        try (TcpServer server = TcpServer.builder(reactor).childOptions(CUSTOM).handler(reading(seen)).start();
             Socket s = NetTestKit.connect(server.port())) {
            assertCustom(seen.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void defaultChildOptionsTurnNoDelayOn() throws Exception {
        CompletableFuture<Map<String, Object>> seen = new CompletableFuture<>();
        try (TcpServer server = TcpServer.builder(reactor).handler(reading(seen)).start();
             Socket s = NetTestKit.connect(server.port())) {
            Map<String, Object> o = seen.get(10, TimeUnit.SECONDS);
            assertEquals(true, o.get("nodelay"));
            assertEquals(false, o.get("keepalive"));
            assertEquals(LINGER_OFF, o.get("linger"));
        }
    }

    @Test
    void clientOptionsApplyToTheClientSocket() throws Exception {
        CompletableFuture<Map<String, Object>> serverSide = new CompletableFuture<>();
        CompletableFuture<Map<String, Object>> clientSide = new CompletableFuture<>();
        try (TcpServer server = TcpServer.builder(reactor).handler(reading(serverSide)).start()) {
            Connection c = TcpClient.builder(reactor)
                    .remote(new InetSocketAddress("127.0.0.1", server.port()))
                    .options(CUSTOM)
                    .handler(reading(clientSide))
                    .connect()
                    .get(10, TimeUnit.SECONDS);
            try {
                assertCustom(clientSide.get(10, TimeUnit.SECONDS));
                assertEquals(true, serverSide.get(10, TimeUnit.SECONDS).get("nodelay"), "server side untouched");
                assertEquals(true, NetTestKit.onLoop(reactor, () -> {
                    try {
                        return SockOpts.read(c.fd(), SO_KEEPALIVE);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }));
            } finally {
                c.abort(); // SO_LINGER 0: no TIME_WAIT
            }
        }
    }

    @Test
    void listenerOptionsApplyToTheListeningSocket() throws Exception {
        CompletableFuture<Map<String, Object>> seen = new CompletableFuture<>();
        try (TcpServer server = TcpServer.builder(reactor)
                .options(SockOpts.empty().with(SO_REUSEADDR, true).with(SO_REUSEPORT, true))
                .handler(reading(seen)).start();
             TcpServer twin = TcpServer.builder(reactor)
                     .bind(new InetSocketAddress("127.0.0.1", server.port()))
                     .options(SockOpts.empty().with(SO_REUSEADDR, true).with(SO_REUSEPORT, true))
                     .handler(reading(seen)).start()) {
            assertEquals(server.port(), twin.port(), "SO_REUSEPORT took effect: two listeners on one port");
        }
    }

    @Test
    void badValuesFailClearly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SockOpts.empty().with(TCP_KEEPCNT, 0));
        assertTrue(e.getMessage().contains("TCP_KEEPCNT") && e.getMessage().contains("0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SockOpts.empty().with(TCP_KEEPIDLE, Duration.ofSeconds(-5)));
        assertTrue(e.getMessage().contains("TCP_KEEPIDLE"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SockOpts.empty().with(TCP_KEEPINTVL, Duration.ZERO));
        assertTrue(e.getMessage().contains("TCP_KEEPINTVL"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> SockOpts.empty().with(SO_RCVBUF, -1));
        assertTrue(e.getMessage().contains("SO_RCVBUF"), e.getMessage());
        NullPointerException npe = assertThrows(NullPointerException.class,
                () -> SockOpts.empty().with(TCP_NODELAY, null));
        assertTrue(String.valueOf(npe.getMessage()).contains("TCP_NODELAY"), npe.getMessage());
        assertThrows(NullPointerException.class, () -> TcpServer.builder(reactor).childOptions(null));
        assertThrows(NullPointerException.class, () -> TcpClient.builder(reactor).options(null));
        e = assertThrows(IllegalArgumentException.class, () -> TcpServer.builder(reactor).backlog(0));
        assertTrue(e.getMessage().contains("backlog"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TcpServer.builder(reactor).acceptBudget(0));
        assertTrue(e.getMessage().contains("accept budget"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TcpClient.builder(reactor).connectTimeout(Duration.ofSeconds(-1)));
        assertTrue(e.getMessage().contains("connectTimeout"), e.getMessage());
    }
}
