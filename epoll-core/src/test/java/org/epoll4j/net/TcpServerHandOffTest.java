package org.epoll4j.net;

import org.epoll4j.ClosedReactorException;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link TcpServer#close()} and {@link TcpServer.Builder#start()} called off the server's reactor thread: never
 * one reactor's thread blocked on another (two reactors closing each other's servers used to deadlock), never a
 * hang or a stray exception when the reactor closes meanwhile, and the listening fd closed only once no thread can
 * be inside accept4 on it.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class TcpServerHandOffTest {

    private static TcpServer echoServer(Loop loop) throws Exception {
        return TcpServer.builder(loop.reactor).handler(new Echo()).start();
    }

    /** Whether a TCP connect to {@code port} on 127.0.0.1 is refused (nothing listens there any more). */
    private static boolean refused(int port) throws IOException {
        try (SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
            return false;
        } catch (ConnectException e) {
            return true;
        }
    }

    /** Runs {@code action} on the loop's thread without waiting for it; the future holds what it threw. */
    private static CompletableFuture<Void> onLoopAsync(Loop loop, ThrowingRunnable action) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.reactor.execute(() -> {
            try {
                action.run();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        return done;
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void twoReactorsClosingEachOthersServersDoNotDeadlock() throws Exception {
        try (Loop a = Loop.start("handoff-a"); Loop b = Loop.start("handoff-b")) {
            TcpServer onA = echoServer(a);
            TcpServer onB = echoServer(b);
            CyclicBarrier both = new CyclicBarrier(2);
            // Each loop thread waits for the other to be inside its task too, then closes the other's server.
            CompletableFuture<Void> fromA = onLoopAsync(a, () -> {
                both.await(WAIT_SECONDS, TimeUnit.SECONDS);
                onB.close();
            });
            CompletableFuture<Void> fromB = onLoopAsync(b, () -> {
                both.await(WAIT_SECONDS, TimeUnit.SECONDS);
                onA.close();
            });
            fromA.get(WAIT_SECONDS, TimeUnit.SECONDS);
            fromB.get(WAIT_SECONDS, TimeUnit.SECONDS);
            a.barrier();
            b.barrier();
            assertTrue(refused(onA.port()), "server on A still listening");
            assertTrue(refused(onB.port()), "server on B still listening");
            assertEquals(List.of(), a.failures);
            assertEquals(List.of(), b.failures);
        }
    }

    @Test
    void twoReactorsStartingServersOnEachOtherDoNotDeadlock() throws Exception {
        try (Loop a = Loop.start("handoff-start-a"); Loop b = Loop.start("handoff-start-b")) {
            CyclicBarrier both = new CyclicBarrier(2);
            AtomicReference<TcpServer> onB = new AtomicReference<>();
            AtomicReference<TcpServer> onA = new AtomicReference<>();
            CompletableFuture<Void> fromA = onLoopAsync(a, () -> {
                both.await(WAIT_SECONDS, TimeUnit.SECONDS);
                onB.set(echoServer(b));
            });
            CompletableFuture<Void> fromB = onLoopAsync(b, () -> {
                both.await(WAIT_SECONDS, TimeUnit.SECONDS);
                onA.set(echoServer(a));
            });
            fromA.get(WAIT_SECONDS, TimeUnit.SECONDS);
            fromB.get(WAIT_SECONDS, TimeUnit.SECONDS);
            a.barrier();
            b.barrier();
            // both listen and accept: a connection to each gets its bytes echoed
            for (TcpServer s : List.of(onA.get(), onB.get())) {
                try (SocketChannel ch = connect(new InetSocketAddress("127.0.0.1", s.port()))) {
                    ch.write(java.nio.ByteBuffer.wrap(new byte[] {42}));
                    java.nio.ByteBuffer back = java.nio.ByteBuffer.allocate(1);
                    assertEquals(1, ch.read(back));
                    assertEquals(42, back.get(0));
                }
            }
            onA.get().close();
            onB.get().close();
            assertEquals(List.of(), a.failures);
            assertEquals(List.of(), b.failures);
        }
    }

    /** Blocks the loop's thread in a task until {@link #release}; returns once the loop is inside it. */
    private static CountDownLatch blockLoop(Loop loop) throws Exception {
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        loop.reactor.execute(() -> {
            inside.countDown();
            try {
                release.await(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(inside.await(WAIT_SECONDS, TimeUnit.SECONDS), "loop never ran the blocking task");
        return release;
    }

    /** Closes the loop's reactor from a new thread and returns once the reactor is closing (the thread waits). */
    private static Thread closeReactorInBackground(Loop loop) {
        Thread closer = new Thread(loop.reactor::close, "reactor-closer");
        closer.start();
        awaitUntil(loop.reactor::isClosed, "reactor.close() started");
        return closer;
    }

    /** Waits until {@code t} has ended or is parked (waiting for something), and returns which. */
    private static Thread.State settle(Thread t) {
        java.util.Set<Thread.State> settled = java.util.EnumSet.of(Thread.State.TERMINATED, Thread.State.WAITING,
                Thread.State.TIMED_WAITING);
        Thread.State[] seen = new Thread.State[1];
        awaitUntil(() -> settled.contains(seen[0] = t.getState()), t.getName() + " ended or parked");
        return seen[0];
    }

    @Test
    void startWhileTheReactorClosesFailsWithClosedReactorException() throws Exception {
        try (Loop loop = Loop.start("handoff-start-closing")) {
            CountDownLatch release = blockLoop(loop);
            Thread closer = closeReactorInBackground(loop);
            try {
                assertThrows(ClosedReactorException.class, () -> echoServer(loop));
            } finally {
                release.countDown();
                closer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            }
            assertFalse(closer.isAlive());
        }
    }

    /**
     * The loop is inside the acceptor (the handler factory runs between two accept4 calls) when the reactor starts
     * closing and a plain thread calls {@code server.close()}. The listening fd must stay open until the loop has
     * let go (closing it there would let the next accept4 run on a number another thread's open() may have taken
     * meanwhile); {@code close()} waits for that and then returns without an exception.
     */
    @Test
    void closeWhileTheLoopIsAcceptingClosesTheFdOnlyAfterTheLoopLetGo() throws Exception {
        try (Loop loop = Loop.start("handoff-close-accepting")) {
            CountDownLatch inFactory = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            TcpServer server = TcpServer.builder(loop.reactor).handlerFactory(() -> {
                inFactory.countDown();
                try {
                    release.await(WAIT_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return new Echo();
            }).start();
            int port = server.port();
            try (SocketChannel first = connect(new InetSocketAddress("127.0.0.1", port))) {
                assertTrue(inFactory.await(WAIT_SECONDS, TimeUnit.SECONDS), "the connection was never accepted");
                Thread closer = closeReactorInBackground(loop);
                AtomicReference<Throwable> failed = new AtomicReference<>();
                Thread stopper = new Thread(() -> {
                    try {
                        server.close();
                    } catch (Throwable t) {
                        failed.set(t);
                    }
                }, "server-closer");
                try {
                    stopper.start();
                    assertNotEquals(Thread.State.TERMINATED, settle(stopper),
                            "server.close() returned while the loop was still inside the acceptor");
                    assertFalse(refused(port), "listening fd closed while the loop was still inside the acceptor");
                } finally {
                    release.countDown();
                    stopper.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                    closer.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                }
                assertFalse(stopper.isAlive(), "server.close() hung after the reactor closed");
                assertNull(failed.get(), () -> "server.close() threw " + failed.get());
                assertTrue(refused(port), "still listening after close()");
            }
        }
    }

    /** A plain thread's close() racing the reactor's close: never hangs, never throws, always closes. */
    @Test
    void closeRacingTheReactorsCloseNeverHangs() throws Exception {
        long seed = 20240611L;
        System.out.println("closeRacingTheReactorsCloseNeverHangs seed=" + seed);
        java.util.Random random = new java.util.Random(seed);
        for (int round = 0; round < 40; round++) {
            Loop loop = Loop.start("handoff-race-" + round);
            TcpServer server = echoServer(loop);
            int port = server.port();
            CountDownLatch go = new CountDownLatch(1);
            boolean serverFirst = random.nextBoolean();
            CompletableFuture<Void> closeServer = CompletableFuture.runAsync(() -> {
                await(go);
                server.close();
            });
            CompletableFuture<Void> closeReactor = CompletableFuture.runAsync(() -> {
                await(go);
                if (serverFirst) {
                    Thread.yield();
                }
                loop.close();
            });
            go.countDown();
            closeServer.get(WAIT_SECONDS, TimeUnit.SECONDS);
            closeReactor.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(refused(port), "round " + round + ": still listening");
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(WAIT_SECONDS, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
