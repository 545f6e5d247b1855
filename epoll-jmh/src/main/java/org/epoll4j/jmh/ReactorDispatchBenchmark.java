package org.epoll4j.jmh;

import org.epoll4j.Interest;
import org.epoll4j.Reactor;
import org.epoll4j.TriggerMode;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
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

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One {@link Reactor#poll(Duration)} iteration that dispatches one event: a LEVEL registration of an eventfd whose
 * counter is never drained, so every epoll_wait reports it. The steady-state dispatch path must allocate nothing
 * (run with {@code -prof gc}: ~0 B/op).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ReactorDispatchBenchmark {
    private Reactor reactor;
    private int efd;
    private long handled;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        reactor = Reactor.open();
        efd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
        if (efd < 0) {
            throw new IllegalStateException("eventfd failed: errno " + LibC.errno());
        }
        ByteBuffer one = NativeMemory.allocate(8).putLong(0, 1);
        if (LibC.write(efd, NativeMemory.address(one), 8) != 8) {
            throw new IllegalStateException("eventfd write failed: errno " + LibC.errno());
        }
        reactor.register(efd, Interest.READ, TriggerMode.LEVEL, (reg, ready) -> handled++);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        reactor.close();
        LibC.close(efd);
        if (handled == 0) {
            throw new IllegalStateException("the handler never ran");
        }
    }

    /** One loop iteration: epoll_wait(timeout 0) reporting the eventfd, one handler call. Returns 1. */
    @Benchmark
    public int pollDispatchOne() throws Exception {
        return reactor.poll(Duration.ZERO);
    }
}
