package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link ConnectionConfig#withReadSize}: no {@code onData} sees more than the read size, the stream arrives intact
 * through reads that size, the default is the whole 64 KiB buffer, and sizes outside 1..65536 are refused naming the
 * limit.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class NetReadSizeTest {
    private Loop loop;

    @BeforeEach
    void start() throws Exception {
        loop = Loop.start("read-size");
    }

    @AfterEach
    void stop() {
        loop.close();
        assertEquals(List.of(), loop.failures);
    }

    /** What one connection's handler saw: the bytes, and the largest single onData. */
    private static final class Recorder implements ConnectionHandler {
        final ByteArrayOutputStream got = new ByteArrayOutputStream();
        final CompletableFuture<Integer> largestAtEnd = new CompletableFuture<>();
        int largest;

        @Override
        public void onData(Connection connection, ByteBuffer data) {
            largest = Math.max(largest, data.remaining());
            byte[] b = new byte[data.remaining()];
            data.get(b);
            got.write(b, 0, b.length);
        }

        @Override
        public void onClose(Connection connection, Throwable cause) {
            largestAtEnd.complete(largest);
        }
    }

    private int largestRead(ConnectionConfig config, int total) throws Exception {
        Recorder r = new Recorder();
        try (TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                .config(config).handler(r).start();
             Socket s = NetTestKit.connect(server.port())) {
            // one write of it all: the kernel has far more than one read's worth queued when the reactor reads
            s.getOutputStream().write(bytes(7, 0, total));
            s.shutdownOutput();
            int largest = r.largestAtEnd.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertArrayEquals(bytes(7, 0, total), r.got.toByteArray(), "the stream arrived intact");
            return largest;
        }
    }

    @Test
    void noOnDataSeesMoreThanTheReadSize() throws Exception {
        int largest = largestRead(ConnectionConfig.defaults().withReadSize(1000), 300_000);
        assertTrue(largest <= 1000, "largest onData " + largest);
        assertEquals(1000, largest, "with 300 KB queued, some read was full");
    }

    @Test
    void theDefaultReadsUpToTheWholeBuffer() throws Exception {
        assertEquals(NetContext.READ_BUFFER_SIZE, ConnectionConfig.defaults().readSize());
        int largest = largestRead(ConnectionConfig.defaults(), 1 << 20);
        assertTrue(largest > 16 * 1024 && largest <= NetContext.READ_BUFFER_SIZE, "largest onData " + largest);
    }

    @Test
    void sizesOutsideTheBufferAreRefused() {
        for (int bad : new int[] {0, -1, NetContext.READ_BUFFER_SIZE + 1}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ConnectionConfig.defaults().withReadSize(bad));
            assertEquals("read size must be 1..65536 (the reactor's read buffer): " + bad, e.getMessage());
        }
        ConnectionConfig c = ConnectionConfig.defaults().withReadSize(16 * 1024).withReadBudget(3);
        assertEquals(16 * 1024, c.readSize(), "kept by the other withX copies");
        assertTrue(c.toString().contains("readSize=16384"), c.toString());
    }
}
