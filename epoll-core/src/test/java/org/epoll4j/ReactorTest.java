package org.epoll4j;

import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Registration, dispatch and close behaviour of one {@link Reactor}, driven with poll() on the test thread. */
@ExtendWith(FdLeakCheck.class)
@Timeout(10)
class ReactorTest {
    private static final Handler IGNORE = (r, ready) -> { };

    private final List<Integer> fds = new ArrayList<>();

    @AfterEach
    void closeFds() {
        fds.forEach(LibC::close);
    }

    private int eventfd() {
        int fd = Fds.eventfd();
        fds.add(fd);
        return fd;
    }

    private int[] socketpair() {
        int[] s = Fds.socketpair();
        fds.add(s[0]);
        fds.add(s[1]);
        return s;
    }

    /** Counts events and records how the registration ended. */
    static final class Recorder implements Handler {
        final AtomicInteger events = new AtomicInteger();
        final List<Throwable> closes = new ArrayList<>();
        int closedCount;

        @Override
        public void onReady(Registration registration, Ready ready) {
            events.incrementAndGet();
        }

        @Override
        public void onClosed(Registration registration, Throwable cause) {
            closedCount++;
            closes.add(cause);
        }
    }

    private static int pollTimes(Reactor reactor, int times) throws EpollException {
        int total = 0;
        for (int i = 0; i < times; i++) {
            total += reactor.poll(Duration.ZERO);
        }
        return total;
    }

    @Test
    void levelKeepsReportingUnreadData() throws Exception {
        int[] s = socketpair();
        try (Reactor reactor = Reactor.open()) {
            Recorder h = new Recorder();
            reactor.register(s[1], Interest.READ, TriggerMode.LEVEL, h);
            assertEquals(0, pollTimes(reactor, 3));
            Fds.writeFully(s[0], new byte[] {1, 2, 3});
            assertEquals(5, pollTimes(reactor, 5));
            assertEquals(5, h.events.get());
        }
    }

    @Test
    void edgeReportsOncePerArrival() throws Exception {
        int[] s = socketpair();
        try (Reactor reactor = Reactor.open()) {
            Recorder h = new Recorder();
            reactor.register(s[1], Interest.READ, TriggerMode.EDGE, h);
            Fds.writeFully(s[0], new byte[] {1, 2, 3});
            assertEquals(1, pollTimes(reactor, 5));
            Fds.writeFully(s[0], new byte[] {4});
            assertEquals(1, pollTimes(reactor, 5));
            assertEquals(2, h.events.get());
        }
    }

    @Test
    void switchingToEdgeAndBack() throws Exception {
        int efd = eventfd();
        try (Reactor reactor = Reactor.open()) {
            Recorder h = new Recorder();
            Registration r = reactor.register(efd, Interest.READ, TriggerMode.LEVEL, h);
            Fds.signal(efd, 1);
            assertEquals(2, pollTimes(reactor, 2));
            assertSame(r, r.triggerMode(TriggerMode.EDGE));
            assertEquals(TriggerMode.EDGE, r.triggerMode());
            assertEquals(1, pollTimes(reactor, 3)); // MOD re-arms the edge once
            r.triggerMode(TriggerMode.LEVEL);
            assertEquals(3, pollTimes(reactor, 3));
            r.interest(Interest.NONE);
            assertEquals(0, pollTimes(reactor, 2));
        }
    }

    @Test
    void oneshotFiresOnceUntilRearmed() throws Exception {
        int efd = eventfd();
        try (Reactor reactor = Reactor.open()) {
            Registration r = reactor.register(efd, Interest.READ, TriggerMode.LEVEL, IGNORE,
                    RegistrationOption.ONESHOT);
            assertTrue(r.isOneshot());
            Fds.signal(efd, 1);
            assertEquals(1, pollTimes(reactor, 4));
            r.rearm();
            assertEquals(1, pollTimes(reactor, 4));
            Registration plain = reactor.register(eventfd(), Interest.READ, TriggerMode.LEVEL, IGNORE);
            assertThrows(IllegalStateException.class, plain::rearm);
        }
    }

