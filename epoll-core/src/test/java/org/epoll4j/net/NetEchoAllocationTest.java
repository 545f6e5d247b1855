package org.epoll4j.net;

import org.epoll4j.Reactor;
import org.epoll4j.TriggerMode;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.internal.Sockets;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A TCP echo round trip allocates nothing once compiled, under whichever binding this JVM uses: the client's send,
 * the reactor's epoll_wait, the server's read, the echo handler's write and the client's read, all on the test
 * thread. The handler's write and the client's send are downcalls nested deep in a compiled method, where the FFM
 * binding's errno capture once allocated 40 B per call (its handles were constants, so the JIT inlined the capture
 * into the caller and ran out of inlining depth before the errno slice was scalar-replaced). Runs in a JVM of its
 * own (the {@code isolated-allocation} execution), like {@code ReactorLoggingTest}.
 */
@Timeout(180)
@ExtendWith(FdLeakCheck.class)
class NetEchoAllocationTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final int SIZE = 64;
    private static final int ECHOES = 20_000;
    /** Well under 1 B per echo: a real per-echo object (16 B at least) costs 320 KB or more per round. */
    private static final long LIMIT = 16 * 1024;
    /** Bounds each echo's busy wait (the test thread spins, so JUnit's timeout alone could not stop it). */
    private static final long ECHO_TIMEOUT_NANOS = Duration.ofSeconds(10).toNanos();

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void anEchoRoundTripAllocatesNothingOnceCompiled(TriggerMode mode) throws Exception {
        assertTrue(THREADS.isThreadAllocatedMemorySupported() && THREADS.isThreadAllocatedMemoryEnabled());
        try (Reactor reactor = Reactor.builder().name("echo-alloc-" + mode).build()) {
            TcpServer server = TcpServer.builder(reactor)
                    .config(ConnectionConfig.defaults().withTrigger(mode))
                    .handler((c, data) -> c.write(data))
                    .start();
            InetSocketAddress remote = new InetSocketAddress("127.0.0.1", server.port());
            int client = Sockets.open(remote);
            ByteBuffer buffer = NativeMemory.allocate(SIZE);
            long buf = NativeMemory.address(buffer);
            try {
                Sockets.connect(client, remote);
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (server.activeConnections() == 0) {
                    assertTrue(System.nanoTime() < deadline, "the server did not accept the client");
                    reactor.poll(Duration.ofMillis(10));
                }
                Sockets.setIntOption(client, LibC.IPPROTO_TCP, LibC.TCP_NODELAY, 1, "TCP_NODELAY");

                echoes(reactor, client, buf, 3 * ECHOES); // warm up: let the JIT compile the whole path
                // Until C2 has compiled every call site (slower on a loaded CI machine) the interpreter and C1 code
                // allocate; take the best of several rounds, stopping at the first clean one.
                long best = Long.MAX_VALUE;
                for (int round = 0; round < 30 && best >= LIMIT; round++) {
                    best = Math.min(best, echoes(reactor, client, buf, ECHOES));
                }
                System.out.println("[echo-alloc " + LibC.binding() + " " + mode + "] " + best + " bytes over "
                        + ECHOES + " echoes");
                assertTrue(best < LIMIT, LibC.binding() + ", " + mode + ": " + best + " bytes over " + ECHOES
                        + " echoes (" + (best / ECHOES) + " B per echo)");
            } finally {
                Reference.reachabilityFence(buffer); // the kernel writes to buf: its memory must outlive the calls
                LibC.close(client);
                server.close();
            }
        }
    }

    // The client's send, 12 ordinary calls below the loop: a handler's write sits as deep in a server's compiled
    // dispatch, and this makes the test independent of how the JIT happens to split the net layer into compilations.
    // (Recursion would not do: C2 inlines a recursive call only once.)
    private static long send1(int fd, long buf) {
        return LibC.send(fd, buf, SIZE, LibC.MSG_NOSIGNAL);
    }

    private static long send2(int fd, long buf) {
        return send1(fd, buf);
    }

    private static long send3(int fd, long buf) {
        return send2(fd, buf);
    }

    private static long send4(int fd, long buf) {
        return send3(fd, buf);
    }

    private static long send5(int fd, long buf) {
        return send4(fd, buf);
    }

    private static long send6(int fd, long buf) {
        return send5(fd, buf);
    }

    private static long send7(int fd, long buf) {
        return send6(fd, buf);
    }

    private static long send8(int fd, long buf) {
        return send7(fd, buf);
    }

    private static long send9(int fd, long buf) {
        return send8(fd, buf);
    }

    private static long send10(int fd, long buf) {
        return send9(fd, buf);
    }

    private static long send11(int fd, long buf) {
        return send10(fd, buf);
    }

    private static long send12(int fd, long buf) {
        return send11(fd, buf);
    }

    /** Bytes this thread allocates over {@code n} 64-byte echoes, each sent, echoed by the server and read back. */
    private static long echoes(Reactor reactor, int client, long buf, int n) throws Exception {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < n; i++) {
            long sent = send12(client, buf);
            if (sent != SIZE) {
                throw new AssertionError("client send: " + sent + ", errno " + LibC.errno());
            }
            long got = 0;
            long deadline = System.nanoTime() + ECHO_TIMEOUT_NANOS;
            while (got < SIZE) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("echo " + i + ": " + got + " of " + SIZE + " bytes back after 10 s");
                }
                reactor.poll(Duration.ZERO);
                long r = LibC.read(client, buf + got, SIZE - got);
                if (r > 0) {
                    got += r;
                } else if (r == 0 || LibC.errno() != Errno.EAGAIN) {
                    throw new AssertionError("client read: " + r + ", errno " + LibC.errno());
                }
            }
        }
        return THREADS.getCurrentThreadAllocatedBytes() - before;
    }
}
