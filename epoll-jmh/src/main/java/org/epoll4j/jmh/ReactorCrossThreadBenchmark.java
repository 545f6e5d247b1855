package org.epoll4j.jmh;

import org.epoll4j.Reactor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link Reactor#execute} from other threads into a reactor running on its own thread, with 1 and 3 producer
 * threads (JMH groups; each group gets its own reactor).
 *
 * <ul>
 *   <li>{@code throughput1}/{@code throughput3}: producers queue tasks as fast as the loop runs them (each keeps at
 *   most 1,024 of its tasks in flight, so the queue stays bounded): tasks per µs across the group.</li>
 *   <li>{@code wakeup1}/{@code wakeup3}: each producer queues one task and spins until it ran; the loop sleeps in
 *   epoll_wait between tasks, so each op includes the eventfd write that wakes it and the wake-up itself: the
 *   cross-thread hand-off latency.</li>
 * </ul>
 */
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ReactorCrossThreadBenchmark {
    private static final int MAX_IN_FLIGHT = 1024;

    /** The reactor, on its own thread, shared by a group's producers. */
    @State(Scope.Group)
    public static class Loop {
        Reactor reactor;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            reactor = Reactor.open();
            reactor.start();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            reactor.close();
            if (!reactor.awaitTermination(Duration.ofSeconds(10))) {
                throw new IllegalStateException("reactor did not stop");
            }
        }
    }

    /** One producer's tasks: a counter the loop increments, so the producer can bound or await them. */
    @State(Scope.Thread)
    public static class Producer {
        final AtomicLong ran = new AtomicLong();
        long submitted;
        Runnable task;

        @Setup(Level.Trial)
        public void setUp() {
            task = ran::incrementAndGet;
        }

        @TearDown(Level.Iteration)
        public void drain() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (ran.get() < submitted) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("tasks did not run: " + ran.get() + " of " + submitted);
                }
                Thread.onSpinWait();
            }
        }
    }

    private static long executeBounded(Loop loop, Producer p) {
        if (p.submitted - p.ran.get() >= MAX_IN_FLIGHT) {
            await(p, p.submitted - MAX_IN_FLIGHT + 1);
        }
        loop.reactor.execute(p.task);
        return ++p.submitted;
    }

    private static long executeAndAwait(Loop loop, Producer p) {
        long target = ++p.submitted;
        loop.reactor.execute(p.task);
        await(p, target);
        return target;
    }

    /** Spins until the producer's tasks ran {@code target} times; fails instead of hanging if the loop stopped. */
    private static void await(Producer p, long target) {
        long deadline = 0;
        while (p.ran.get() < target) {
            Thread.onSpinWait();
            long now = System.nanoTime();
            if (deadline == 0) {
                deadline = now + TimeUnit.SECONDS.toNanos(30);
            } else if (now > deadline) {
                throw new IllegalStateException("tasks did not run in 30 s: " + p.ran.get() + " of " + target);
            }
        }
    }

    @Benchmark
    @Group("throughput1")
    @GroupThreads(1)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public long throughput1(Loop loop, Producer p) {
        return executeBounded(loop, p);
    }

    @Benchmark
    @Group("throughput3")
    @GroupThreads(3)
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public long throughput3(Loop loop, Producer p) {
        return executeBounded(loop, p);
    }

    @Benchmark
    @Group("wakeup1")
    @GroupThreads(1)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public long wakeup1(Loop loop, Producer p) {
        return executeAndAwait(loop, p);
    }

    @Benchmark
    @Group("wakeup3")
    @GroupThreads(3)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public long wakeup3(Loop loop, Producer p) {
        return executeAndAwait(loop, p);
    }
}
