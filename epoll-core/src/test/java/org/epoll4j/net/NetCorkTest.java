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

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Corking: parts written while corked leave in one send on uncork (and nothing is lost or reordered); a gathering
 * write does the same in one call; close() and shutdownOutput() uncork.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class NetCorkTest {
    private static final long SEED = 5;
    private static final int PARTS = 12;
    private static final int PART = 700;

    /** Part i of the stream, alternately heap and direct. */
    private static ByteBuffer part(int i) {
        byte[] b = bytes(SEED, (long) i * PART, PART);
        if (i % 2 == 0) {
            return ByteBuffer.wrap(b);
        }
        return ByteBuffer.allocateDirect(PART).put(b).flip();
    }

    private static void expectStream(SocketChannel ch, int parts) throws Exception {
        Verifier v = new Verifier(SEED, "corked stream");
        byte[] got = readFully(ch, parts * PART);
        v.check(got, 0, got.length);
    }

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void corkedPartsLeaveInOneSendOnUncork(TriggerMode mode) throws Exception {
        Tracking handler = new Tracking();
        try (Loop loop = Loop.start("cork-" + mode)) {
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withTrigger(mode)).handler(handler).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection c = handler.nextOpen();
                long calls = loop.call(() -> {
                    long before = c.writeCalls();
                    c.cork();
                    assertTrue(c.isCorked());
                    for (int i = 0; i < PARTS; i++) {
                        c.write(part(i));
                    }
                    assertEquals(before, c.writeCalls(), "no system call while corked");
                    assertEquals((long) PARTS * PART, c.queuedBytes());
                    c.uncork();
                    assertFalse(c.isCorked());
                    assertEquals(0, c.queuedBytes());
                    return c.writeCalls() - before;
                });
                assertEquals(1, calls, "write calls for " + PARTS + " corked parts");
                expectStream(ch, PARTS);
            }
            handler.nextClose();
            server.close();
        }
    }

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void aGatheringWriteIsOneSendOnTheLoopAndOneUnitFromOtherThreads(TriggerMode mode) throws Exception {
        Tracking handler = new Tracking();
        try (Loop loop = Loop.start("gather-" + mode)) {
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withTrigger(mode)).handler(handler).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection c = handler.nextOpen();
                long calls = loop.call(() -> {
                    long before = c.writeCalls();
                    ByteBuffer[] parts = new ByteBuffer[PARTS / 2];
                    for (int i = 0; i < parts.length; i++) {
                        parts[i] = part(i);
                    }
                    c.write(parts);
                    for (ByteBuffer p : parts) {
                        assertFalse(p.hasRemaining(), "every part consumed");
                    }
                    return c.writeCalls() - before;
                });
                assertEquals(1, calls);
                // from the test thread: one task, one send
                long before = loop.call(c::writeCalls);
                ByteBuffer[] rest = new ByteBuffer[PARTS / 2];
                for (int i = 0; i < rest.length; i++) {
                    rest[i] = part(PARTS / 2 + i);
                }
                c.write(rest);
                expectStream(ch, PARTS);
                assertEquals(1, loop.call(c::writeCalls) - before);
            }
            handler.nextClose();
            server.close();
        }
    }

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void closeAndShutdownOutputUncork(TriggerMode mode) throws Exception {
        Tracking handler = new Tracking();
        try (Loop loop = Loop.start("cork-close-" + mode)) {
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withTrigger(mode)).handler(handler).start();
            try (SocketChannel a = connect(server.localAddress()); SocketChannel b = connect(server.localAddress())) {
                Connection ca = handler.nextOpen();
                Connection cb = handler.nextOpen();
                // from the test thread: cork, parts, end; ordered tasks
                for (Connection c : new Connection[] {ca, cb}) {
                    c.cork();
                    for (int i = 0; i < PARTS; i++) {
                        c.write(part(i));
                    }
                }
                ca.close();
                cb.shutdownOutput();
                for (SocketChannel ch : new SocketChannel[] {a, b}) {
                    expectStream(ch, PARTS);
                    assertEquals(-1, ch.read(ByteBuffer.allocate(1)), "EOF after the corked bytes");
                }
            }
            handler.nextClose();
            handler.nextClose();
            server.close();
        }
    }

    /**
     * LEVEL, bytes queued, then cork(): the socket turns writable but nothing may be sent, so EPOLLOUT must be off
     * (it once stayed armed: every loop iteration dispatched an event that did nothing, 600,000 in 500 ms). Uncork
     * sends the rest.
     */
    @org.junit.jupiter.api.Test
    void corkWithBytesQueuedStopsWatchingWritable() throws Exception {
        int total = 8 << 20;
        Tracking handler = new Tracking();
        try (Loop loop = Loop.start("cork-level-spin")) {
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withTrigger(TriggerMode.LEVEL)).handler(handler).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection c = handler.nextOpen();
                loop.call(() -> {
                    c.write(bytes(SEED, 0, total)); // the client reads nothing yet: most of it queues
                    c.cork();
                    return null;
                });
                long queued = loop.call(c::queuedBytes);
                assertTrue(queued > 0, "bytes queued");
                Verifier v = new Verifier(SEED, "corked after queueing");
                // read what the kernel holds: the socket is writable now, and stays so (nothing more is sent)
                byte[] got = readFully(ch, (int) (total - queued));
                v.check(got, 0, got.length);
                loop.barrier();
                long before = loop.reactor.stats().eventsDispatched();
                for (int i = 0; i < 20; i++) {
                    loop.barrier();
                }
                long dispatched = loop.reactor.stats().eventsDispatched() - before;
                assertTrue(dispatched <= 2, "events dispatched while corked and writable: " + dispatched);
                assertEquals(queued, (long) loop.call(c::queuedBytes), "nothing sent while corked");
                c.uncork();
                byte[] rest = readFully(ch, (int) queued);
                v.check(rest, 0, rest.length);
            }
            handler.nextClose();
            server.close();
        }
    }
}
