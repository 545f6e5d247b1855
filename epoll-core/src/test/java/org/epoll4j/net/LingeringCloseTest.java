package org.epoll4j.net;

import org.epoll4j.TriggerMode;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A graceful close() lingers: it reads and discards what the peer sends while the queue drains, half-closes, and
 * closes on the peer's EOF or after the linger timeout. Without it, bytes the peer sent after close() make Linux
 * answer close(2) with a reset, and the end of the response still in the send buffer is lost.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class LingeringCloseTest {
    private static final long SEED = 16;
    private static final int TOTAL = 8 << 20;

    /** Writes TOTAL bytes and closes, all in onOpen. */
    private static final class WriteAndClose extends Tracking {
        @Override
        public void onOpen(Connection c) throws Exception {
            super.onOpen(c);
            c.write(bytes(SEED, 0, TOTAL));
            c.close();
        }
    }

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void bytesThePeerSendsAfterCloseDoNotCutTheResponse(TriggerMode mode) throws Exception {
        WriteAndClose h = new WriteAndClose();
        try (Loop loop = Loop.start("linger-" + mode)) {
            TcpServer server = TcpServer.builder(loop.reactor).config(ConnectionConfig.defaults().withTrigger(mode))
                    .handler(h).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                h.nextOpen(); // close() was asked: the rest of the 8 MiB waits in the queue
                writeFully(ch, new byte[]{1, 2, 3, 4}); // a pipelined request after "Connection: close"
                Verifier v = new Verifier(SEED, "response before close");
                assertEquals(TOTAL, readToEof(ch, v), "the whole response, then EOF");
            }
            Closed closed = h.nextClose();
            assertNull(closed.cause(), "a graceful close");
            server.close();
        }
    }

    /** A peer that reads everything but never closes: the connection closes once the linger timeout is over. */
    @Test
    void lingerEndsAfterItsTimeout() throws Exception {
        WriteAndClose h = new WriteAndClose();
        try (Loop loop = Loop.start("linger-timeout")) {
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withLingerTimeout(Duration.ofMillis(100))).handler(h).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection c = h.nextOpen();
                writeFully(ch, new byte[]{1, 2, 3, 4});
                Verifier v = new Verifier(SEED, "response before close");
                assertEquals(TOTAL, readToEof(ch, v), "the whole response, then EOF (the half-close)");
                Closed closed = h.nextClose(); // the client still holds its end open
                assertSame(c, closed.connection());
                assertNull(closed.cause());
            }
            server.close();
        }
    }

    @Test
    void lingerTimeoutIsValidated() {
        assertEquals(Duration.ofSeconds(2), ConnectionConfig.defaults().lingerTimeout());
        assertThrows(IllegalArgumentException.class,
                () -> ConnectionConfig.defaults().withLingerTimeout(Duration.ofMillis(-1)));
        assertEquals(Duration.ZERO, ConnectionConfig.defaults().withLingerTimeout(Duration.ZERO).lingerTimeout());
    }
}
