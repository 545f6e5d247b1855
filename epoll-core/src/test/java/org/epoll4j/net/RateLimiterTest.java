package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Rate limits on real connections: bounds are asserted on bytes against the refills counted (never on wall-clock
 * speed): with a limit of R B/s and tick T, after N refills at most {@code burst + ceil(R*T) * N} bytes passed (reads:
 * plus the one read that overshot).
 */
@Timeout(120)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class RateLimiterTest {
    private static final Duration TICK = Duration.ofMillis(10);

    /** Reads charge the limiter; records the bound at every delivery. */
    private static final class LimitedReader extends Tracking {
        final RateLimit limit;
        final CompletableFuture<RateLimiter> limiter = new CompletableFuture<>();
        final AtomicLong delivered = new AtomicLong();
        final List<String> violations = new CopyOnWriteArrayList<>();
        long maxRead;
        long pauses;
        final Verifier verifier = new Verifier(7, "limited read");

        LimitedReader(RateLimit limit) {
            this.limit = limit;
        }

        @Override
        public void onOpen(Connection c) throws Exception {
            limiter.complete(RateLimiter.builder(c).read(limit).tick(TICK).build());
            super.onOpen(c);
        }

        @Override
        public void onData(Connection c, ByteBuffer data) {
            RateLimiter l = limiter.join();
            int n = data.remaining();
            verifier.check(data);
            maxRead = Math.max(maxRead, n);
            long total = delivered.addAndGet(n);
            l.onRead(n);
            if (l.isReadingPaused()) {
                pauses++;
            }
            long bound = limit.burst() + limit.perTickCeil(10) * l.readRefills() + maxRead;
            if (total > bound) {
                violations.add(total + " B read after " + l.readRefills() + " refills (bound " + bound + ")");
            }
        }
    }

    @Test
    void readLimitPausesAndResumesWithinTheBound() throws Exception {
        RateLimit limit = RateLimit.of(1_000_000, 16 * 1024); // 10 000 B per 10 ms tick
        LimitedReader h = new LimitedReader(limit);
        int total = 256 * 1024;
        try (Loop loop = Loop.start("rate-read")) {
            TcpServer server = TcpServer.builder(loop.reactor).handler(h).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                h.nextOpen();
                writeFully(ch, bytes(7, 0, total));
                awaitTrue(loop, () -> h.delivered.get() == total);
                RateLimiter l = h.limiter.join();
                assertEquals(List.of(), h.violations);
                assertTrue(h.pauses > 0, "the limiter paused reading");
                long minRefills = (total - limit.burst() - h.maxRead) / limit.perTickCeil(10);
                assertTrue(loop.call(l::readRefills) >= minRefills, "refills " + l.readRefills() + " < " + minRefills);
                // the debt is paid off, then the limiter stops ticking: no timer for an idle connection
                awaitTrue(loop, () -> !l.isReadingPaused() && !l.isTicking());
                assertFalse(h.limiter.join().connection().isReadingPaused());
            }
            h.closed.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            server.close();
        }
    }

    /** Writes {@code total} bytes of stream {@code seed} through the limiter in uneven parts, then closes after drain. */
    private static final class LimitedWriter extends Tracking {
        final RateLimit limit;
        final RateLimitGroup group;
        final int total;
        final long seed;
        final CompletableFuture<RateLimiter> limiter = new CompletableFuture<>();
        final java.util.concurrent.BlockingQueue<RateLimiter> all = new java.util.concurrent.LinkedBlockingQueue<>();

        LimitedWriter(RateLimit limit, RateLimitGroup group, int total, long seed) {
            this.limit = limit;
            this.group = group;
            this.total = total;
            this.seed = seed;
        }

        @Override
        public void onOpen(Connection c) throws Exception {
            RateLimiter.Builder b = RateLimiter.builder(c).write(limit).tick(TICK);
            RateLimiter l = (group != null ? b.group(group) : b).build();
            int pos = 0;
            for (int part = 1; pos < total; part = part * 3 % 70_001 + 1) {
                int n = Math.min(part, total - pos);
                l.write(ByteBuffer.wrap(bytes(seed, pos, n)));
                pos += n;
            }
            l.close();
            assertThrows(ClosedConnectionException.class, () -> l.write(ByteBuffer.allocate(1)));
            limiter.complete(l);
            all.add(l);
            super.onOpen(c);
        }
    }

    @Test
    void writeLimitHoldsAndDeliversEveryByteInOrderThenCloses() throws Exception {
        RateLimit limit = RateLimit.of(2_000_000, 20_000); // 20 000 B per tick
        int total = 300_000;
        LimitedWriter h = new LimitedWriter(limit, null, total, 11);
        try (Loop loop = Loop.start("rate-write")) {
            TcpServer server = TcpServer.builder(loop.reactor).handler(h).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                assertEquals(total, readToEof(ch, new Verifier(11, "limited write"))); // EOF: close after drain
                RateLimiter l = h.limiter.join();
                long refills = loop.call(l::writeRefills);
                assertTrue(total <= limit.burst() + limit.perTickCeil(10) * refills, total + " B after " + refills);
                assertTrue(refills >= (total - limit.burst()) / limit.perTickCeil(10));
                assertEquals(0, l.heldBytes());
                assertFalse(loop.call(l::isTicking));
            }
            assertNull(h.closed.poll(WAIT_SECONDS, TimeUnit.SECONDS).cause());
            server.close();
        }
    }

    @Test
    void groupSharesFairlyAndHoldsTheGroupBound() throws Exception {
        RateLimit groupLimit = RateLimit.of(2_000_000, 20_000); // 20 000 B per tick for both together
        int each = 400_000;
        try (Loop loop = Loop.start("rate-group")) {
            RateLimitGroup group = RateLimitGroup.builder(loop.reactor).write(groupLimit).tick(TICK).build();
            LimitedWriter h = new LimitedWriter(null, group, each, 13);
            TcpServer server = TcpServer.builder(loop.reactor).handler(h).start();
            try (SocketChannel a = connect(server.localAddress()); SocketChannel b = connect(server.localAddress())) {
                RateLimiter la = h.all.poll(WAIT_SECONDS, TimeUnit.SECONDS);
                RateLimiter lb = h.all.poll(WAIT_SECONDS, TimeUnit.SECONDS);
                assertNotNull(lb);
                // sample both on the loop at every tick while both still hold bytes
                List<Long> gaps = new CopyOnWriteArrayList<>();
                CompletableFuture<Void> sampled = new CompletableFuture<>();
                Runnable[] sample = new Runnable[1];
                sample[0] = () -> {
                    if (la.heldBytes() > 0 && lb.heldBytes() > 0) {
                        gaps.add(Math.abs(la.heldBytes() - lb.heldBytes()));
                        loop.reactor.schedule(TICK, sample[0]);
                    } else {
                        sampled.complete(null);
                    }
                };
                loop.reactor.execute(sample[0]);
                Thread readerB = new Thread(() -> {
                    try {
                        assertEquals(each, readToEof(b, new Verifier(13, "member b")));
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                readerB.start();
                assertEquals(each, readToEof(a, new Verifier(13, "member a")));
                readerB.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                sampled.get(WAIT_SECONDS, TimeUnit.SECONDS);
                long bound = groupLimit.burst() + 4 * groupLimit.perTickCeil(10);
                assertFalse(gaps.isEmpty());
                for (long gap : gaps) {
                    assertTrue(gap <= bound, "one member ran ahead by " + gap + " B (bound " + bound + "): " + gaps);
                }
                long refills = loop.call(group::writeRefills);
                assertTrue(2L * each <= groupLimit.burst() + groupLimit.perTickCeil(10) * refills,
                        2 * each + " B after " + refills + " group refills");
                assertFalse(loop.call(group::isTicking), "no timer once nobody waits");
            }
            h.closed.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            h.closed.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            server.close();
        }
    }

    /** Group members that charge their reads; counts per connection. */
    private static final class GroupReader extends Tracking {
        final RateLimitGroup group;
        final java.util.Map<Connection, AtomicLong> delivered = new java.util.concurrent.ConcurrentHashMap<>();
        final java.util.concurrent.BlockingQueue<RateLimiter> all = new java.util.concurrent.LinkedBlockingQueue<>();
        long maxRead;

        GroupReader(RateLimitGroup group) {
            this.group = group;
        }

        @Override
        public void onOpen(Connection c) throws Exception {
            RateLimiter l = RateLimiter.builder(c).group(group).build();
            c.attach(l);
            delivered.put(c, new AtomicLong());
            all.add(l);
            super.onOpen(c);
        }

        @Override
        public void onData(Connection c, ByteBuffer data) {
            int n = data.remaining();
            data.position(data.limit());
            maxRead = Math.max(maxRead, n);
            delivered.get(c).addAndGet(n);
            ((RateLimiter) c.attachment()).onRead(n);
        }
    }

    @Test
    void groupReadsShareFairly() throws Exception {
        RateLimit groupLimit = RateLimit.of(2_000_000, 20_000); // 20 000 B per tick for both together
        int each = 400_000;
        try (Loop loop = Loop.start("rate-group-read")) {
            RateLimitGroup group = RateLimitGroup.builder(loop.reactor).read(groupLimit).tick(TICK).build();
            GroupReader h = new GroupReader(group);
            TcpServer server = TcpServer.builder(loop.reactor).handler(h).start();
            try (SocketChannel a = connect(server.localAddress()); SocketChannel b = connect(server.localAddress())) {
                Connection ca = h.all.poll(WAIT_SECONDS, TimeUnit.SECONDS).connection();
                Connection cb = h.all.poll(WAIT_SECONDS, TimeUnit.SECONDS).connection();
                AtomicLong da = h.delivered.get(ca);
                AtomicLong db = h.delivered.get(cb);
                List<Long> gaps = new CopyOnWriteArrayList<>();
                CompletableFuture<Void> sampled = new CompletableFuture<>();
                Runnable[] sample = new Runnable[1];
                sample[0] = () -> {
                    if (da.get() < each && db.get() < each) {
                        gaps.add(Math.abs(da.get() - db.get()));
                        loop.reactor.schedule(TICK, sample[0]);
                    } else {
                        sampled.complete(null);
                    }
                };
                Thread writerB = new Thread(() -> {
                    try {
                        writeFully(b, bytes(5, 0, each));
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                writerB.start();
                loop.reactor.execute(sample[0]);
                writeFully(a, bytes(5, 0, each));
                writerB.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
                awaitTrue(loop, () -> da.get() == each && db.get() == each);
                sampled.get(WAIT_SECONDS, TimeUnit.SECONDS);
                long maxRead = loop.call(() -> h.maxRead);
                long bound = groupLimit.burst() + 4 * groupLimit.perTickCeil(10) + 2 * maxRead;
                assertFalse(gaps.isEmpty());
                for (long gap : gaps) {
                    assertTrue(gap <= bound, "one member ran ahead by " + gap + " B (bound " + bound + "): " + gaps);
                }
                long refills = loop.call(group::readRefills);
                assertTrue(2L * each <= groupLimit.burst() + groupLimit.perTickCeil(10) * refills + 2 * maxRead,
                        2 * each + " B after " + refills + " group refills");
            }
            h.closed.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            h.closed.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            server.close();
        }
    }

    @Test
    void rateAndUserPausesHoldIndependently() throws Exception {
        RateLimit limit = RateLimit.of(100_000, 1000); // 1000 B per tick
        LimitedReader h = new LimitedReader(limit);
        try (Loop loop = Loop.start("rate-pause")) {
            TcpServer server = TcpServer.builder(loop.reactor).handler(h).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection c = h.nextOpen();
                RateLimiter l = h.limiter.join();
                writeFully(ch, bytes(7, 0, 5000));
                awaitTrue(loop, () -> l.isReadingPaused());
                // the user's resume does not lift the rate pause
                c.resumeReading();
                assertTrue(loop.call(() -> c.isReadingPausedFor(ReadPause.RATE_LIMIT)));
                // the user's pause outlives the rate pause
                c.pauseReading();
                awaitTrue(loop, () -> !l.isReadingPaused());
                long before = h.delivered.get();
                loop.barrier();
                assertTrue(loop.call(() -> c.isReadingPausedFor(ReadPause.USER)));
                assertEquals(before, h.delivered.get(), "delivered while the user paused");
                c.resumeReading();
                writeFully(ch, bytes(7, 5000, 3000));
                awaitTrue(loop, () -> h.delivered.get() == 8000);
                assertEquals(List.of(), h.violations);
            }
            h.closed.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            server.close();
        }
    }

    @Test
    void badConfigurationIsRefusedClearly() throws Exception {
        assertMessage("bytesPerSecond", () -> RateLimit.of(0, 1));
        assertMessage("burst", () -> RateLimit.of(1, 0));
        assertMessage("bytesPerSecond", () -> RateLimit.of(-5, 10));
        try (Loop loop = Loop.start("rate-config"); Loop other = Loop.start("rate-config-other")) {
            assertMessage("tick", () -> RateLimitGroup.builder(loop.reactor).tick(Duration.ZERO));
            assertMessage("tick", () -> RateLimitGroup.builder(loop.reactor).tick(Duration.ofSeconds(2)));
            assertMessage("tick", () -> RateLimitGroup.builder(loop.reactor).tick(Duration.ofNanos(1_500_000)));
            assertMessage("read or a write", () -> RateLimitGroup.builder(loop.reactor).build());
            assertMessage("burst 100 B is below one tick's refill (10000 B",
                    () -> RateLimitGroup.builder(loop.reactor).write(RateLimit.of(1_000_000, 100)).tick(TICK).build());
            RateLimitGroup foreign = RateLimitGroup.builder(other.reactor).read(RateLimit.of(1000, 1000)).build();
            Tracking h = new Tracking();
            TcpServer server = TcpServer.builder(loop.reactor).handler(h).start();
            try (SocketChannel ch = connect(server.localAddress())) {
                Connection c = h.nextOpen();
                assertThrows(IllegalStateException.class,
                        () -> RateLimiter.builder(c).read(RateLimit.of(1000, 1000)).build()); // off the loop
                assertEquals("ok", loop.call(() -> {
                    assertMessage("read or write limit", () -> RateLimiter.builder(c).build());
                    assertMessage("a group serves one reactor", () -> RateLimiter.builder(c).group(foreign).build());
                    assertMessage("rate limiter write limit: burst 10",
                            () -> RateLimiter.builder(c).write(RateLimit.of(100_000, 10)).tick(TICK).build());
                    assertMessage("highWatermark", () -> RateLimiter.builder(c).highWatermark(0));
                    RateLimiter l = RateLimiter.builder(c).read(RateLimit.of(1000, 1000)).build();
                    assertMessage("negative", () -> l.onRead(-1));
                    return "ok";
                }));
            }
            h.closed.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            server.close();
        }
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), () -> "message lacks '" + part + "': " + e.getMessage());
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    /** Waits (bounded) until {@code check}, evaluated on the loop thread, holds. */
    private static void awaitTrue(Loop loop, Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!loop.call(check::holds)) {
            assertTrue(System.nanoTime() < deadline, "condition did not hold within " + WAIT_SECONDS + " s");
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // polling a condition, not a timed wait
        }
    }
}
