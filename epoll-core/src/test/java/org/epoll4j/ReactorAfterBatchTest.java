package org.epoll4j;

import org.epoll4j.internal.LibC;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link Reactor#afterBatch}: a task runs once, on the loop, after every handler of the batch that scheduled it (or
 * after the timers or tasks that did); one scheduled while such tasks run runs before the loop sleeps again; off the
 * loop it is refused; a throwing task is reported and the others still run; a close from the loop runs what is
 * pending.
 */
@ExtendWith(FdLeakCheck.class)
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a loop that slept would block, not fail
class ReactorAfterBatchTest {

    @Test
    void runsOnceAfterEveryHandlerOfTheBatch() throws Exception {
        int a = Fds.eventfd();
        int b = Fds.eventfd();
        List<String> log = new CopyOnWriteArrayList<>();
        try (Reactor reactor = Reactor.open()) {
            for (int fd : new int[] {a, b}) {
                reactor.register(fd, Interest.READ, TriggerMode.LEVEL, (reg, ready) -> {
                    Fds.drain(fd);
                    log.add("handler " + fd);
                    if (log.size() == 1) {
                        reactor.afterBatch(() -> log.add("after"));
                    }
                });
                Fds.signal(fd, 1);
            }
            assertEquals(2, reactor.poll(Duration.ZERO), "both events in one batch");
            assertEquals(3, log.size(), log.toString());
            assertEquals("after", log.get(2), "after both handlers: " + log);
            reactor.poll(Duration.ZERO);
            assertEquals(3, log.size(), "ran once: " + log);
        } finally {
            LibC.close(a);
            LibC.close(b);
        }
    }

    @Test
    void batchEventsIsTheBatchsSizeWhileItsHandlersRunAndZeroElsewhere() throws Exception {
        int[] fds = new int[5];
        List<String> seen = new CopyOnWriteArrayList<>();
        try (Reactor reactor = Reactor.open()) {
            for (int i = 0; i < fds.length; i++) {
                int fd = fds[i] = Fds.eventfd();
                reactor.register(fd, Interest.READ, TriggerMode.LEVEL, (reg, ready) -> {
                    Fds.drain(fd);
                    seen.add("handler " + reactor.batchEvents());
                    if (seen.size() == 1) {
                        reactor.afterBatch(() -> seen.add("after " + reactor.batchEvents()));
                        reactor.execute(() -> seen.add("task " + reactor.batchEvents()));
                        reactor.schedule(Duration.ZERO, () -> seen.add("timer " + reactor.batchEvents()));
                        int other = CompletableFuture.supplyAsync(reactor::batchEvents).join();
                        seen.add("other thread " + other);
                    }
                });
                Fds.signal(fd, 1);
            }
            assertEquals(5, reactor.poll(Duration.ZERO), "every eventfd in one batch");
            for (int i = 0; i < 5 && seen.size() < 9; i++) {
                reactor.poll(Duration.ofSeconds(5)); // the timer is due at once
            }
            assertEquals(List.of("handler 5", "other thread 0", "handler 5", "handler 5", "handler 5", "handler 5",
                    "after 0", "timer 0", "task 0"), seen);
            assertEquals(0, reactor.batchEvents(), "between iterations");
        } finally {
            for (int fd : fds) {
                LibC.close(fd);
            }
        }
    }

    @Test
    void fromTasksItRunsAfterTheTasksOfThatIteration() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        try (Reactor reactor = Reactor.open()) {
            reactor.execute(() -> {
                log.add("task 1");
                reactor.afterBatch(() -> log.add("after"));
            });
            reactor.execute(() -> log.add("task 2"));
            reactor.poll(Duration.ZERO);
            assertEquals(List.of("task 1", "task 2", "after"), log);
        }
    }

    @Test
    void fromATimerItRunsAfterTheTimersDue() throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        try (Reactor reactor = Reactor.open()) {
            reactor.execute(() -> {
                reactor.schedule(Duration.ZERO, () -> {
                    log.add("timer");
                    reactor.afterBatch(() -> log.add("after"));
                });
            });
            for (int i = 0; i < 3 && log.size() < 2; i++) {
                reactor.poll(Duration.ofSeconds(5));
            }
            assertEquals(List.of("timer", "after"), log);
        }
    }

    /** A task that schedules itself again must not spin inside one pass, nor wait for an event to run again. */
    @Test
    void oneScheduledWhileTheyRunRunsBeforeTheLoopSleeps() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        try (Reactor reactor = Reactor.open()) {
            Runnable[] again = new Runnable[1];
            again[0] = () -> {
                if (runs.incrementAndGet() < 10) {
                    reactor.afterBatch(again[0]);
                }
            };
            reactor.execute(() -> reactor.afterBatch(again[0]));
            int polls = 0;
            while (runs.get() < 10) {
                // nothing else ever happens: a wait without a timeout would sleep for good (the test's timeout ends
                // it) unless the loop saw a pending after-batch task and did not sleep
                reactor.poll(null);
                polls++;
            }
            assertEquals(10, runs.get());
            assertTrue(polls <= 10, "one pass per phase at most, not one per poll: " + polls);
        }
    }

    @Test
    void offTheLoopThreadItIsRefused() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            reactor.start();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> reactor.afterBatch(() -> { }));
            assertTrue(e.getMessage().contains("afterBatch") && e.getMessage().contains(reactor.name()),
                    e.getMessage());
            assertThrows(NullPointerException.class, () -> reactor.afterBatch(null));
        }
    }

    @Test
    void aThrowingTaskIsReportedAndTheOthersRun() throws Exception {
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        List<String> log = new CopyOnWriteArrayList<>();
        IllegalStateException boom = new IllegalStateException("boom");
        try (Reactor reactor = Reactor.builder().errorHandler((r, t) -> reported.add(t)).build()) {
            reactor.execute(() -> {
                reactor.afterBatch(() -> {
                    throw boom;
                });
                reactor.afterBatch(() -> log.add("second"));
            });
            reactor.poll(Duration.ZERO);
            assertEquals(List.of("second"), log);
            assertEquals(List.of(boom), reported);
            reactor.execute(() -> reactor.afterBatch(() -> log.add("later")));
            reactor.poll(Duration.ZERO);
            assertEquals(List.of("second", "later"), log, "the loop goes on");
        }
    }

    /** Handlers ending with the reactor may schedule work (a connection's last flush): the close runs it. */
    @Test
    void aCloseRunsWhatEndingHandlersSchedule() throws Exception {
        int efd = Fds.eventfd();
        CompletableFuture<String> ran = new CompletableFuture<>();
        try {
            Reactor reactor = Reactor.open();
            reactor.register(efd, Interest.READ, TriggerMode.LEVEL, new Handler() {
                @Override
                public void onReady(Registration registration, Ready ready) {
                    Fds.drain(efd);
                }

                @Override
                public void onClosed(Registration registration, Throwable cause) {
                    reactor.afterBatch(() -> ran.complete(cause.getClass().getSimpleName() + " on "
                            + Thread.currentThread().getName()));
                }
            });
            reactor.start();
            reactor.close();
            assertTrue(reactor.awaitTermination(Duration.ofSeconds(10)));
            assertEquals("ClosedReactorException on " + reactor.name(), ran.getNow("did not run"));
        } finally {
            LibC.close(efd);
        }
    }
}
