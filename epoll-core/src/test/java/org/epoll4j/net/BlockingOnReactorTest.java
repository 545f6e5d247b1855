package org.epoll4j.net;

import org.epoll4j.ReactorGroup;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link BlockingService#onReactorThread()}: every test of {@link BlockingConnectionTest} again with each handler on a
 * virtual thread its connection's reactor carries, and what is particular to that: the handler, and threads it
 * starts, run on the reactor's own thread (in a group, each on its connection's reactor); reads there are direct; a
 * thread still parked when its reactor closes runs on elsewhere and ends. Java 24+ with {@code java.lang} opened
 * (the build's test JVMs have it); on older JDKs {@link BlockingConnectionTest} checks the refusal instead.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
@EnabledIf("org.epoll4j.net.BlockingService#onReactorThreadAvailable")
class BlockingOnReactorTest extends BlockingConnectionTest {
    @Override
    BlockingService service(BlockingHandler handler) {
        return BlockingService.of(handler).onReactorThread();
    }

    /** The carrier a virtual thread is mounted on, from its toString ("VirtualThread[#id,name]/runnable@carrier"). */
    private static String carrier(Thread t) {
        String s = t.toString();
        int at = s.lastIndexOf('@');
        return at < 0 ? "(not mounted: " + s + ")" : s.substring(at + 1);
    }

    /** The name of the thread running {@code connection}'s reactor, asked on that reactor. */
    private static String loopThreadName(Connection connection) throws Exception {
        CompletableFuture<String> name = new CompletableFuture<>();
        connection.reactor().execute(() -> name.complete(Thread.currentThread().getName()));
        return name.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void handlersAndTheThreadsTheyStartRunOnTheirConnectionsReactor() throws Exception {
        ReactorGroup group = ReactorGroup.builder().size(2).name("on-reactor-group").build();
        List<CompletableFuture<String>> seen = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            seen.add(new CompletableFuture<>());
        }
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        try {
            // HANDOFF deals the 8 connections round-robin, 4 to each reactor; REUSEPORT's 4-tuple hash put all 8 on one
            // reactor once in a CI run (1 in 128)
            TcpServerGroup server = TcpServerGroup.builder(group).bind(new InetSocketAddress("127.0.0.1", 0))
                    .accept(TcpServerGroup.AcceptStrategy.HANDOFF)
                    .handlerFactory(service(c -> {
                        CompletableFuture<String> mine = seen.get(next.getAndIncrement());
                        try {
                            Thread me = Thread.currentThread();
                            assertTrue(isVirtual(me), me + " is virtual");
                            String handler = carrier(me);
                            CompletableFuture<String> child = new CompletableFuture<>();
                            // the library's factory is Thread.ofVirtual()'s (Java 17 compiles this test)
                            Thread t = VirtualThreads.factory().newThread(
                                    () -> child.complete(carrier(Thread.currentThread())));
                            t.start();
                            t.join();
                            String loop = loopThreadName(c.connection());
                            mine.complete(loop + "|" + handler + "|" + child.get(WAIT_SECONDS, TimeUnit.SECONDS));
                        } catch (Throwable e) {
                            mine.completeExceptionally(e);
                        }
                        ECHO.handle(c);
                    })).start();
            List<java.net.Socket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    clients.add(NetTestKit.connect(server.port()));
                }
                java.util.Set<String> loops = new java.util.HashSet<>();
                for (CompletableFuture<String> f : seen) {
                    String[] parts = f.get(WAIT_SECONDS, TimeUnit.SECONDS).split("\\|");
                    assertEquals(parts[0], parts[1], "the handler's carrier is its connection's loop thread");
                    assertEquals(parts[0], parts[2], "a thread the handler started inherits the scheduler");
                    loops.add(parts[0]);
                }
                assertEquals(2, loops.size(), "connections spread over both reactors: " + loops);
                for (java.net.Socket s : clients) {
                    s.getOutputStream().write(new byte[] {7});
                    assertEquals(7, s.getInputStream().read());
                }
            } finally {
                for (java.net.Socket s : clients) {
                    s.close();
                }
                server.close();
            }
        } finally {
            group.close();
        }
    }

    @Test
    void readsOnTheReactorAreDirect() throws Exception {
        Loop loop = Loop.start("on-reactor-direct");
        CompletableFuture<long[]> counts = new CompletableFuture<>();
        try (TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                .handlerFactory(service(c -> {
                    ECHO.handle(c);
                    counts.complete(new long[] {c.connection().bytesRead(), c.connection().directBytesRead()});
                })).start();
             java.net.Socket s = NetTestKit.connect(server.port())) {
            int total = 1 << 20;
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    for (long pos = 0; pos < total; pos += 7_000) {
                        s.getOutputStream().write(bytes(31, pos, (int) Math.min(7_000, total - pos)));
                    }
                    s.shutdownOutput();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Verifier v = new Verifier(31, "on-reactor");
            byte[] buf = new byte[16384];
            long got = 0;
            for (int n; (n = s.getInputStream().read(buf)) >= 0; ) {
                v.check(buf, 0, n);
                got += n;
            }
            writer.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(total, got);
            long[] c = counts.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(total, c[0]);
            assertTrue(c[1] > 0, "some reads were the handler's own recv(2): " + c[1] + " of " + c[0]);
        } finally {
            loop.close();
            assertEquals(List.of(), loop.failures);
        }
    }

    @Test
    void aThreadStillParkedWhenItsReactorClosesRunsOnAndEnds() throws Exception {
        Loop loop = Loop.start("on-reactor-orphan");
        CompletableFuture<Throwable> readFailed = new CompletableFuture<>();
        CompletableFuture<String> resumedOn = new CompletableFuture<>();
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Thread> handler = new CompletableFuture<>();
        Watch watch = new Watch();
        BlockingService service = service(c -> {
            c.probe = watch;
            handler.complete(Thread.currentThread());
            try {
                c.read(new byte[10], 0, 10);
                readFailed.complete(null);
            } catch (IOException e) {
                readFailed.complete(e);
            }
            release.await(); // parked while the reactor is gone: the count-down must wake it somewhere
            resumedOn.complete(carrier(Thread.currentThread()));
        });
        TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                .handlerFactory(service).start();
        try (java.net.Socket s = NetTestKit.connect(server.port())) {
            assertTrue(s.isConnected());
            watch.awaitParked(handler.get(WAIT_SECONDS, TimeUnit.SECONDS), "read");
            loop.close();
            assertTrue(loop.reactor.awaitTermination(seconds(WAIT_SECONDS)));
            assertInstanceOf(SocketException.class, readFailed.get(WAIT_SECONDS, TimeUnit.SECONDS),
                    "the blocked read ended with the reactor");
            release.countDown();
            assertEquals("epoll4j-orphaned-virtual-threads", resumedOn.get(WAIT_SECONDS, TimeUnit.SECONDS));
            awaitNoHandlerRunning(service);
        } finally {
            server.close();
            loop.close();
        }
    }
}
