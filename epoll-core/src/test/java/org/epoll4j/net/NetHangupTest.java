package org.epoll4j.net;

import org.epoll4j.TriggerMode;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A peer that sends a lot and hangs up (EPOLLHUP arrives with the bytes still in the kernel): every byte reaches
 * {@code onData} before {@code onReadHangup} and {@code onClose(null)}, whatever the read budget, and a paused
 * connection keeps the bytes in the kernel until it resumes, without spinning on the HUP it cannot mask.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class NetHangupTest {
    private static final int TOTAL = 180 * 1024 + 7;
    private static final long SEED = 42;

    @TempDir
    Path dir;

    enum Reading { BUDGET_ONE, PAUSE_EACH_CHUNK }

    enum Transport { UNIX_CLOSE, TCP_AFTER_SHUTDOWN_OUTPUT }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (Transport t : Transport.values()) {
            for (TriggerMode m : TriggerMode.values()) {
                for (Reading r : Reading.values()) {
                    b.add(Arguments.of(t, m, r));
                }
            }
        }
        return b.build();
    }

    /** Checks the stream; optionally pauses after every chunk and reports the pause to the test thread. */
    static final class Collector extends Tracking {
        final Verifier verifier = new Verifier(SEED, "hang-up stream");
        final boolean pauseEach;
        final boolean shutdownOnOpen;
        final BlockingQueue<Connection> paused = new LinkedBlockingQueue<>();
        final CompletableFuture<Long> hangup = new CompletableFuture<>();
        final AtomicInteger dataAfterHangup = new AtomicInteger();
        volatile long received;

        Collector(boolean pauseEach, boolean shutdownOnOpen) {
            this.pauseEach = pauseEach;
            this.shutdownOnOpen = shutdownOnOpen;
        }

        @Override
        public void onOpen(Connection c) throws Exception {
            if (shutdownOnOpen) {
                c.shutdownOutput();
            }
            super.onOpen(c);
        }

        @Override
        public void onData(Connection c, ByteBuffer data) {
            if (hangup.isDone()) {
                dataAfterHangup.incrementAndGet();
            }
            verifier.check(data);
            received = verifier.position();
            if (pauseEach) {
                c.pauseReading();
                paused.add(c);
            }
        }

        @Override
        public void onReadHangup(Connection c) {
            hangup.complete(verifier.position());
            c.close();
        }
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void everyByteBeforeTheHangupIsDelivered(Transport transport, TriggerMode mode, Reading reading) throws Exception {
        ConnectionConfig config = ConnectionConfig.defaults().withTrigger(mode);
        if (reading == Reading.BUDGET_ONE) {
            config = config.withReadBudget(1);
        }
        SocketAddress bind = transport == Transport.UNIX_CLOSE ? UnixDomainSocketAddress.of(dir.resolve("hup.sock"))
                : new InetSocketAddress("127.0.0.1", 0);
        Collector handler = new Collector(reading == Reading.PAUSE_EACH_CHUNK,
                transport == Transport.TCP_AFTER_SHUTDOWN_OUTPUT);
        try (Loop loop = Loop.start("hup-" + transport + "-" + mode + "-" + reading)) {
            TcpServer server = TcpServer.builder(loop.reactor).bind(bind)
                    // room for the whole stream in the kernel while the loop is held below
                    .options(SockOpts.empty().with(SockOpt.SO_REUSEADDR, true)
                            .with(SockOpt.SO_RCVBUF, 1 << 20))
                    .config(config).handler(handler).start();
            try (SocketChannel ch = SocketChannel.open(server.localAddress())) {
                ch.setOption(java.net.StandardSocketOptions.SO_SNDBUF, 1 << 20);
                handler.nextOpen();
                if (transport == Transport.TCP_AFTER_SHUTDOWN_OUTPUT) {
                    assertEquals(-1, ch.read(ByteBuffer.allocate(1)), "the server half-closed");
                }
                // Hold the loop so that the bytes and the hang-up are both in the kernel at the next event.
                CountDownLatch held = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                loop.reactor.execute(() -> {
                    held.countDown();
                    try {
                        release.await(WAIT_SECONDS, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                try {
                    assertTrue(held.await(WAIT_SECONDS, TimeUnit.SECONDS));
                    CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                        try {
                            writeFully(ch, bytes(SEED, 0, TOTAL));
                            ch.close();
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    sent.get(WAIT_SECONDS, TimeUnit.SECONDS);
                } finally {
                    release.countDown();
                }
            }
            if (reading == Reading.PAUSE_EACH_CHUNK) {
                boolean checkedSpin = false;
                while (handler.closed.isEmpty()) {
                    Connection c = handler.paused.poll(100, TimeUnit.MILLISECONDS);
                    if (c == null) {
                        continue; // not paused yet, or closed
                    }
                    assertTrue(c.isReadingPaused());
                    assertTrue(c.isOpen(), "a paused connection waits for resumeReading() before it sees the end");
                    if (!checkedSpin) {
                        // The HUP is pending and cannot be masked: the loop must not report it over and over.
                        long before = loop.reactor.stats().eventsDispatched();
                        for (int i = 0; i < 5; i++) {
                            loop.barrier();
                        }
                        long events = loop.reactor.stats().eventsDispatched() - before;
                        assertTrue(events <= 3, "events while paused with a pending HUP: " + events);
                        checkedSpin = true;
                    }
                    c.resumeReading();
                }
            }
            Closed closed = handler.nextClose();
            assertNull(closed.cause(), () -> "clean close expected, got " + closed.cause());
            assertEquals(TOTAL, handler.received, "bytes delivered to onData");
            assertTrue(handler.hangup.isDone(), "onReadHangup ran");
            assertEquals(TOTAL, handler.hangup.getNow(-1L), "onReadHangup after every byte");
            assertEquals(0, handler.dataAfterHangup.get());
            loop.barrier();
            handler.assertClosedOnceEach(1);
            assertEquals(List.of(), loop.failures);
            server.close();
        }
    }

    /** After close() with bytes still queued, no more onData, even though (EDGE) reading was never switched off. */
    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void noDataAfterAGracefulClose(TriggerMode mode) throws Exception {
        AtomicInteger dataAfterClose = new AtomicInteger();
        Tracking handler = new Tracking() {
            boolean closing;

            @Override
            public void onData(Connection c, ByteBuffer data) {
                if (closing) {
                    dataAfterClose.incrementAndGet();
                }
                data.position(data.limit());
                if (!closing) {
                    // more than the peer's window takes while it does not read: the close has to wait
                    c.write(ByteBuffer.allocate(8 << 20));
                    c.close();
                    closing = true;
                }
            }
        };
        try (Loop loop = Loop.start("closed-reads-" + mode)) {
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withTrigger(mode)).handler(handler).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection c = handler.nextOpen();
                writeFully(ch, new byte[1]);
                // wait until the close is pending behind the queued 8 MiB
                while (loop.call(c::queuedBytes) == 0) {
                    loop.barrier();
                }
                for (int i = 0; i < 20; i++) {
                    writeFully(ch, new byte[1000]);
                    loop.barrier();
                }
                assertTrue(c.isOpen(), "still flushing: the peer has not read");
                assertEquals(0, dataAfterClose.get(), "onData calls after close()");
                // now read: the connection finishes closing (with a reset, as the kernel does when a socket closes
                // with unread input: the bytes sent after close() were never read)
                ByteBuffer b = ByteBuffer.allocate(1 << 16);
                try {
                    while (ch.read(b.clear()) >= 0) {
                        // drain
                    }
                } catch (java.net.SocketException reset) {
                    // expected when the server closed with our later bytes unread
                }
            }
            assertNull(handler.nextClose().cause());
            assertEquals(0, dataAfterClose.get(), "onData calls after close()");
            server.close();
        }
    }

    /**
     * A LEVEL connection whose peer closes, handled by the default onReadHangup (close), costs ADD and DEL only: no
     * epoll_ctl to drop its read interest just before the registration goes away.
     */
    @org.junit.jupiter.api.Test
    void aLevelConnectionClosedOnEofMakesNoExtraEpollCtl() throws Exception {
        try (Loop loop = Loop.start("hup-ctl")) {
            Tracking handler = new Tracking();
            TcpServer server = loop.call(() -> TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withTrigger(TriggerMode.LEVEL)).handler(handler).start());
            long before = loop.reactor.stats().epollCtls();
            try (SocketChannel client = connect(server.localAddress())) {
                handler.opened.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            }
            Closed closed = handler.closed.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertNotNull(closed, "the connection closed on the peer's EOF");
            assertNull(closed.cause());
            loop.barrier();
            assertEquals(2, loop.reactor.stats().epollCtls() - before, "EPOLL_CTL_ADD and EPOLL_CTL_DEL only");
            server.close();
        }
    }
}
