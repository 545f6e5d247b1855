package org.epoll4j;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each of the reactor's JFR events is recorded when its condition happens (read back with a RecordingStream). */
@Timeout(60)
@ExtendWith(FdLeakCheck.class)
class ReactorJfrEventsTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    /** A stream recording {@code event}, whose future completes with the first event matching {@code p}. */
    private static CompletableFuture<RecordedEvent> first(RecordingStream rs, String event,
                                                          Predicate<RecordedEvent> p) {
        CompletableFuture<RecordedEvent> f = new CompletableFuture<>();
        rs.onEvent(event, e -> {
            if (p.test(e)) {
                f.complete(e);
            }
        });
        return f;
    }

    private static RecordedEvent await(CompletableFuture<RecordedEvent> f, String what) throws Exception {
        try {
            return f.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("no " + what + " event within " + WAIT, e);
        }
    }

    @Test
    void periodicStatisticsPerReactor() throws Exception {
        try (RecordingStream rs = new RecordingStream();
             Reactor reactor = Reactor.builder().name("jfr-stats").build()) {
            rs.enable("org.epoll4j.ReactorStatistics").withPeriod(Duration.ofMillis(100));
            CompletableFuture<RecordedEvent> got = first(rs, "org.epoll4j.ReactorStatistics",
                    e -> "jfr-stats".equals(e.getString("reactor")) && e.getLong("tasksRun") == 3);
            for (int i = 0; i < 3; i++) {
                reactor.execute(() -> { });
            }
            reactor.poll(Duration.ZERO);
            rs.startAsync();
            RecordedEvent e = await(got, "ReactorStatistics");
            assertEquals(1, e.getLong("loopIterations"));
            assertEquals(0, e.getInt("registrations"));
        }
    }

    @Test
    void slowHandlerTaskAndTimer() throws Exception {
        int efd = Fds.eventfd();
        try (RecordingStream rs = new RecordingStream();
             Reactor reactor = Reactor.builder().name("jfr-slow").slowDispatchThreshold(Duration.ofMillis(5))
                     .build()) {
            rs.enable("org.epoll4j.SlowDispatch");
            Predicate<RecordedEvent> mine = e -> "jfr-slow".equals(e.getString("reactor"));
            CompletableFuture<RecordedEvent> handler = first(rs, "org.epoll4j.SlowDispatch",
                    mine.and(e -> "handler".equals(e.getString("kind"))));
            CompletableFuture<RecordedEvent> task = first(rs, "org.epoll4j.SlowDispatch",
                    mine.and(e -> "task".equals(e.getString("kind"))));
            CompletableFuture<RecordedEvent> timer = first(rs, "org.epoll4j.SlowDispatch",
                    mine.and(e -> "timer".equals(e.getString("kind"))));
            CompletableFuture<RecordedEvent> fast = first(rs, "org.epoll4j.SlowDispatch",
                    mine.and(e -> e.getClass("handlerClass").getName().contains("Fast")));
            rs.startAsync();
            reactor.register(efd, Interest.READ, TriggerMode.LEVEL, new SlowHandler());
            Fds.signal(efd, 1);
            reactor.execute(new FastTask());
            reactor.poll(Duration.ZERO); // the slow handler (it drains the eventfd) and the fast task
            reactor.execute(() -> sleep(20));
            reactor.schedule(Duration.ZERO, () -> sleep(20));
            reactor.poll(Duration.ZERO); // the slow task (the timer, queued by a task hand-off or directly, may wait)
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (reactor.stats().timersFired() == 0 && System.nanoTime() < deadline) {
                reactor.poll(Duration.ofMillis(10));
            }
            RecordedEvent h = await(handler, "slow handler");
            assertEquals(efd, h.getInt("fd"));
            assertEquals(SlowHandler.class.getName(), h.getClass("handlerClass").getName());
            assertTrue(h.getDuration("elapsed").toMillis() >= 20, () -> "elapsed " + h.getDuration("elapsed"));
            assertEquals(-1, await(task, "slow task").getInt("fd"));
            assertEquals(-1, await(timer, "slow timer").getInt("fd"));
            assertTrue(!fast.isDone(), "a task under the threshold is not reported");
        } finally {
            Fds.close(efd);
        }
    }

    /** The condition under test: a handler that blocks the loop. */
    static final class SlowHandler implements Handler {
        @Override
        public void onReady(Registration r, Ready ready) {
            Fds.drain(r.fd());
            sleep(20);
        }
    }

    static final class FastTask implements Runnable {
        @Override
        public void run() {
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void handlerFailure() throws Exception {
        int efd = Fds.eventfd();
        try (RecordingStream rs = new RecordingStream();
             Reactor reactor = Reactor.builder().name("jfr-fail").errorHandler((r, t) -> { }).build()) {
            rs.enable("org.epoll4j.HandlerFailure");
            CompletableFuture<RecordedEvent> got = first(rs, "org.epoll4j.HandlerFailure",
                    e -> "jfr-fail".equals(e.getString("reactor")));
            rs.startAsync();
            reactor.register(efd, Interest.READ, TriggerMode.LEVEL, (r, ready) -> {
                throw new IllegalStateException("boom");
            });
            Fds.signal(efd, 1);
            reactor.poll(Duration.ZERO);
            RecordedEvent e = await(got, "HandlerFailure");
            assertEquals(efd, e.getInt("fd"));
            assertEquals(IllegalStateException.class.getName(), e.getClass("exceptionClass").getName());
            assertEquals("boom", e.getString("message"));
        } finally {
            Fds.close(efd);
        }
    }

    @Test
    void edgeStallInDebugMode() throws Exception {
        int[] s = Fds.socketpair();
        try (RecordingStream rs = new RecordingStream();
             Reactor reactor = Reactor.builder().name("jfr-stall").debugEdgeStalls(true).build()) {
            rs.enable("org.epoll4j.EdgeStall");
            CompletableFuture<RecordedEvent> got = first(rs, "org.epoll4j.EdgeStall",
                    e -> "jfr-stall".equals(e.getString("reactor")));
            rs.startAsync();
            reactor.register(s[1], Interest.READ, TriggerMode.EDGE, (r, ready) -> { }); // never reads
            Fds.writeFully(s[0], new byte[] {1, 2, 3});
            reactor.poll(Duration.ZERO);
            RecordedEvent e = await(got, "EdgeStall");
            assertEquals(s[1], e.getInt("fd"));
            assertEquals(3, e.getInt("unreadBytes"));
        } finally {
            Fds.close(s[0], s[1]);
        }
    }

    @Test
    void blockedLoop() throws Exception {
        int efd = Fds.eventfd();
        try (RecordingStream rs = new RecordingStream();
             Reactor reactor = Reactor.builder().name("jfr-blocked").blockedLoopThreshold(Duration.ofMillis(50))
                     .build()) {
            rs.enable("org.epoll4j.BlockedLoop");
            CompletableFuture<RecordedEvent> got = first(rs, "org.epoll4j.BlockedLoop",
                    e -> "jfr-blocked".equals(e.getString("reactor")));
            rs.startAsync();
            reactor.register(efd, Interest.READ, TriggerMode.LEVEL, (r, ready) -> {
                Fds.drain(r.fd());
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (!got.isDone() && System.nanoTime() < deadline) {
                    sleep(10); // the loop stays blocked until the watchdog has reported it
                }
            });
            Fds.signal(efd, 1);
            reactor.poll(Duration.ZERO);
            RecordedEvent e = await(got, "BlockedLoop");
            assertTrue(e.getDuration("blocked").toMillis() >= 50);
            assertEquals(Thread.currentThread().getName(), e.getThread("loopThread").getJavaName());
            assertTrue(e.getString("loopStack").contains("ReactorJfrEventsTest"), e.getString("loopStack"));
        } finally {
            Fds.close(efd);
        }
    }
}
