package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIOCOUTQ on a real TCP connection: what the kernel holds for a peer that does not read, none once the peer has
 * taken (and acknowledged) everything, and a clear error on a closed connection.
 */
@ExtendWith(FdLeakCheck.class)
@org.junit.jupiter.api.Timeout(60)
class SocketQueuesTest {
    private static final int TOTAL = 4 << 20; // more than both kernels' buffers hold

    @Test
    void countsWhatTheKernelHoldsForAPeerThatDoesNotRead() throws Exception {
        CompletableFuture<long[]> whileStalled = new CompletableFuture<>();
        CompletableFuture<Integer> afterTaken = new CompletableFuture<>();
        CompletableFuture<Throwable> whenClosed = new CompletableFuture<>();
        CompletableFuture<java.net.SocketAddress> bound = new CompletableFuture<>();
        try (Reactor reactor = Reactor.open()) {
            reactor.start();
            reactor.execute(() -> {
                try {
                    TcpServer server = TcpServer.builder(reactor)
                            .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                            // small buffers both ends: loopback autotuning could otherwise take all of TOTAL
                            .childOptions(SockOpts.empty().with(SockOpt.SO_SNDBUF, 64 * 1024))
                            .handler(new ConnectionHandler() {
                                @Override
                                public void onOpen(Connection c) {
                                    c.write(ByteBuffer.allocate(TOTAL));
                                    // The write went to the kernel until it was full; the rest is queued.
                                    try {
                                        whileStalled.complete(new long[] {SocketQueues.unsentBytes(c),
                                                c.queuedBytes()});
                                    } catch (Exception e) {
                                        whileStalled.completeExceptionally(e);
                                    }
                                }

                                @Override
                                public void onData(Connection c, ByteBuffer data) {
                                    // The peer read everything, then sent this: its segment acknowledged it all.
                                    data.position(data.limit());
                                    try {
                                        afterTaken.complete(SocketQueues.unsentBytes(c));
                                    } catch (Exception e) {
                                        afterTaken.completeExceptionally(e);
                                    }
                                    c.close();
                                }

                                @Override
                                public void onClose(Connection c, Throwable cause) {
                                    try {
                                        SocketQueues.unsentBytes(c);
                                        whenClosed.complete(null);
                                    } catch (Throwable t) {
                                        whenClosed.complete(t);
                                    }
                                }
                            }).start();
                    bound.complete(server.localAddress());
                } catch (Exception e) {
                    bound.completeExceptionally(e);
                }
            });
            try (SocketChannel client = SocketChannel.open()) {
                client.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 64 * 1024);
                client.connect(bound.get(20, TimeUnit.SECONDS));
                long[] stalled = whileStalled.get(20, TimeUnit.SECONDS);
                long unsent = stalled[0];
                long queued = stalled[1];
                assertTrue(queued > 0, "the kernel took all " + TOTAL + " bytes: nothing to count");
                assertTrue(unsent > 0 && unsent + queued <= TOTAL, "unsent " + unsent + ", queued " + queued);

                ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
                for (long read = 0; read < TOTAL; ) {
                    sink.clear();
                    int n = client.read(sink);
                    assertTrue(n > 0, "EOF after " + read + " bytes");
                    read += n;
                }
                client.write(ByteBuffer.wrap(new byte[] {'k'}));
                assertEquals(0, afterTaken.get(20, TimeUnit.SECONDS), "everything was taken and acknowledged");
                Throwable closed = whenClosed.get(20, TimeUnit.SECONDS);
                assertTrue(closed instanceof ClosedConnectionException, String.valueOf(closed));
                assertTrue(closed.getMessage().contains("SIOCOUTQ"), closed.getMessage());
            }
            reactor.close();
            assertTrue(reactor.awaitTermination(Duration.ofSeconds(20)));
        }
    }

    @Test
    void aNullConnectionIsNamed() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> SocketQueues.unsentBytes(null));
        assertEquals("connection", e.getMessage());
    }
}
