package org.epoll4j.net;

import org.epoll4j.TriggerMode;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The outbound side under a big transfer: a writable event makes at most {@code writeBudget} write calls before
 * other connections get their turn (and the rest still arrives, also under EDGE), and sending from a FileChannel
 * leaves no memory mapping of the file behind.
 */
@Timeout(120)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class NetWriteBudgetTest {
    private static final long BIG = 96L << 20;

    @TempDir
    Path dir;

    private Path sparseFile(long size) throws Exception {
        Path f = dir.resolve("sparse.bin");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(size); // zeros from the page cache: fast to send, no disk
        }
        return f;
    }

    /** Sends the file on open, closes when done, remembers the connection. */
    static final class Sender extends Tracking {
        final Path path;
        final FileChannel channel;
        final long size;

        Sender(Path path, FileChannel channel, long size) {
            this.path = path;
            this.channel = channel;
            this.size = size;
        }

        @Override
        public void onOpen(Connection c) throws Exception {
            super.onOpen(c);
            if (channel != null) {
                c.sendFile(channel, 0, size);
            } else {
                c.sendFile(path, 0, size);
            }
            c.close();
        }
    }

    private static long drain(SocketChannel ch) throws Exception {
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
        long total = 0;
        int n;
        while ((n = ch.read(b.clear())) >= 0) {
            total += n;
        }
        return total;
    }

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void aWritableEventMakesAtMostTheBudgetOfWriteCalls(TriggerMode mode) throws Exception {
        Path file = sparseFile(BIG);
        Sender sender = new Sender(file, null, BIG);
        try (Loop loop = Loop.start("writebudget-" + mode)) {
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withTrigger(mode).withWriteBudget(1)).handler(sender).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection c = sender.nextOpen();
                CompletableFuture<Long> read = CompletableFuture.supplyAsync(() -> {
                    try {
                        return drain(ch);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                assertEquals(BIG, read.get(WAIT_SECONDS * 2, TimeUnit.SECONDS), "every byte arrived");
                assertNull(sender.nextClose().cause());
                assertTrue(c.maxWriteCallsPerFlush() >= 1);
                assertTrue(c.maxWriteCallsPerFlush() <= 1,
                        "write calls in one flush: " + c.maxWriteCallsPerFlush() + ", budget 1");
            }
            server.close();
        }
    }

    @Test
    void sendingFromAFileChannelLeavesNoMappingBehind() throws Exception {
        Path file = sparseFile(24L << 20);
        String target = file.toRealPath().toString();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
             Loop loop = Loop.start("nomapping")) {
            Sender sender = new Sender(null, channel, 24L << 20);
            TcpServer server = TcpServer.builder(loop.reactor).handler(sender).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                assertEquals(24L << 20, drain(ch));
            }
            assertNull(sender.nextClose().cause());
            long mappings = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                    .filter(l -> l.endsWith(target)).count();
            assertEquals(0, mappings, "mappings of the sent file left in /proc/self/maps");
            server.close();
        }
    }
}
