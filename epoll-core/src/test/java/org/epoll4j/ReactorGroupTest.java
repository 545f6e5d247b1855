package org.epoll4j;

import org.epoll4j.internal.LibC;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
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

/** ReactorGroup: threads, selection, execution and shutting down. */
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
@Timeout(30)
class ReactorGroupTest {
    private static final String NAME = ThreadLeakCheck.REACTOR_PREFIX + "group";

    @Test
    void everyReactorRunsOnItsOwnNamedThreadAndNextCyclesThroughAll() throws Exception {
        try (ReactorGroup group = ReactorGroup.builder().size(3).name(NAME).build()) {
            assertEquals(3, group.size());
            Set<Reactor> picked = new HashSet<>();
            for (int i = 0; i < 6; i++) {
                picked.add(group.next());
            }
            assertEquals(Set.copyOf(group.reactors()), picked);
            Set<String> threadNames = ConcurrentHashMap.newKeySet();
            CountDownLatch ran = new CountDownLatch(3);
            for (Reactor r : group) {
                r.execute(() -> {
                    assertTrue(r.inEventLoop());
                    assertSame(r, group.current());
                    threadNames.add(Thread.currentThread().getName());
                    ran.countDown();
                });
            }
            assertTrue(ran.await(10, TimeUnit.SECONDS));
            assertEquals(Set.of(NAME + "-0", NAME + "-1", NAME + "-2"), threadNames);
            assertNull(group.current(), "the test thread is none of the group's");
            assertTrue(group.reactor(1).isRunning());
        }
    }

    @Test
    void threadFactoryMakesTheThreadsAndCloseEndsThem() throws Exception {
        List<Thread> made = new java.util.concurrent.CopyOnWriteArrayList<>();
        ReactorGroup group = ReactorGroup.builder().size(2).name(NAME).threadFactory(r -> {
            Thread t = new Thread(r, NAME + "-custom-" + made.size());
            t.setDaemon(false);
            made.add(t);
            return t;
        }).build();
        assertEquals(2, made.size());
        CountDownLatch ran = new CountDownLatch(2);
        group.executeOnAll(ran::countDown);
        assertTrue(ran.await(10, TimeUnit.SECONDS));
        group.close();
        for (Thread t : made) {
            assertFalse(t.isAlive(), t.getName() + " still alive after close()");
        }
        assertTrue(group.isTerminated());
        assertTrue(group.awaitTermination(Duration.ZERO));
        assertThrows(RejectedExecutionException.class, () -> group.execute(() -> { }));
    }

    @Test
    void executeSpreadsTasksOverTheReactors() throws Exception {
        try (ReactorGroup group = ReactorGroup.builder().size(2).name(NAME).build()) {
            Set<String> threads = ConcurrentHashMap.newKeySet();
            CountDownLatch ran = new CountDownLatch(10);
            for (int i = 0; i < 10; i++) {
                group.execute(() -> {
                    threads.add(Thread.currentThread().getName());
                    ran.countDown();
                });
            }
            assertTrue(ran.await(10, TimeUnit.SECONDS));
            assertEquals(2, threads.size());
        }
    }

    @Test
    void gracefulShutdownWaitsForRegistrationsToEnd() throws Exception {
        ReactorGroup group = ReactorGroup.builder().size(2).name(NAME).build();
        int efd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        try {
            Reactor r = group.reactor(1);
            CompletableFuture<Registration> reg = new CompletableFuture<>();
            AtomicReference<Throwable> endedWith = new AtomicReference<>(new Throwable("not ended"));
            r.execute(() -> {
                try {
                    reg.complete(r.register(efd, Interest.READ, TriggerMode.LEVEL, new Handler() {
                        @Override
                        public void onReady(Registration registration, Ready ready) {
                        }

                        @Override
                        public void onClosed(Registration registration, Throwable cause) {
                            endedWith.set(cause);
                        }
                    }));
                } catch (EpollException e) {
                    reg.completeExceptionally(e);
                }
            });
            Registration registration = reg.get(10, TimeUnit.SECONDS);
            // The shutdown listener plays a server closing its connections: the registration ends a little later.
            AtomicInteger listenerRuns = new AtomicInteger();
            group.addShutdownListener(() -> {
                listenerRuns.incrementAndGet();
                r.execute(() -> r.schedule(Duration.ofMillis(50), registration::cancel));
            });
            CompletableFuture<Void> done = group.shutdownGracefully(Duration.ofMillis(20), Duration.ofSeconds(20));
            assertSame(done, group.shutdownGracefully(Duration.ZERO, Duration.ZERO));
            assertThrows(RejectedExecutionException.class, () -> group.execute(() -> { }));
            done.get(20, TimeUnit.SECONDS);
            assertTrue(group.awaitTermination(Duration.ofSeconds(10)), "the loops' threads end too");
            assertEquals(1, listenerRuns.get());
            assertNull(endedWith.get(), "the registration ended by cancel(), before the reactor closed");
            assertTrue(group.isTerminated());
        } finally {
            group.close();
            LibC.close(efd);
        }
    }

