package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.WAIT_SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cap caps: 5,000 pipelined requests arriving in a handful of reads never have more than {@code maxInFlight}
 * outstanding, and the bytes queued for the replies stay near the high watermark (the handler pauses on
 * unwritability, the pattern the guide shows), whatever one read brought.
 */
@Timeout(60)
@ExtendWith(FdLeakCheck.class)
class OffloadCapTest {
    private static final int REQUESTS = 5_000;
    private static final int CAP = 4;
    private static final int REPLY = 1024;

    @Test
    void fiveThousandPipelinedRequestsNeverExceedTheCap() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(CAP);
        int[] maxInFlight = {0};
        long[] maxQueued = {0};
        int[] expectedNext = {0};
        CompletableFuture<String> misordered = new CompletableFuture<>();
        FrameHandler<String> h = new FrameHandler<>() {
            @Override
            public void onOpen(Connection c) {
                c.attach(Offload.of(c, pool, CAP));
            }

            @Override
            public void onFrame(Connection c, String line) {
                Offload offload = (Offload) c.attachment();
                int n = Integer.parseInt(line.substring(4));
                offload.submit(() -> reply(n), (reply, error) -> {
                    if (n != expectedNext[0]++) {
                        misordered.complete("reply " + n + " out of order");
                    }
                    c.write(reply);
                    maxQueued[0] = Math.max(maxQueued[0], c.queuedBytes());
                    if (!c.isWritable()) {
                        c.pauseReading(); // backpressure: the peer is not reading its replies
                    }
                });
                maxInFlight[0] = Math.max(maxInFlight[0], offload.inFlight());
            }

            @Override
            public void onWritabilityChanged(Connection c, boolean writable) {
                if (writable) {
                    c.resumeReading();
                }
            }
        };
        try (NetTestKit.Loop loop = NetTestKit.Loop.start("offload-cap");
             TcpServer server = loop.call(() -> TcpServer.builder(loop.reactor)
                     .bind(new InetSocketAddress("127.0.0.1", 0))
                     .handlerFactory(() -> LineDecoder.handler(64, h)).start());
             Socket s = NetTestKit.connect(server.port())) {
            StringBuilder all = new StringBuilder();
            for (int i = 0; i < REQUESTS; i++) {
                all.append("GET ").append(i).append('\n');
            }
            byte[] requests = all.toString().getBytes(StandardCharsets.US_ASCII);
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(requests); // ~44 KB: a read or two on the server
                    out.flush();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            InputStream in = s.getInputStream();
            for (int i = 0; i < REQUESTS; i++) {
                assertEquals(new String(reply(i), StandardCharsets.US_ASCII),
                        new String(NetTestKit.readFully(in, REPLY), StandardCharsets.US_ASCII), "reply " + i);
            }
            sent.get(WAIT_SECONDS, TimeUnit.SECONDS);
            int max = loop.call(() -> maxInFlight[0]);
            long queued = loop.call(() -> maxQueued[0]);
            assertTrue(max <= CAP, "at most " + CAP + " in flight, saw " + max);
            long bound = ConnectionConfig.defaults().highWatermark() + (long) (CAP + 1) * REPLY;
            assertTrue(queued <= bound, "queued bytes stay near the high watermark: saw " + queued + ", bound "
                    + bound);
            assertTrue(!misordered.isDone(), () -> misordered.join());
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS));
        }
    }

    private static byte[] reply(int n) {
        byte[] b = new byte[REPLY];
        java.util.Arrays.fill(b, (byte) ('a' + n % 26));
        byte[] tag = (n + ":").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(tag, 0, b, 0, tag.length);
        b[REPLY - 1] = '\n';
        return b;
    }
}
