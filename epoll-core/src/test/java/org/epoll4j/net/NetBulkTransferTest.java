package org.epoll4j.net;

import org.epoll4j.TriggerMode;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * One GiB through one echo connection, written and read in random chunk sizes by two client threads on a blocking
 * SocketChannel, comes back byte-exact: the reader checks every byte against the reproducible pattern and both sides
 * keep a running CRC32C. Nothing holds the GiB in memory.
 */
@Timeout(180)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class NetBulkTransferTest {
    private static final long TOTAL = 1L << 30;
    private static final int MAX_WRITE = 1 << 20;

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void oneGibibyteEchoesByteExact(TriggerMode mode) throws Exception {
        long seed = 0x5EEDL + mode.ordinal();
        try (Loop loop = Loop.start("bulk-" + mode)) {
            Echo echo = new Echo();
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withTrigger(mode))
                    .handler(echo)
                    .start();
            try (SocketChannel ch = connect(server.localAddress())) {
                CompletableFuture<Long> writerCrc = new CompletableFuture<>();
                CompletableFuture<long[]> readerResult = new CompletableFuture<>();
                Thread writer = new Thread(() -> {
                    try {
                        SplittableRandom r = new SplittableRandom(seed);
                        CRC32C crc = new CRC32C();
                        byte[] buf = new byte[MAX_WRITE];
                        long pos = 0;
                        while (pos < TOTAL) {
                            // mostly small and medium writes, now and then a big one
                            int bound = r.nextInt(8) == 0 ? MAX_WRITE : r.nextBoolean() ? 70_000 : 4096;
                            int n = (int) Math.min(TOTAL - pos, 1 + r.nextInt(bound));
                            fill(seed, pos, buf, 0, n);
                            crc.update(buf, 0, n);
                            writeFully(ch, ByteBuffer.wrap(buf, 0, n));
                            pos += n;
                        }
                        ch.shutdownOutput();
                        writerCrc.complete(crc.getValue());
                    } catch (Throwable t) {
                        writerCrc.completeExceptionally(t);
                    }
                }, "bulk-writer");
                Thread reader = new Thread(() -> {
                    try {
                        SplittableRandom r = new SplittableRandom(~seed);
                        CRC32C crc = new CRC32C();
                        Verifier v = new Verifier(seed, "bulk echo");
                        ByteBuffer b = ByteBuffer.allocate(256 * 1024);
                        while (true) {
                            b.clear().limit(1 + r.nextInt(b.capacity()));
                            int n = ch.read(b);
                            if (n < 0) {
                                break;
                            }
                            crc.update(b.array(), 0, n);
                            v.check(b.array(), 0, n);
                        }
                        readerResult.complete(new long[] {v.position(), crc.getValue()});
                    } catch (Throwable t) {
                        readerResult.completeExceptionally(t);
                    }
                }, "bulk-reader");
                writer.start();
                reader.start();
                try {
                    long sentCrc = writerCrc.get(150, TimeUnit.SECONDS);
                    long[] received = readerResult.get(150, TimeUnit.SECONDS);
                    assertEquals(TOTAL, received[0], "bytes echoed");
                    assertEquals(sentCrc, received[1], "CRC32C of the echo");
                } finally {
                    ch.close(); // unblocks either thread if the other failed
                    writer.join(10_000);
                    reader.join(10_000);
                }
            }
            Closed c = echo.nextClose();
            assertNull(c.cause());
            assertEquals(TOTAL, c.connection().bytesRead());
            assertEquals(TOTAL, c.connection().bytesWritten());
            loop.barrier();
            echo.assertClosedOnceEach(1);
            assertEquals(List.of(), loop.failures);
            server.close();
        }
    }
}
