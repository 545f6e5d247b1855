package org.epoll4j;

import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.quicktheories.core.Gen;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;

import static org.epoll4j.testutil.Pbt.qt;
import static org.epoll4j.testutil.Pbt.randomBytes;
import static org.epoll4j.testutil.Pbt.run;
import static org.epoll4j.testutil.Pbt.showingBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

/**
 * Byte streams written in random chunks through a non-blocking AF_UNIX socketpair arrive byte-exact, followed by
 * end of stream, whether read by an EDGE handler (reads until EAGAIN) or a LEVEL handler (one read per event).
 */
@ExtendWith(FdLeakCheck.class)
class StreamChunkingProperties {
    private static final int EXAMPLES = 100;
    /** Each shrink step is a real transfer (milliseconds), so shrinking is bounded well below the test's timeout. */
    private static final int SHRINK_CYCLES = 500;

    static Gen<List<byte[]>> chunks() {
        return showingBytes(lists().of(randomBytes(1, 3000)).ofSizeBetween(0, 30));
    }

    @Test
    @Timeout(300)
    void edgeHandlerReadingUntilEagainGetsEveryByte() {
        qt(EXAMPLES, SHRINK_CYCLES)
                .forAll(chunks(), integers().between(1, 4096), integers().between(0, 2))
                .checkAssert((chunks, readSize, pollsPerChunk) -> run(() -> assertTimeoutPreemptively(
                        Duration.ofSeconds(20), () -> transfer(chunks, readSize, pollsPerChunk, TriggerMode.EDGE))));
    }

    @Test
    @Timeout(300)
    void levelHandlerReadingOncePerEventGetsEveryByte() {
        qt(EXAMPLES, SHRINK_CYCLES)
                .forAll(chunks(), integers().between(16, 4096), integers().between(0, 2))
                .checkAssert((chunks, readSize, pollsPerChunk) -> run(() -> assertTimeoutPreemptively(
                        Duration.ofSeconds(20), () -> transfer(chunks, readSize, pollsPerChunk, TriggerMode.LEVEL))));
    }

    private static void transfer(List<byte[]> chunks, int readSize, int pollsPerChunk, TriggerMode mode)
            throws Exception {
        int[] s = Fds.socketpair();
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        ByteBuffer in = NativeMemory.allocate(readSize);
        long inAddr = NativeMemory.address(in);
        boolean[] eof = new boolean[1];
        Handler reader = (reg, ready) -> {
            do {
                long n = LibC.read(reg.fd(), inAddr, readSize);
                if (n > 0) {
                    byte[] bytes = new byte[(int) n];
                    in.get(0, bytes);
                    received.writeBytes(bytes);
                } else if (n == 0) {
                    eof[0] = true;
                    reg.cancel();
                    return;
                } else if (LibC.errno() == Errno.EAGAIN) {
                    return;
                } else {
                    throw new EpollException("read", LibC.errno());
                }
            } while (mode == TriggerMode.EDGE);
        };
        try (Reactor reactor = Reactor.builder().debugEdgeStalls(true).build()) {
            Registration reg = reactor.register(s[1], Interest.READ, mode, reader);
            for (byte[] chunk : chunks) {
                writeAll(reactor, s[0], chunk);
                sent.writeBytes(chunk);
                for (int i = 0; i < pollsPerChunk; i++) {
                    reactor.poll(Duration.ZERO);
                }
            }
            LibC.shutdown(s[0], LibC.SHUT_WR);
            for (int i = 0; reg.isValid(); i++) {
                assertTrue(i < 100_000, "no end of stream");
                reactor.poll(Duration.ofSeconds(1));
            }
            assertTrue(eof[0]);
            assertEquals(0, reactor.stats().edgeStallsReported());
            assertEquals(0, reactor.stats().handlerFailures());
        } finally {
            Fds.close(s);
        }
        assertArrayEquals(sent.toByteArray(), received.toByteArray());
    }

    /** Writes the whole chunk, letting the reactor drain the other end whenever the socket buffer is full. */
    private static void writeAll(Reactor reactor, int fd, byte[] chunk) throws Exception {
        ByteBuffer out = NativeMemory.allocate(chunk.length).put(0, chunk);
        long addr = NativeMemory.address(out);
        int off = 0;
        while (off < chunk.length) {
            long n = LibC.write(fd, addr + off, chunk.length - off);
            if (n > 0) {
                off += (int) n;
            } else if (LibC.errno() == Errno.EAGAIN) {
                reactor.poll(Duration.ofMillis(100));
            } else {
                throw new EpollException("write", LibC.errno());
            }
        }
    }
}
