package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Setting a connection up: huge idle timeouts saturate instead of failing set-up, the client's future completes
 * after onOpen (or fails with what onOpen threw), the connect timer goes away with the connect, and a file opened
 * by sendFile(Path) is closed when the hand-off to a closing reactor fails.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class NetSetupTest {
    private static final Duration FOREVER = Duration.ofSeconds(Long.MAX_VALUE);

    @TempDir
    Path dir;

    @Test
    void hugeIdleTimeoutsSaturateOnServerAndClient() throws Exception {
        ConnectionConfig config = ConnectionConfig.defaults().withIdleTimeouts(FOREVER, FOREVER, FOREVER);
        Echo echo = new Echo();
        try (Loop loop = Loop.start("huge-idle")) {
            TcpServer server = TcpServer.builder(loop.reactor).config(config).handler(echo).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                byte[] msg = "hello".getBytes(StandardCharsets.UTF_8);
                writeFully(ch, msg);
                assertArrayEquals(msg, readFully(ch, msg.length), "the server kept the connection");
            }
            Tracking client = new Tracking();
            Connection c = TcpClient.builder(loop.reactor).remote(server.localAddress()).config(config)
                    .handler(client).connect().get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(c.isOpen());
            c.close();
            assertNull(client.nextClose().cause());
            server.close();
        }
    }

    @Test
    void connectFutureCompletesAfterOnOpenReturns() throws Exception {
        List<String> order = new CopyOnWriteArrayList<>();
        Tracking handler = new Tracking() {
            @Override
            public void onOpen(Connection c) throws Exception {
                order.add("onOpen begins");
                super.onOpen(c);
                order.add("onOpen returns");
            }
        };
        try (Loop loop = Loop.start("connect-order")) {
            TcpServer server = TcpServer.builder(loop.reactor).handler(new Tracking()).start();
            // connect and attach the callback on the loop thread, before any event can complete the future
            java.util.concurrent.atomic.AtomicReference<CompletableFuture<Void>> after =
                    new java.util.concurrent.atomic.AtomicReference<>();
            CompletableFuture<Connection> f = loop.call(() -> {
                CompletableFuture<Connection> future = TcpClient.builder(loop.reactor)
                        .remote(server.localAddress()).handler(handler).connect();
                after.set(future.thenRun(() -> order.add("future completes")));
                return future;
            });
            Connection c = f.get(WAIT_SECONDS, TimeUnit.SECONDS);
            after.get().get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(List.of("onOpen begins", "onOpen returns", "future completes"), order);
            c.close();
            handler.nextClose();
            server.close();
        }
    }

    @Test
    void connectFutureFailsWithWhatOnOpenThrew() throws Exception {
        IllegalStateException boom = new IllegalStateException("onOpen failed");
        Tracking handler = new Tracking() {
            @Override
            public void onOpen(Connection c) {
                throw boom;
            }
        };
        try (Loop loop = Loop.start("connect-onopen-throws")) {
            TcpServer server = TcpServer.builder(loop.reactor).handler(new Tracking()).start();
            CompletableFuture<Connection> f = TcpClient.builder(loop.reactor).remote(server.localAddress())
                    .handler(handler).connect();
            ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(WAIT_SECONDS, TimeUnit.SECONDS));
            assertSame(boom, e.getCause());
            assertSame(boom, handler.nextClose().cause());
            server.close();
        }
    }

    @Test
    void theConnectTimerGoesAwayWithTheConnect() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        try (Loop loop = Loop.start("connect-timer")) {
            TcpServer server = TcpServer.builder(loop.reactor).handler(new Tracking()).start();
            long firedBefore = loop.reactor.stats().timersFired();
            Duration timeout = Duration.ofMillis(200);
            Tracking ok = new Tracking();
            Connection c = TcpClient.builder(loop.reactor).remote(server.localAddress()).connectTimeout(timeout)
                    .handler(ok).connect().get(WAIT_SECONDS, TimeUnit.SECONDS);
            Tracking refused = new Tracking();
            CompletableFuture<Connection> f = TcpClient.builder(loop.reactor)
                    .remote(new InetSocketAddress("127.0.0.1", closedPort)).connectTimeout(timeout).handler(refused)
                    .connect();
            assertThrows(ExecutionException.class, () -> f.get(WAIT_SECONDS, TimeUnit.SECONDS));
            c.close();
            ok.nextClose();
            // wait (on a timer, not a sleep) until both connect timeouts would have fired
            CountDownLatch later = new CountDownLatch(1);
            loop.reactor.schedule(timeout.multipliedBy(2), later::countDown);
            assertTrue(later.await(WAIT_SECONDS, TimeUnit.SECONDS));
            loop.barrier();
            assertEquals(1, loop.reactor.stats().timersFired() - firedBefore,
                    "timers fired: only the test's own, the connect timers were cancelled");
            server.close();
        }
    }

    @Test
    void sendFileClosesItsFileWhenTheReactorRefusesTheHandOff() throws Exception {
        Path file = Files.write(dir.resolve("f"), new byte[] {1, 2, 3});
        String target = file.toRealPath().toString();
        Tracking handler = new Tracking();
        Loop loop = Loop.start("sendfile-handoff");
        try {
            TcpServer server = TcpServer.builder(loop.reactor).handler(handler).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection c = handler.nextOpen();
                // hold the loop, start closing the reactor from a third thread: execute() now refuses tasks while
                // the connection is still open
                CountDownLatch held = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                loop.reactor.execute(() -> {
                    held.countDown();
                    try {
                        release.await(WAIT_SECONDS, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                assertTrue(held.await(WAIT_SECONDS, TimeUnit.SECONDS));
                CompletableFuture<Void> closing = CompletableFuture.runAsync(loop.reactor::close);
                try {
                    while (!loop.reactor.isClosed()) {
                        Thread.onSpinWait();
                    }
                    assertTrue(c.isOpen());
                    assertThrows(ClosedConnectionException.class, () -> c.sendFile(file, 0, 3));
                    assertEquals(0, FdLeakCheck.openFds().values().stream().filter(target::equals).count(),
                            "sendFile(Path) closed the file it opened");
                } finally {
                    release.countDown();
                }
                closing.get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
            server.close();
        } finally {
            loop.close();
        }
    }
}
