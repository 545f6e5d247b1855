package org.epoll4j;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;
import org.epoll4j.testutil.LogCapture;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The blocked-loop watchdog warns once, with the loop thread's stack, for a handler that blocks the loop past the
 * threshold; stays quiet for a loop that is busy with many short events; and its thread ends when no reactor needs it.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class BlockedLoopWatchdogTest {
    private static final Duration THRESHOLD = Duration.ofMillis(50);

    /** Spins (no sleep) until the watchdog has completed {@code rounds} more rounds of checks. */
    private static void awaitChecks(long rounds) {
        long target = LoopWatchdog.checks() + rounds;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (LoopWatchdog.checks() < target) {
            assertTrue(System.nanoTime() < deadline, "the watchdog stopped checking");
            Thread.onSpinWait();
        }
    }

    private static List<LogRecord> warningsFor(LogCapture log, String reactor) {
        return log.drain().stream().filter(r -> r.getLevel() == Level.WARNING)
                .filter(r -> LogCapture.text(r).startsWith(reactor + ": loop thread")).toList();
    }

    @Test
    void warnsOncePerStallWithTheLoopThreadsStack() throws Exception {
        int efd = Fds.eventfd();
        try (LogCapture log = new LogCapture(Reactor.class.getName(), Level.INFO);
             Reactor reactor = Reactor.builder().name("nettest-wd-sleep").blockedLoopThreshold(THRESHOLD).build()) {
            CountDownLatch reported = new CountDownLatch(1);
            long[] checksWhileBlocked = new long[1];
            CountDownLatch back = new CountDownLatch(1);
            reactor.register(efd, Interest.READ, TriggerMode.LEVEL, (r, ready) -> {
                Fds.drain(r.fd());
                sleepingHandler(reported, checksWhileBlocked);
                back.countDown();
            });
            reactor.start();
            Fds.signal(efd, 1);
            LogRecord first = log.await(r -> LogCapture.text(r).startsWith("nettest-wd-sleep: loop thread"),
                    Duration.ofSeconds(20));
            reported.countDown();
            assertTrue(back.await(20, TimeUnit.SECONDS));
            awaitChecks(3); // the loop is back: later checks must not report the finished stall again
            String text = LogCapture.text(first);
            assertEquals(Level.WARNING, first.getLevel());
            assertTrue(text.contains("\"nettest-wd-sleep\" has not returned to epoll_wait"), text);
            assertTrue(text.contains("\n\tat ") && text.contains("BlockedLoopWatchdogTest.sleepingHandler"), text);
            assertTrue(checksWhileBlocked[0] >= 5, "the watchdog looked " + checksWhileBlocked[0]
                    + " times during the stall");
            assertEquals(List.of(), warningsFor(log, "nettest-wd-sleep"), "one warning per stall");
        } finally {
            Fds.close(efd);
        }
    }

    /**
     * The condition under test: a handler that sleeps (past the threshold, until it has been reported, and then on
     * through at least five more watchdog rounds, each of which must not report it again).
     */
    private static void sleepingHandler(CountDownLatch reported, long[] checks) {
        long start = LoopWatchdog.checks();
        try {
            if (!reported.await(20, TimeUnit.SECONDS)) {
                return;
            }
            long after = LoopWatchdog.checks() + 5;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (LoopWatchdog.checks() < after && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        checks[0] = LoopWatchdog.checks() - start;
    }

    @Test
    void quietForALoopBusyWithManyShortEvents() throws Exception {
        // A longer threshold than the others': on a loaded machine the scheduler can take a busy loop thread off
        // the CPU for tens of milliseconds, which the watchdog cannot tell from a blocked handler.
        Duration threshold = THRESHOLD.multipliedBy(5);
        int efd = Fds.eventfd();
        try (LogCapture log = new LogCapture(Reactor.class.getName(), Level.INFO);
             Reactor reactor = Reactor.builder().name("nettest-wd-busy").blockedLoopThreshold(threshold).build()) {
            reactor.register(efd, Interest.READ, TriggerMode.LEVEL, (r, ready) -> { }); // undrained: every iteration
            Fds.signal(efd, 1);
            long until = LoopWatchdog.checks() + 20; // ~1.25 s of a loop that never sleeps, at a 62.5 ms period
            long started = System.nanoTime();
            CountDownLatch done = new CountDownLatch(1);
            Runnable spin = new Runnable() {
                @Override
                public void run() {
                    if (LoopWatchdog.checks() < until) {
                        reactor.execute(this); // queued: the next wait is epoll_wait(0), never a sleep
                    } else {
                        done.countDown();
                    }
                }
            };
            reactor.execute(spin);
            reactor.start();
            assertTrue(done.await(30, TimeUnit.SECONDS));
            long busyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertTrue(busyMs > 3 * threshold.toMillis(), "busy for only " + busyMs + " ms");
            assertTrue(reactor.stats().eventsDispatched() > 100, reactor.stats().toString());
            assertEquals(List.of(), warningsFor(log, "nettest-wd-busy"));
        } finally {
            Fds.close(efd);
        }
    }

    @Test
    void oneThreadForAllReactorsEndingWhenNoneIsWatched() throws Exception {
        Reactor a = Reactor.builder().name("nettest-wd-a").blockedLoopThreshold(THRESHOLD).build();
        Reactor b = Reactor.builder().name("nettest-wd-b").blockedLoopThreshold(Duration.ofSeconds(1)).build();
        List<Thread> watchdogs = watchdogThreads();
        assertEquals(1, watchdogs.size(), "one watchdog thread for every reactor: " + watchdogs);
        assertTrue(watchdogs.get(0).isDaemon());
        a.close();
        assertTrue(watchdogs.get(0).isAlive() || !b.isClosed(), "b still needs it");
        b.close();
        watchdogs.get(0).join(10_000);
        assertTrue(!watchdogs.get(0).isAlive(), "the watchdog ends when no reactor needs it");
    }

    private static List<Thread> watchdogThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(LoopWatchdog.THREAD_NAME) && t.isAlive()).toList();
    }

    @Test
    void thresholdIsValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Reactor.builder().blockedLoopThreshold(Duration.ofNanos(10)));
        assertTrue(e.getMessage().contains("at least 1 ms"), e.getMessage());
    }
}