    @Test
    void throwingHandlerIsReportedAndCancelledWhileOthersGoOn() throws Exception {
        int bad = eventfd();
        int good = eventfd();
        List<Object[]> reported = new ArrayList<>();
        try (Reactor reactor = Reactor.builder().errorHandler((r, t) -> reported.add(new Object[] {r, t})).build()) {
            IllegalStateException boom = new IllegalStateException("boom");
            AtomicReference<Throwable> closedWith = new AtomicReference<>();
            Registration badReg = reactor.register(bad, Interest.READ, TriggerMode.LEVEL, new Handler() {
                @Override
                public void onReady(Registration registration, Ready ready) {
                    throw boom;
                }

                @Override
                public void onClosed(Registration registration, Throwable cause) {
                    assertTrue(closedWith.compareAndSet(null, cause), "onClosed called twice");
                }
            });
            Recorder goodHandler = new Recorder();
            Registration goodReg = reactor.register(good, Interest.READ, TriggerMode.LEVEL, goodHandler);
            Fds.signal(bad, 1);
            Fds.signal(good, 1);
            assertEquals(2, reactor.poll(Duration.ZERO));

            assertEquals(1, reported.size());
            assertSame(badReg, reported.get(0)[0]);
            assertSame(boom, reported.get(0)[1]);
            assertSame(boom, closedWith.get());
            assertFalse(badReg.isValid());
            assertTrue(goodReg.isValid());
            assertEquals(1, reactor.stats().handlerFailures());
            assertEquals(1, reactor.stats().registrations());

            assertEquals(1, reactor.poll(Duration.ZERO)); // only the good one: bad is still readable but ended
            assertEquals(2, goodHandler.events.get());

            RuntimeException taskFailure = new RuntimeException("task");
            reactor.execute(() -> {
                throw taskFailure;
            });
            AtomicInteger after = new AtomicInteger();
            reactor.execute(after::incrementAndGet);
            reactor.poll(Duration.ZERO);
            assertEquals(1, after.get());
            assertNull(reported.get(1)[0]);
            assertSame(taskFailure, reported.get(1)[1]);
        }
    }

    @Test
    void onClosedExactlyOnceOnCancelAndOnReactorClose() throws Exception {
        Recorder cancelled = new Recorder();
        Recorder open = new Recorder();
        Registration r;
        try (Reactor reactor = Reactor.open()) {
            r = reactor.register(eventfd(), Interest.READ, TriggerMode.LEVEL, cancelled);
            reactor.register(eventfd(), Interest.READ, TriggerMode.LEVEL, open);
            r.cancel();
            r.cancel();
            assertFalse(r.isValid());
            assertEquals(1, reactor.stats().registrations());
            assertThrows(IllegalStateException.class, () -> r.interest(Interest.WRITE));
        }
        assertEquals(1, cancelled.closedCount);
        assertNull(cancelled.closes.get(0));
        assertEquals(1, open.closedCount);
        assertInstanceOf(ClosedReactorException.class, open.closes.get(0));
    }

    @Test
    void operationsAfterCloseAreRejected() throws Exception {
        int efd = eventfd();
        Reactor reactor = Reactor.open();
        AtomicInteger queuedRan = new AtomicInteger();
        reactor.execute(queuedRan::incrementAndGet);
        reactor.close();
        reactor.close(); // idempotent
        assertEquals(1, queuedRan.get(), "tasks queued before close run once");
        assertTrue(reactor.isClosed());
        assertTrue(reactor.awaitTermination(Duration.ZERO));
        assertThrows(ClosedReactorException.class, () -> reactor.register(efd, Interest.READ, TriggerMode.LEVEL,
                IGNORE));
        assertThrows(ClosedReactorException.class, () -> reactor.poll(Duration.ZERO));
        assertThrows(ClosedReactorException.class, reactor::run);
        assertThrows(ClosedReactorException.class, reactor::start);
        assertThrows(RejectedExecutionException.class, () -> reactor.execute(() -> { }));
        assertThrows(RejectedExecutionException.class, () -> reactor.schedule(Duration.ZERO, () -> { }));
        reactor.wakeup(); // harmless
    }

    @Test
    void closeFromHandlerEndsThePoll() throws Exception {
        int efd = eventfd();
        Reactor reactor = Reactor.open();
        Recorder other = new Recorder();
        reactor.register(eventfd(), Interest.READ, TriggerMode.LEVEL, other);
        reactor.register(efd, Interest.READ, TriggerMode.LEVEL, (r, ready) -> r.reactor().close());
        Fds.signal(efd, 1);
        assertEquals(1, reactor.poll(Duration.ZERO));
        assertTrue(reactor.awaitTermination(Duration.ZERO));
        assertInstanceOf(ClosedReactorException.class, other.closes.get(0));
    }

