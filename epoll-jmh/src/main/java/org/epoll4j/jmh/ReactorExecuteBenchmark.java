package org.epoll4j.jmh;

import org.epoll4j.Reactor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * {@link Reactor#execute(Runnable)} followed by {@link Reactor#poll(Duration)} on the same thread, which runs the
 * queued task: the round trip of a task through the reactor's queue when the caller drives the loop itself. The
 * loop is awake, so no eventfd write happens; what is measured is the queue, one epoll_wait(timeout 0) with
 * nothing ready, and the task call.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ReactorExecuteBenchmark {
    private Reactor reactor;
    private long ran;
    private Runnable task;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        reactor = Reactor.open();
        task = () -> ran++;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        reactor.close();
        if (ran == 0) {
            throw new IllegalStateException("the task never ran");
        }
    }

    /** Queue one task, then run one iteration that executes it. */
    @Benchmark
    public long executeThenPoll() throws Exception {
        long before = ran;
        reactor.execute(task);
        reactor.poll(Duration.ZERO);
        return ran - before;
    }
}
