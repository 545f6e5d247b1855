package org.epoll4j;

import org.epoll4j.internal.LibC;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Changing and cancelling a registration from threads other than the loop's (issue 6, API point). */
@ExtendWith(FdLeakCheck.class)
@Timeout(30)
class RegistrationThreadingTest {

    @Test
    void oneshotHandlerHandsOffAndAnotherThreadRearms() throws Exception {
        int rounds = 200;
        int efd = Fds.eventfd();
        ExecutorService worker = Executors.newSingleThreadExecutor();
        try (Reactor reactor = Reactor.open()) {
            CountDownLatch done = new CountDownLatch(rounds);
            AtomicBoolean armed = new AtomicBoolean(true);
            AtomicInteger overlaps = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            reactor.register(efd, Interest.READ, TriggerMode.LEVEL, (reg, ready) -> {
                if (!armed.getAndSet(false)) {
                    overlaps.incrementAndGet(); // ONESHOT: no second event until re-armed
                }
                worker.execute(() -> {
                    try {
                        Fds.drain(efd);
                        done.countDown();
                        Fds.signal(efd, 1); // the next round's event, pending until the re-arm
                        armed.set(true);
                        reg.rearm();
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                });
            }, RegistrationOption.ONESHOT);
            Thread loop = reactor.start();
            Fds.signal(efd, 1);
            boolean finished = done.await(20, TimeUnit.SECONDS);
            assertNull(failure.get(), () -> "the worker's re-arm failed: " + failure.get());
            assertTrue(finished, "rounds left: " + done.getCount());
            assertEquals(0, overlaps.get());
            reactor.close();
            loop.join(5000);
        } finally {
            worker.shutdownNow();
            worker.awaitTermination(5, TimeUnit.SECONDS);
            LibC.close(efd);
        }
    }

    @Test
    void cancelFromAnotherThreadStopsEventsAndTellsTheLoop() throws Exception {
        int efd = Fds.eventfd();
        try (Reactor reactor = Reactor.open()) {
            Fds.signal(efd, 1); // LEVEL and never drained: an event every iteration
            CountDownLatch firing = new CountDownLatch(3);
            AtomicBoolean cancelReturned = new AtomicBoolean();
            AtomicInteger eventsAfterCancel = new AtomicInteger();
            CompletableFuture<Object[]> closed = new CompletableFuture<>();
            Registration r = reactor.register(efd, Interest.READ, TriggerMode.LEVEL, new Handler() {
                @Override
                public void onReady(Registration registration, Ready ready) {
                    if (cancelReturned.get()) {
                        eventsAfterCancel.incrementAndGet();
                    }
                    firing.countDown();
                }

                @Override
                public void onClosed(Registration registration, Throwable cause) {
                    closed.complete(new Object[] {cause, reactor.inEventLoop()});
                }
            });
            Thread loop = reactor.start();
            assertTrue(firing.await(5, TimeUnit.SECONDS));
            r.cancel();
            cancelReturned.set(true);
            assertFalse(r.isValid(), "invalid as soon as cancel() returns");
            Object[] c = closed.get(5, TimeUnit.SECONDS);
            assertNull(c[0], "cancel() ends with a null cause");
            assertEquals(Boolean.TRUE, c[1], "onClosed runs on the loop thread");
            // One more round trip through the loop: no event may start after cancel() returned, except one whose
            // dispatch had already checked the registration.
            CompletableFuture<Void> roundTrip = new CompletableFuture<>();
            reactor.execute(() -> roundTrip.complete(null));
            roundTrip.get(5, TimeUnit.SECONDS);
            assertTrue(eventsAfterCancel.get() <= 1, "events after cancel: " + eventsAfterCancel.get());
            assertEquals(0, reactor.stats().registrations());
            r.cancel(); // idempotent
            reactor.close();
            loop.join(5000);
        } finally {
            LibC.close(efd);
        }
    }

    @Test
    void fdCancelledElsewhereAndReusedBeforeTheLoopNoticedEndsWithNullNotFdReused() throws Exception {
        int first = Fds.eventfd();
        List<Integer> extra = new ArrayList<>();
        try (Reactor reactor = Reactor.open()) {
            ReactorTest.Recorder old = new ReactorTest.Recorder();
            Registration oldReg = reactor.register(first, Interest.READ, TriggerMode.LEVEL, old);
            CountDownLatch blocked = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<Registration> fresh = new CompletableFuture<>();
            AtomicInteger second = new AtomicInteger(-1);
            reactor.execute(() -> {
                blocked.countDown();
                try {
                    release.await();
                    // The loop has not yet run the end of the cancelled registration (queued after this task).
                    fresh.complete(reactor.register(second.get(), Interest.READ, TriggerMode.LEVEL, (g, y) -> { }));
                } catch (Throwable t) {
                    fresh.completeExceptionally(t);
                }
            });
            Thread loop = reactor.start();
            assertTrue(blocked.await(5, TimeUnit.SECONDS));
            oldReg.cancel(); // from this thread while the loop is busy: DEL now, the rest later
            LibC.close(first); // allowed as soon as cancel() returned
            int fd = -1;
            for (int i = 0; i < 64 && fd != first; i++) {
                fd = Fds.eventfd();
                extra.add(fd);
            }
            second.set(fd);
            release.countDown();
            Registration newReg = fresh.get(5, TimeUnit.SECONDS);
            Assumptions.assumeTrue(fd == first, "another thread took fd " + first);
            assertTrue(newReg.isValid());
            CompletableFuture<Void> roundTrip = new CompletableFuture<>();
            reactor.execute(() -> roundTrip.complete(null));
            roundTrip.get(5, TimeUnit.SECONDS);
            assertEquals(1, old.closedCount);
            assertNull(old.closes.get(0), "a cancelled registration is told null, not FdReusedException");
            reactor.close();
            loop.join(5000);
        } finally {
            extra.forEach(LibC::close);
        }
    }
}
