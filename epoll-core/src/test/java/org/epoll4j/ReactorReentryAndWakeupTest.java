package org.epoll4j;

import org.epoll4j.internal.LibC;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Re-entrant poll()/run() is refused (issue 6 item 7); wakeup() is sticky (item 8). */
@ExtendWith(FdLeakCheck.class)
// SEPARATE_THREAD: before the fixes a re-entrant run() or an unsticky wait blocks in epoll_wait, which an interrupt
// does not end; the test must fail, not hang the build.
@Timeout(value = 10, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReactorReentryAndWakeupTest {

    /** What a re-entrant call threw, and whether the thread still counted as the loop afterwards. */
    private record Reentry(Throwable thrown, boolean inLoopAfter) {
    }

    private static Reentry tryReenter(Reactor reactor, boolean run) {
        Throwable thrown = null;
        try {
            if (run) {
                reactor.run();
            } else {
                reactor.poll(Duration.ZERO);
            }
        } catch (Throwable t) {
            thrown = t;
        }
        return new Reentry(thrown, reactor.inEventLoop());
    }

    private static void assertRefused(Reentry r, String op) {
        assertNotNull(r, op + " was not attempted");
        IllegalStateException e = assertInstanceOf(IllegalStateException.class, r.thrown(), op);
        assertTrue(e.getMessage().contains("re-entrant"), e.getMessage());
        assertTrue(r.inLoopAfter(), "inEventLoop() turned false after a refused re-entrant " + op);
    }

    @Test
    void pollFromAHandlerIsRefusedAndTheLoopKeepsItsThread() throws Exception {
        int efd = Fds.eventfd();
        try (Reactor reactor = Reactor.open()) {
            AtomicReference<Reentry> seen = new AtomicReference<>();
            AtomicReference<Boolean> laterInLoop = new AtomicReference<>();
            reactor.register(efd, Interest.READ, TriggerMode.LEVEL, (reg, ready) -> {
                seen.set(tryReenter(reactor, false));
                Fds.drain(efd);
            });
            Fds.signal(efd, 1);
            // a second event in the same batch must still be dispatched with the loop intact
            int other = Fds.eventfd();
            try {
                reactor.register(other, Interest.READ, TriggerMode.LEVEL, (reg, ready) -> {
                    laterInLoop.set(reactor.inEventLoop());
                    Fds.drain(other);
                });
                Fds.signal(other, 1);
                assertEquals(2, reactor.poll(Duration.ZERO));
            } finally {
                reactor.close();
                LibC.close(other);
            }
            assertRefused(seen.get(), "poll");
            assertEquals(Boolean.TRUE, laterInLoop.get(), "inEventLoop() in the next handler of the batch");
        } finally {
            LibC.close(efd);
        }
    }

    @Test
    void runFromATaskOrTimerIsRefused() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            AtomicReference<Reentry> fromTask = new AtomicReference<>();
            AtomicReference<Reentry> fromTimer = new AtomicReference<>();
            reactor.execute(() -> fromTask.set(tryReenter(reactor, true)));
            reactor.schedule(Duration.ZERO, () -> fromTimer.set(tryReenter(reactor, false)));
            reactor.poll(Duration.ZERO);
            reactor.poll(Duration.ZERO);
            assertRefused(fromTask.get(), "run");
            assertRefused(fromTimer.get(), "poll");
            // the reactor is still usable from this thread
            AtomicReference<Boolean> ran = new AtomicReference<>();
            reactor.execute(() -> ran.set(reactor.inEventLoop()));
            reactor.poll(Duration.ZERO);
            assertEquals(Boolean.TRUE, ran.get());
        }
    }

    @Test
    void runOnAStartedThreadRefusesRunFromItsTasks() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            Thread loop = reactor.start();
            CompletableFuture<Reentry> r = new CompletableFuture<>();
            reactor.execute(() -> r.complete(tryReenter(reactor, true)));
            assertRefused(r.get(5, TimeUnit.SECONDS), "run");
            CompletableFuture<Boolean> stillRunning = new CompletableFuture<>();
            reactor.execute(() -> stillRunning.complete(reactor.inEventLoop()));
            assertTrue(stillRunning.get(5, TimeUnit.SECONDS));
            reactor.close();
            loop.join(5000);
        }
    }

    @Test
    void wakeupBeforePollMakesItReturnAtOnce() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            reactor.wakeup();
            // Not a timing measurement: without a sticky wake-up this poll sleeps 30 s and @Timeout fails the test.
            assertEquals(0, reactor.poll(Duration.ofSeconds(30)));
            reactor.wakeup();
            reactor.wakeup(); // several wake-ups before one wait are one wake-up
            assertEquals(0, reactor.poll(Duration.ofSeconds(30)));
        }
    }

    @Test
    void wakeupFromATaskEndsTheNextWait() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            reactor.execute(reactor::wakeup);
            reactor.poll(Duration.ZERO); // runs the task: the loop is awake, so nothing is written
            assertEquals(0, reactor.stats().wakeupsWritten());
            assertEquals(0, reactor.poll(Duration.ofSeconds(30)));
        }
    }

    @Test
    void wakeupFromAnotherThreadBeforeTheFirstPoll() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            CompletableFuture.runAsync(reactor::wakeup).get(5, TimeUnit.SECONDS);
            assertEquals(0, reactor.poll(Duration.ofSeconds(30)));
        }
    }
}
