package org.epoll4j;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code execute} and {@code schedule} racing {@code close}: a task is either accepted and then guaranteed to run,
 * or rejected (issue 6 item 9); a {@link Timeout} never stays pending after its reactor closed (item 10).
 */
@ExtendWith(FdLeakCheck.class)
@org.junit.jupiter.api.Timeout(120)
class ReactorCloseRaceTest {
    private static final int ROUNDS = 300;
    private static final int PRODUCERS = 3;

    @Test
    void everyAcceptedTaskRunsWhenExecuteRacesClose() throws Exception {
        long lost = 0;
        for (int round = 0; round < ROUNDS; round++) {
            Reactor reactor = Reactor.open();
            boolean started = round % 2 == 0; // half with a running loop, half closed from an idle reactor
            Thread loop = started ? reactor.start() : null;
            AtomicLong accepted = new AtomicLong();
            AtomicLong ran = new AtomicLong();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> producers = new ArrayList<>();
            for (int p = 0; p < PRODUCERS; p++) {
                Thread t = new Thread(() -> {
                    await(go);
                    while (true) {
                        try {
                            reactor.execute(ran::incrementAndGet);
                        } catch (RejectedExecutionException e) {
                            return;
                        }
                        accepted.incrementAndGet();
                    }
                });
                t.start();
                producers.add(t);
            }
            go.countDown();
            Thread.onSpinWait();
            reactor.close();
            for (Thread t : producers) {
                t.join(10_000);
                assertFalse(t.isAlive(), "a producer was never rejected");
            }
            assertTrue(reactor.awaitTermination(Duration.ofSeconds(10)));
            if (loop != null) {
                loop.join(10_000);
            }
            lost += accepted.get() - ran.get();
            assertEquals(accepted.get(), ran.get(), "round " + round + ": accepted tasks that never ran");
        }
        assertEquals(0, lost);
    }

    @Test
    void everyAcceptedTimerEndsWhenScheduleRacesClose() throws Exception {
        for (int round = 0; round < ROUNDS / 3; round++) {
            Reactor reactor = Reactor.open();
            Thread loop = reactor.start();
            List<List<Timeout>> accepted = new ArrayList<>();
            AtomicInteger ran = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> producers = new ArrayList<>();
            for (int p = 0; p < PRODUCERS; p++) {
                List<Timeout> mine = new ArrayList<>();
                accepted.add(mine);
                int id = p;
                Thread t = new Thread(() -> {
                    await(go);
                    for (int i = 0; ; i++) {
                        try {
                            // a mix of due-now and far-future timers
                            mine.add(reactor.schedule(Duration.ofMillis((i + id) % 3 == 0 ? 0 : 60_000),
                                    ran::incrementAndGet));
                        } catch (RejectedExecutionException e) {
                            return;
                        }
                    }
                });
                t.start();
                producers.add(t);
            }
            go.countDown();
            reactor.close();
            for (Thread t : producers) {
                t.join(10_000);
                assertFalse(t.isAlive(), "a producer was never rejected");
            }
            assertTrue(reactor.awaitTermination(Duration.ofSeconds(10)));
            loop.join(10_000);
            int expired = 0;
            for (List<Timeout> list : accepted) {
                for (Timeout t : list) {
                    assertTrue(t.isExpired() || t.isCancelled(), "round " + round + ": " + t + " still pending after close");
                    expired += t.isExpired() ? 1 : 0;
                }
            }
            assertEquals(expired, ran.get(), "round " + round);
        }
    }

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }
}