    @Test
    void edgeOnBlockingFdFailsClearly() throws Exception {
        int blocking = Fds.blockingEventfd();
        fds.add(blocking);
        try (Reactor reactor = Reactor.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> reactor.register(blocking, Interest.READ, TriggerMode.EDGE, IGNORE));
            assertTrue(e.getMessage().contains("fd " + blocking + " is blocking"), e.getMessage());
            assertTrue(e.getMessage().contains("O_NONBLOCK"), e.getMessage());
            assertEquals(0, reactor.stats().registrations());

            Registration r = reactor.register(blocking, Interest.READ, TriggerMode.LEVEL, IGNORE);
            assertThrows(IllegalArgumentException.class, () -> r.triggerMode(TriggerMode.EDGE));
            assertEquals(TriggerMode.LEVEL, r.triggerMode());
            Reactor.setNonBlocking(blocking);
            r.triggerMode(TriggerMode.EDGE);
            assertEquals(TriggerMode.EDGE, r.triggerMode());
        }
    }

    @Test
    void badFdsAreRejected(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "x");
        int regular = LibC.open(file.toString(), 0);
        fds.add(regular);
        int efd = eventfd();
        try (Reactor reactor = Reactor.open()) {
            int closed = Fds.eventfd(); // after open(): the reactor's own fds must not take this number
            LibC.close(closed);
            IllegalArgumentException neg = assertThrows(IllegalArgumentException.class,
                    () -> reactor.register(-1, Interest.READ, TriggerMode.LEVEL, IGNORE));
            assertTrue(neg.getMessage().contains("negative fd"), neg.getMessage());
            EpollException ebadf = assertThrows(EpollException.class,
                    () -> reactor.register(closed, Interest.READ, TriggerMode.LEVEL, IGNORE));
            assertEquals("epoll_ctl(ADD, fd=" + closed + ", Interest[READ], LEVEL): EBADF (Bad file descriptor)",
                    ebadf.getMessage());
            EpollException eperm = assertThrows(EpollException.class,
                    () -> reactor.register(regular, Interest.READ, TriggerMode.LEVEL, IGNORE));
            assertEquals(Errno.EPERM, eperm.errno());
            reactor.register(efd, Interest.READ, TriggerMode.LEVEL, IGNORE);
            EpollException eexist = assertThrows(EpollException.class,
                    () -> reactor.register(efd, Interest.WRITE, TriggerMode.LEVEL, IGNORE));
            assertEquals("EEXIST", eexist.errnoName());
            assertEquals(1, reactor.stats().registrations());
        }
    }

    @Test
    void sameInterestDoesNotCallEpollCtl() throws Exception {
        int efd = Fds.eventfd();
        try (Reactor reactor = Reactor.open()) {
            Registration r = reactor.register(efd, Interest.READ, TriggerMode.LEVEL, IGNORE);
            LibC.close(efd); // any epoll_ctl MOD on it would now fail with EBADF
            assertSame(r, r.interest(Interest.READ));
            assertSame(r, r.triggerMode(TriggerMode.LEVEL));
            EpollException e = assertThrows(EpollException.class, () -> r.interest(Interest.WRITE));
            assertEquals(Errno.EBADF, e.errno());
            assertEquals(Interest.READ, r.interest(), "a failed change keeps the old interest");
            r.cancel(); // DEL on a closed fd is ignored
            assertFalse(r.isValid());
        }
    }

    @Test
    void closedAndReusedFdEndsTheOldRegistration() throws Exception {
        int first = Fds.eventfd();
        try (Reactor reactor = Reactor.open()) {
            Recorder old = new Recorder();
            Registration oldReg = reactor.register(first, Interest.READ, TriggerMode.LEVEL, old);
            LibC.close(first);
            // The kernel hands out the lowest free number; another thread of this JVM may free a lower one or take
            // ours meanwhile, so open until we get the number back (the extras are closed after the test).
            int second = -1;
            for (int i = 0; i < 64 && second != first; i++) {
                second = eventfd();
            }
            org.junit.jupiter.api.Assumptions.assumeTrue(second == first, "another thread took fd " + first);
            Recorder fresh = new Recorder();
            Registration newReg = reactor.register(second, Interest.READ, TriggerMode.LEVEL, fresh);
            assertFalse(oldReg.isValid());
            assertEquals(1, old.closedCount);
            FdReusedException cause = assertInstanceOf(FdReusedException.class, old.closes.get(0));
            assertEquals(first, cause.fd());
            assertEquals(Errno.EBADF, cause.errno());
            Fds.signal(second, 1);
            assertEquals(1, reactor.poll(Duration.ZERO));
            assertEquals(0, old.events.get());
            assertEquals(1, fresh.events.get());
            assertEquals(1, reactor.stats().registrations());
            newReg.cancel();
            assertEquals(1, old.closedCount, "ending the new registration does not touch the old one");
        }
    }

    @Test
    void eventArrayGrowsWhenAWaitFillsIt() throws Exception {
        try (Reactor reactor = Reactor.builder().eventCapacity(2).build()) {
            for (int i = 0; i < 10; i++) {
                int efd = eventfd();
                Fds.signal(efd, 1);
                reactor.register(efd, Interest.READ, TriggerMode.LEVEL, IGNORE);
            }
            assertEquals(2, reactor.stats().eventCapacity());
            assertEquals(2, reactor.poll(Duration.ZERO));
            assertEquals(4, reactor.stats().eventCapacity());
            assertEquals(4, reactor.poll(Duration.ZERO));
            assertEquals(8, reactor.poll(Duration.ZERO));
            assertEquals(10, reactor.poll(Duration.ZERO));
            assertEquals(16, reactor.stats().eventCapacity());
            assertEquals(10, reactor.poll(Duration.ZERO));
            assertEquals(16, reactor.stats().eventCapacity(), "a wait that does not fill it does not grow it");
        }
        assertThrows(IllegalArgumentException.class, () -> Reactor.builder().eventCapacity(0));
    }

    @Test
    void eventForRegistrationCancelledEarlierInTheBatchIsDropped() throws Exception {
        int a = eventfd();
        int b = eventfd();
        try (Reactor reactor = Reactor.open()) {
            Registration[] regs = new Registration[2];
            AtomicInteger calls = new AtomicInteger();
            Handler cancelOther = (r, ready) -> {
                calls.incrementAndGet();
                regs[r == regs[0] ? 1 : 0].cancel();
            };
            regs[0] = reactor.register(a, Interest.READ, TriggerMode.LEVEL, cancelOther);
            regs[1] = reactor.register(b, Interest.READ, TriggerMode.LEVEL, cancelOther);
            Fds.signal(a, 1);
            Fds.signal(b, 1);
            assertEquals(1, reactor.poll(Duration.ZERO));
            assertEquals(1, calls.get());
            assertEquals(1, reactor.stats().staleEventsDropped());
            assertEquals(1, reactor.stats().eventsDispatched());
        }
    }

    @Test
    void debugModeCountsEdgeStalls() throws Exception {
        int[] s = socketpair();
        ByteBuffer buf = NativeMemory.allocate(64);
        try (Reactor reactor = Reactor.builder().debugEdgeStalls(true).build()) {
            AtomicInteger calls = new AtomicInteger();
            reactor.register(s[1], Interest.READ, TriggerMode.EDGE, (r, ready) -> {
                if (calls.incrementAndGet() > 1) { // the first call leaves the bytes unread
                    while (LibC.read(r.fd(), NativeMemory.address(buf), buf.capacity()) > 0) {
                        // drain until EAGAIN
                    }
                }
            });
            Fds.writeFully(s[0], new byte[] {1, 2, 3});
            assertEquals(1, reactor.poll(Duration.ZERO));
            assertEquals(1, reactor.stats().edgeStallsReported());
            assertEquals(0, reactor.poll(Duration.ZERO), "the stall: no new event for the unread bytes");
            Fds.writeFully(s[0], new byte[] {4});
            assertEquals(1, reactor.poll(Duration.ZERO));
            assertEquals(1, reactor.stats().edgeStallsReported(), "a handler that drains is not reported");
        }
        try (Reactor quiet = Reactor.builder().debugEdgeStalls(false).build()) {
            int[] t = socketpair();
            quiet.register(t[1], Interest.READ, TriggerMode.EDGE, IGNORE);
            Fds.writeFully(t[0], new byte[] {1});
            assertEquals(1, quiet.poll(Duration.ZERO));
            assertEquals(0, quiet.stats().edgeStallsReported());
        }
    }

    @Test
    void handlerAdapterReadsBeforeHangup() throws Exception {
        int[] s = socketpair();
        List<String> calls = new ArrayList<>();
        try (Reactor reactor = Reactor.open()) {
            reactor.register(s[1], Interest.READ.with(Interest.READ_HANGUP), TriggerMode.LEVEL, new HandlerAdapter() {
                @Override
                public void onReadable(Registration r) {
                    calls.add("readable");
                }

                @Override
                public void onReadHangup(Registration r) {
                    calls.add("readHangup");
                    r.cancel();
                }

                @Override
                public void onHangup(Registration r) {
                    calls.add("hangup"); // not reached: cancelled in onReadHangup
                }
            });
            Fds.writeFully(s[0], new byte[] {1});
            LibC.shutdown(s[0], LibC.SHUT_RDWR);
            assertEquals(1, reactor.poll(Duration.ZERO));
            assertEquals(List.of("readable", "readHangup"), calls);
        }
    }

    @Test
    void registerIsLoopThreadOnlyButChangingARegistrationIsNot() throws Exception {
        int efd = eventfd();
        int other = eventfd();
        try (Reactor reactor = Reactor.open()) {
            Registration r = reactor.register(efd, Interest.READ, TriggerMode.LEVEL, IGNORE);
            CompletableFuture<Throwable> registerFromOutside = new CompletableFuture<>();
            CompletableFuture<Throwable> interestFromOutside = new CompletableFuture<>();
            reactor.execute(() -> CompletableFuture.runAsync(() -> {
                registerFromOutside.complete(catching(() -> reactor.register(other, Interest.READ, TriggerMode.LEVEL,
                        IGNORE)));
                interestFromOutside.complete(catching(() -> r.interest(Interest.WRITE)));
            }).join()); // runs while this thread owns the reactor inside poll()
            reactor.poll(Duration.ZERO);
            assertInstanceOf(IllegalStateException.class, registerFromOutside.get(5, TimeUnit.SECONDS));
            assertNull(interestFromOutside.get(5, TimeUnit.SECONDS));
            assertEquals(Interest.WRITE, r.interest());
            assertEquals(1, reactor.poll(Duration.ZERO), "an eventfd is writable: the new interest is in the kernel");
        }
    }

    private interface Call {
        void run() throws Exception;
    }

    private static Throwable catching(Call c) {
        try {
            c.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    @Test
    void valuesAreCached() {
        assertSame(Interest.READ_WRITE, Interest.READ.with(Interest.WRITE));
        assertSame(Interest.READ, Interest.READ_WRITE.without(Interest.WRITE));
        assertSame(Interest.of(LibC.EPOLLIN | LibC.EPOLLRDHUP), Interest.READ.with(Interest.READ_HANGUP));
        assertThrows(IllegalArgumentException.class, () -> Interest.of(LibC.EPOLLET));
        assertSame(Ready.of(LibC.EPOLLIN | LibC.EPOLLHUP), Ready.of(LibC.EPOLLIN | LibC.EPOLLHUP | LibC.EPOLLET));
        Ready all = Ready.of(-1);
        assertTrue(all.isReadable() && all.isWritable() && all.isHangup() && all.isError() && all.isReadHangup()
                && all.isPriority());
    }

    @Test
    void toStringsNameTheState() throws IOException {
        try (Reactor reactor = Reactor.builder().name("r1").build()) {
            assertTrue(reactor.toString().startsWith("Reactor[r1, epfd="), reactor.toString());
        }
        assertEquals("Interest[READ|WRITE]", Interest.READ_WRITE.toString());
        assertEquals("Interest[NONE]", Interest.NONE.toString());
    }

    /** Spins (a few ns) until System.nanoTime() has moved past {@code t}: so "unchanged" below can only be the cache. */
    private static long after(long t) {
        long now;
        while ((now = System.nanoTime()) == t) {
            Thread.onSpinWait();
        }
        return now;
    }

    @Test
    void loopClockIsReadOncePerPhaseAndFreshElsewhere() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            long[] seen = new long[3];
            reactor.execute(() -> {
                seen[0] = reactor.loopNanos();
                after(seen[0]);
                seen[1] = reactor.loopNanos(); // same phase: the same reading, although the clock moved
            });
            reactor.poll(Duration.ZERO);
            assertTrue(seen[0] != 0);
            assertEquals(seen[0], seen[1]);
            after(seen[1]);
            reactor.execute(() -> seen[2] = reactor.loopNanos());
            reactor.poll(Duration.ZERO);
            assertTrue(seen[2] - seen[1] > 0, "a new iteration reads the clock again");
            long before = after(seen[2]);
            long off = reactor.loopNanos(); // not polling: this thread is not the loop's now
            assertTrue(off - before >= 0, "off the loop it is System.nanoTime(), not the loop's last reading");
        }
    }
}
