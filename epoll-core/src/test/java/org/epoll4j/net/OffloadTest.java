package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.WAIT_SECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Offload: results come back on the loop thread in submission order; at most maxInFlight start at once. */
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
@Timeout(60)
class OffloadTest {
    private static final int REQUESTS = 5;
    private static final int MAX_IN_FLIGHT = 2;

    /** Each byte read is one request; the task for request i finishes when gate[i] opens. */
    private static final class Handler implements ConnectionHandler {
        final ExecutorService pool;
        final CountDownLatch[] gate = new CountDownLatch[REQUESTS + 1];
        final CountDownLatch[] finished = new CountDownLatch[REQUESTS + 1];
        final CountDownLatch submitted = new CountDownLatch(REQUESTS);
        final List<String> deliveries = new CopyOnWriteArrayList<>();
        final CompletableFuture<Connection> connection = new CompletableFuture<>();
        Offload offload;

        Handler(ExecutorService pool) {
            this.pool = pool;
            for (int i = 0; i <= REQUESTS; i++) {
                gate[i] = new CountDownLatch(1);
                finished[i] = new CountDownLatch(1);
            }
        }

        @Override
        public void onOpen(Connection c) {
            offload = Offload.of(c, pool, MAX_IN_FLIGHT);
            connection.complete(c);
        }

        @Override
        public void onData(Connection c, ByteBuffer data) {
            while (data.hasRemaining()) {
                int request = data.get();
                offload.submit(() -> {
                    if (!gate[request].await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("gate " + request + " never opened");
                    }
                    finished[request].countDown();
                    if (request == 3) {
                        throw new IllegalArgumentException("request 3 fails");
                    }
                    return (byte) (request + 100);
                }, (reply, error) -> {
                    deliveries.add(request + ":" + (error != null ? error.getMessage() : reply)
                            + (c.reactor().inEventLoop() ? "" : " OFF THE LOOP"));
                    c.write(new byte[]{error != null ? (byte) -1 : reply});
                });
                submitted.countDown();
            }
        }
    }

    @Test
    void resultsArriveInSubmissionOrderOnTheLoopAndReadingPausesPastTheLimit() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(REQUESTS + 1);
        Handler h = new Handler(pool);
        try (NetTestKit.Loop loop = NetTestKit.Loop.start("offload");
             TcpServer server = loop.call(() -> TcpServer.builder(loop.reactor)
                     .bind(new InetSocketAddress("127.0.0.1", 0)).handler(h).start());
             SocketChannel client = NetTestKit.connect(server.localAddress())) {
            NetTestKit.writeFully(client, new byte[]{0, 1, 2, 3, 4});
            assertTrue(h.submitted.await(WAIT_SECONDS, TimeUnit.SECONDS));
            Connection c = h.connection.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(loop.call(() -> h.offload.isReadingPaused() && c.isReadingPaused()),
                    "5 requests outstanding >= 2: reading paused");
            assertEquals(MAX_IN_FLIGHT, (int) loop.call(h.offload::inFlight), "only the cap's worth started");
            assertEquals(REQUESTS - MAX_IN_FLIGHT, (int) loop.call(h.offload::waiting), "the rest wait for a slot");
            assertEquals(REQUESTS, (int) loop.call(h.offload::outstanding));

            // Sent while paused: not read until a slot frees.
            NetTestKit.writeFully(client, new byte[]{REQUESTS});
            loop.barrier();
            assertEquals(REQUESTS, (int) loop.call(h.offload::outstanding), "nothing more was read while paused");

            // Request 1 finishes first: its result waits for request 0, and keeps its slot until delivered.
            h.gate[1].countDown();
            assertTrue(h.finished[1].await(WAIT_SECONDS, TimeUnit.SECONDS));
            loop.barrier();
            assertEquals(List.of(), h.deliveries, "request 0 still runs: later results wait for it");
            assertEquals(MAX_IN_FLIGHT, (int) loop.call(h.offload::inFlight), "no slot freed before delivery");
            for (int i = 0; i <= REQUESTS; i++) {
                h.gate[i].countDown();
            }

            byte[] replies = NetTestKit.readFully(client, REQUESTS + 1);
            assertArrayEquals(new byte[]{100, 101, 102, -1, 104, 105}, replies);
            assertEquals(List.of("0:100", "1:101", "2:102", "3:request 3 fails", "4:104", "5:105"), h.deliveries);
            assertFalse(loop.call(c::isReadingPaused), "reading resumed once the in-flight count dropped");
            assertEquals(REQUESTS + 1L, (long) loop.call(h.offload::delivered));
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS));
        }
    }

    @Test
    void aRejectingExecutorIsReportedAsTheResultAndSubmitOffTheLoopFails() throws Exception {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        pool.shutdown();
        CompletableFuture<Throwable> result = new CompletableFuture<>();
        CompletableFuture<Offload> offload = new CompletableFuture<>();
        CompletableFuture<Connection> connection = new CompletableFuture<>();
        try (NetTestKit.Loop loop = NetTestKit.Loop.start("offload-rejected");
             TcpServer server = loop.call(() -> TcpServer.builder(loop.reactor)
                     .bind(new InetSocketAddress("127.0.0.1", 0)).handler(new NetTestKit.Tracking() {
                         @Override
                         public void onOpen(Connection c) {
                             connection.complete(c);
                             Offload o = Offload.of(c, pool, 1);
                             o.submit(() -> "never", (v, e) -> result.complete(e));
                             offload.complete(o);
                         }
                     }).start());
             SocketChannel client = NetTestKit.connect(server.localAddress())) {
            assertTrue(result.get(WAIT_SECONDS, TimeUnit.SECONDS) instanceof RejectedExecutionException);
            Offload o = offload.get(WAIT_SECONDS, TimeUnit.SECONDS);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> o.submit(() -> 1, (v, err) -> { }));
            assertTrue(e.getMessage().contains("thread"), e.getMessage());
            assertThrows(NullPointerException.class, () -> Offload.of(null, pool, 1));
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                    () -> Offload.of(loop.call(() -> connection.get()), pool, 0));
            assertTrue(bad.getMessage().contains("maxInFlight"), bad.getMessage());
        }
    }
}
