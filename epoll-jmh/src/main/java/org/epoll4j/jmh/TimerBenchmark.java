package org.epoll4j.jmh;

import org.epoll4j.Reactor;
import org.epoll4j.Timeout;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Timers on a reactor that already holds {@code pending} timers (10,000 by default, due in 1 to 2 hours, so they
 * never fire). Operations run on the loop thread, as handlers do it: one invocation queues a batch task that
 * performs {@value #BATCH} operations, then runs one {@code poll(Duration.ZERO)}; the score is per operation (the
 * queue hand-off and the poll spread over the batch, about 1/100 of a poll each).
 *
 * <ul>
 *   <li>{@code scheduleCancel}: schedule at a random deadline among the pending ones, then cancel it: a heap
 *   insert and a heap removal, plus the {@code ScheduledTask} it allocates.</li>
 *   <li>{@code scheduleFire}: schedule a due-now timer; the next {@code poll} fires all of the batch (counted).</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class TimerBenchmark {
    static final int BATCH = 100;
    private static final int DELAYS = 4096;

    @Param({"10000"})
    public int pending;

    private Reactor reactor;
    private final Duration[] delays = new Duration[DELAYS];
    private int next;
    private long fired;
    private long expectedFired;
    private final Runnable noop = () -> { };
    private final Runnable count = () -> fired++;
    private Runnable scheduleCancelBatch;
    private Runnable scheduleFireBatch;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        reactor = Reactor.open();
        Random random = new Random(42);
        for (int i = 0; i < DELAYS; i++) {
            delays[i] = Duration.ofHours(1).plusMillis(random.nextInt(3_600_000));
        }
        reactor.execute(() -> {
            for (int i = 0; i < pending; i++) {
                reactor.schedule(delays[i % DELAYS].plusNanos(i), noop);
            }
        });
        reactor.poll(Duration.ZERO);
        scheduleCancelBatch = () -> {
            for (int i = 0; i < BATCH; i++) {
                Timeout t = reactor.schedule(delays[next++ & (DELAYS - 1)], noop);
                if (!t.cancel()) {
                    throw new IllegalStateException("cancel of a pending timer returned false");
                }
            }
        };
        scheduleFireBatch = () -> {
            for (int i = 0; i < BATCH; i++) {
                reactor.schedule(Duration.ZERO, count);
            }
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        reactor.close();
        if (fired != expectedFired) {
            throw new IllegalStateException("fired " + fired + " timers, expected " + expectedFired);
        }
    }

    /** Schedule and cancel {@value #BATCH} timers among {@code pending} others. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int scheduleCancel() throws Exception {
        reactor.execute(scheduleCancelBatch);
        return reactor.poll(Duration.ZERO);
    }

    /** Schedule {@value #BATCH} due-now timers, then fire them all on the next iteration. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int scheduleFire() throws Exception {
        reactor.execute(scheduleFireBatch);
        reactor.poll(Duration.ZERO);
        expectedFired += BATCH;
        return reactor.poll(Duration.ZERO);
    }
}