    @Test
    void gracefulShutdownClosesAtTheTimeoutWhenWorkNeverEnds() throws Exception {
        ReactorGroup group = ReactorGroup.builder().size(1).name(NAME).build();
        int efd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        try {
            Reactor r = group.reactor(0);
            CompletableFuture<Throwable> endedWith = new CompletableFuture<>();
            CountDownLatch registered = new CountDownLatch(1);
            r.execute(() -> {
                try {
                    r.register(efd, Interest.READ, TriggerMode.LEVEL, new Handler() {
                        @Override
                        public void onReady(Registration registration, Ready ready) {
                        }

                        @Override
                        public void onClosed(Registration registration, Throwable cause) {
                            endedWith.complete(cause);
                        }
                    });
                } catch (EpollException e) {
                    endedWith.complete(e);
                }
                registered.countDown();
            });
            assertTrue(registered.await(10, TimeUnit.SECONDS));
            group.shutdownGracefully(Duration.ofMillis(10), Duration.ofMillis(200)).get(20, TimeUnit.SECONDS);
            assertInstanceOf(ClosedReactorException.class, endedWith.get(1, TimeUnit.SECONDS));
        } finally {
            group.close();
            LibC.close(efd);
        }
    }

    @Test
    void aReactorThatCannotBeBuiltLeavesNothingOpen() {
        AtomicInteger built = new AtomicInteger();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReactorGroup.builder()
                .size(3).name(NAME)
                .reactorSettings(b -> b.eventCapacity(built.incrementAndGet() == 3 ? 0 : 16)).build());
        assertTrue(e.getMessage().contains("eventCapacity"), e.getMessage());
        // FdLeakCheck and ThreadLeakCheck verify the first two reactors were closed and their threads ended.
    }

    @Test
    void pinnedThreadsRunOnTheirCpu() throws Exception {
        List<Integer> cpus = org.epoll4j.internal.Affinity.allowedCpus();
        assertFalse(cpus.isEmpty());
        try (ReactorGroup group = ReactorGroup.builder().size(cpus.size() + 1).name(NAME).pinThreads(true).build()) {
            for (int i = 0; i < group.size(); i++) {
                int expected = cpus.get(i % cpus.size());
                assertEquals(expected, group.pinnedCpu(i));
                CompletableFuture<List<Integer>> seen = new CompletableFuture<>();
                group.reactor(i).execute(() -> seen.complete(org.epoll4j.internal.Affinity.allowedCpus()));
                assertEquals(List.of(expected), seen.get(10, TimeUnit.SECONDS), "reactor " + i);
            }
        }
        try (ReactorGroup unpinned = ReactorGroup.builder().size(1).name(NAME).build()) {
            assertEquals(-1, unpinned.pinnedCpu(0));
            CompletableFuture<List<Integer>> seen = new CompletableFuture<>();
            unpinned.reactor(0).execute(() -> seen.complete(org.epoll4j.internal.Affinity.allowedCpus()));
            assertEquals(cpus, seen.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void badSettingsAreRejectedClearly() {
        assertThrows(IllegalArgumentException.class, () -> ReactorGroup.builder().size(0));
        assertThrows(IllegalArgumentException.class, () -> ReactorGroup.builder().name(""));
        assertThrows(NullPointerException.class, () -> ReactorGroup.builder().threadFactory(null));
    }
}
