package org.epoll4j;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tasks, wake-ups and timers across threads. */
@ExtendWith(FdLeakCheck.class)
@org.junit.jupiter.api.Timeout(30)
class ReactorThreadingTest {

    @Test
    void tasksFromManyProducersRunOnceInPerProducerOrder() throws Exception {
        int producers = 4;
        int perProducer = 20_000;
        List<List<Integer>> seen = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            seen.add(new ArrayList<>());
        }
        CountDownLatch done = new CountDownLatch(producers * perProducer);
        AtomicBoolean offLoop = new AtomicBoolean();
        try (Reactor reactor = Reactor.open()) {
            Thread loop = reactor.start();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
                List<Integer> mine = seen.get(p);
                Thread t = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < perProducer; i++) {
                        int n = i;
                        reactor.execute(() -> {
                            offLoop.compareAndSet(false, !reactor.inEventLoop());
                            mine.add(n); // only the loop thread touches these lists
                            done.countDown();
                        });
                    }
                });
                t.start();
                threads.add(t);
            }
            go.countDown();
            assertTrue(done.await(20, TimeUnit.SECONDS), "tasks left: " + done.getCount());
            for (Thread t : threads) {
                t.join();
            }
            ReactorStats stats = reactor.stats();
            assertTrue(stats.wakeupsWritten() <= (long) producers * perProducer,
                    "wakeups " + stats.wakeupsWritten());
            // No lower bound: a loop that never runs dry between tasks never sleeps, so it needs no wake-up at all.
            reactor.close();
            loop.join(5000);
            assertFalse(loop.isAlive());
        }
        assertFalse(offLoop.get(), "a task ran off the loop thread");
        for (List<Integer> s : seen) {
            assertEquals(perProducer, s.size());
            for (int i = 0; i < perProducer; i++) {
                assertEquals(i, s.get(i));
            }
        }
    }

    @Test
    void wakeupWhileNotWaitingWritesNothing() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            for (int i = 0; i < 100; i++) {
                reactor.wakeup();
                reactor.execute(() -> { });
            }
            assertEquals(0, reactor.stats().wakeupsWritten());
            reactor.poll(Duration.ZERO);
            assertEquals(100, reactor.stats().tasksRun());
        }
    }

    @Test
    void executeWakesABlockedPoll() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            CompletableFuture<Integer> poller = CompletableFuture.supplyAsync(() -> {
                try {
                    reactor.poll(null); // no timeout: only a wake-up ends it
                    return (int) reactor.stats().tasksRun();
                } catch (EpollException e) {
                    throw new IllegalStateException(e);
                }
            });
            reactor.execute(() -> { });
            assertEquals(1, poller.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void closeFromAnotherThreadStopsRunAndEndsRegistrations() throws Exception {
        int efd = org.epoll4j.testutil.Fds.eventfd();
        try {
            Reactor reactor = Reactor.open();
            ReactorTest.Recorder h = new ReactorTest.Recorder();
            reactor.register(efd, Interest.READ, TriggerMode.LEVEL, h);
            CountDownLatch running = new CountDownLatch(1);
            Thread loop = reactor.start();
            reactor.execute(running::countDown);
            assertTrue(running.await(5, TimeUnit.SECONDS));
            assertThrows(IllegalStateException.class, () -> reactor.poll(Duration.ZERO));
            reactor.close();
            assertTrue(reactor.awaitTermination(Duration.ofSeconds(5)));
            loop.join(5000);
            assertFalse(loop.isAlive());
            assertEquals(1, h.closedCount);
            assertInstanceOf(ClosedReactorException.class, h.closes.get(0));
        } finally {
            org.epoll4j.testutil.Fds.close(efd);
        }
    }

    /** Drives poll() on this thread until {@code done} reaches zero. */
    private static void pollUntil(Reactor reactor, CountDownLatch done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (done.getCount() > 0) {
            assertTrue(System.nanoTime() < deadline, "timed out");
            reactor.poll(Duration.ofMillis(100));
        }
    }

    @Test
    void timersFireInDeadlineOrderAndNeverEarly() throws Exception {
        int count = 40;
        List<Integer> delaysMs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            delaysMs.add(i % 20); // pairs of equal delays: FIFO among them
        }
        Collections.shuffle(delaysMs, new Random(42));
        long[] earliest = new long[count]; // the deadline the reactor computed lies in [earliest, latest]
        long[] latest = new long[count];
        List<Integer> fired = new ArrayList<>();
        List<String> early = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(count);
        try (Reactor reactor = Reactor.open()) {
            for (int i = 0; i < count; i++) {
                int id = i;
                long delayNs = TimeUnit.MILLISECONDS.toNanos(delaysMs.get(i));
                long start = System.nanoTime();
                reactor.schedule(Duration.ofNanos(delayNs), () -> {
                    long waited = System.nanoTime() - start;
                    if (waited < delayNs) {
                        early.add("timer " + id + " fired after " + waited + " ns, asked " + delayNs);
                    }
                    fired.add(id);
                    done.countDown();
                });
                earliest[i] = start + delayNs;
                latest[i] = System.nanoTime() + delayNs;
            }
            pollUntil(reactor, done);
            assertEquals(count, reactor.stats().timersFired());
        }
        assertEquals(List.of(), early);
        for (int x = 0; x < count; x++) {
            for (int y = x + 1; y < count; y++) {
                int a = fired.get(x);
                int b = fired.get(y);
                assertTrue(earliest[a] <= latest[b], "timer " + a + " fired before " + b + " but is due after it");
                if (delaysMs.get(a).equals(delaysMs.get(b))) {
                    assertTrue(a < b, "equal delays fired out of scheduling order: " + a + " before " + b);
                }
            }
        }
    }

    @Test
    void timerNeverFiresEarlyOnARunningLoop() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            Thread loop = reactor.start();
            for (long delayUs : new long[] {1, 150, 1_500, 7_300, 20_000}) {
                long delayNs = TimeUnit.MICROSECONDS.toNanos(delayUs);
                CompletableFuture<Long> waited = new CompletableFuture<>();
                long start = System.nanoTime();
                reactor.schedule(Duration.ofNanos(delayNs), () -> waited.complete(System.nanoTime() - start));
                long ns = waited.get(5, TimeUnit.SECONDS);
                assertTrue(ns >= delayNs, "fired after " + ns + " ns, asked " + delayNs);
            }
            reactor.close();
            loop.join(5000);
        }
    }

    @Test
    void timerCancelledOnTheLoopThreadDoesNotFire() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            AtomicInteger victimRuns = new AtomicInteger();
            CountDownLatch sentinel = new CountDownLatch(1);
            Timeout victim = reactor.schedule(Duration.ofMillis(20), victimRuns::incrementAndGet);
            AtomicBoolean cancelled = new AtomicBoolean();
            Timeout canceller = reactor.schedule(Duration.ZERO, () -> cancelled.set(victim.cancel()));
            reactor.schedule(Duration.ofMillis(40), sentinel::countDown);
            pollUntil(reactor, sentinel);
            assertTrue(cancelled.get());
            assertTrue(victim.isCancelled());
            assertFalse(victim.isExpired());
            assertEquals(0, victimRuns.get());
            assertTrue(canceller.isExpired());
            assertFalse(canceller.cancel(), "an expired timer cannot be cancelled");
            assertEquals(2, reactor.stats().timersFired());
        }
    }

    @Test
    void timerCancelledFromAnotherThreadDoesNotFire() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            Thread loop = reactor.start();
            AtomicInteger victimRuns = new AtomicInteger();
            CountDownLatch sentinel = new CountDownLatch(1);
            // Wide margins: the cancel must land before the deadline even on a loaded machine.
            Timeout victim = reactor.schedule(Duration.ofMillis(1500), victimRuns::incrementAndGet);
            reactor.schedule(Duration.ofMillis(1600), sentinel::countDown);
            assertTrue(CompletableFuture.supplyAsync(victim::cancel).get(5, TimeUnit.SECONDS));
            assertFalse(victim.cancel(), "second cancel");
            assertTrue(sentinel.await(10, TimeUnit.SECONDS));
            assertEquals(0, victimRuns.get());
            assertEquals(1, reactor.stats().timersFired());
            reactor.close();
            loop.join(5000);
        }
    }

    @Test
    void pendingTimersEndCancelledOnClose() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        Timeout queued;
        Timeout handedOff;
        try (Reactor reactor = Reactor.open()) {
            queued = reactor.schedule(Duration.ofHours(1), runs::incrementAndGet);
            reactor.poll(Duration.ZERO); // moves it into the timer queue
            handedOff = CompletableFuture.supplyAsync(() -> reactor.schedule(Duration.ofHours(1),
                    runs::incrementAndGet)).get(5, TimeUnit.SECONDS); // still in the task queue at close
        }
        assertEquals(0, runs.get());
        for (Timeout t : List.of(queued, handedOff)) {
            assertFalse(t.isExpired(), t.toString());
            assertTrue(t.isCancelled(), t + " left pending by close");
            assertFalse(t.cancel(), "cancelling an ended timer");
        }
    }

    @Test
    void timeoutExposesNothingButTimeout() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            Timeout t = reactor.schedule(Duration.ofHours(1), () -> { });
            assertFalse(t instanceof Number, "a Timeout is not a Number: " + t.getClass().getSuperclass());
            assertTrue(t.cancel());
        }
    }
}
