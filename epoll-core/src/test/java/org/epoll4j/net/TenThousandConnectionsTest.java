package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * 10,000 concurrent connections on one reactor. The clients live in a child JVM: with both ends in one process a
 * hard fd limit of 20,000 (common in containers) would not suffice.
 */
@Timeout(60)
@ExtendWith(FdLeakCheck.class)
class TenThousandConnectionsTest {
    private static final int N = 10_000;

    @Test
    void tenThousandConnectionsOpenEchoAndClose() throws Exception {
        long[] limits = ChildJvm.openFileLimits();
        assumeTrue(limits[0] >= N + 500, "soft fd limit " + limits[0] + " (hard " + limits[1] + ") is below "
                + (N + 500) + ": ulimit -Hn too low for 10,000 connections");
        CountDownLatch opened = new CountDownLatch(N);
        CountDownLatch closed = new CountDownLatch(N);
        Reactor reactor = NetTestKit.startReactor("storm");
        try (TcpServer server = TcpServer.builder(reactor)
                .handler(new ConnectionHandler() {
                    @Override
                    public void onOpen(Connection c) {
                        opened.countDown();
                    }

                    @Override
                    public void onData(Connection c, ByteBuffer data) {
                        c.write(data);
                    }

                    @Override
                    public void onClose(Connection c, Throwable cause) {
                        closed.countDown();
                    }
                })
                .start();
             ChildJvm clients = ChildJvm.start(List.of(), List.of(), StormClientMain.class,
                     Integer.toString(server.port()), Integer.toString(N))) {
            assertEquals("ready " + N, clients.expect("", Duration.ofSeconds(40)), "every connection echoed");
            assertTrue(opened.await(5, TimeUnit.SECONDS));
            assertEquals(N, NetTestKit.onLoop(reactor, server::activeConnections));
            assertEquals(N, NetTestKit.onLoop(reactor, server::acceptedCount));
            clients.send("close");
            assertTrue(closed.await(30, TimeUnit.SECONDS), () -> closed.getCount() + " connections still open");
            assertEquals(0, NetTestKit.onLoop(reactor, server::activeConnections));
            assertEquals("closed", clients.expect("", Duration.ofSeconds(10)));
            clients.closeStdin();
            assertTrue(clients.process().waitFor(10, TimeUnit.SECONDS));
            assertEquals(0, clients.process().exitValue());
        } finally {
            NetTestKit.stop(reactor);
        }
    }
}
