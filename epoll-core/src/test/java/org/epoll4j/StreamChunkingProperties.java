package org.epoll4j;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Byte streams written in random chunks through a non-blocking AF_UNIX socketpair arrive byte-exact, followed by
 * end of stream, whether read by an EDGE handler (reads until EAGAIN) or a LEVEL handler (one read per event).
 */
@AddLifecycleHook(FdLeakCheck.class)
class StreamChunkingProperties {

    @Provide
    Arbitrary<List<byte[]>> chunks() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(3000).list().ofMaxSize(30);
    }

    @Property(tries = 100)
    void edgeHandlerReadingUntilEagainGetsEveryByte(@ForAll("chunks") List<byte[]> chunks,
                                                    @ForAll @IntRange(min = 1, max = 4096) int readSize,
                                                    @ForAll @IntRange(min = 0, max = 2) int pollsPerChunk) {
        assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> transfer(chunks, readSize, pollsPerChunk, TriggerMode.EDGE));
    }

    @Property(tries = 100)
    void levelHandlerReadingOncePerEventGetsEveryByte(@ForAll("chunks") List<byte[]> chunks,
                                                      @ForAll @IntRange(min = 16, max = 4096) int readSize,
                                                      @ForAll @IntRange(min = 0, max = 2) int pollsPerChunk) {
        assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> transfer(chunks, readSize, pollsPerChunk, TriggerMode.LEVEL));
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
