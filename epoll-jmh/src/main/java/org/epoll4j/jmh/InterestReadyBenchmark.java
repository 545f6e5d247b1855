package org.epoll4j.jmh;

import org.epoll4j.Interest;
import org.epoll4j.Ready;
import org.epoll4j.internal.LibC;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

import java.util.concurrent.TimeUnit;

/** Lookups of the cached {@link Interest} and {@link Ready} values from raw epoll bits. */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class InterestReadyBenchmark {
    // Non-final fields, so the JIT cannot fold the lookups into constants.
    private int interestBits = LibC.EPOLLIN | LibC.EPOLLRDHUP;
    private int readyBits = LibC.EPOLLIN | LibC.EPOLLOUT | LibC.EPOLLHUP;
    private Interest base = Interest.READ;
    private Interest other = Interest.WRITE;

    /** {@code Interest.of(bits)}: bit check plus a cache index. */
    @Benchmark
    public Interest interestOf() {
        return Interest.of(interestBits);
    }

    /** {@code interest.with(other)}: the union, from the cache. */
    @Benchmark
    public Interest interestWith() {
        return base.with(other);
    }

    /** {@code Ready.of(bits)}: what dispatch does for every event. */
    @Benchmark
    public Ready readyOf() {
        return Ready.of(readyBits);
    }

    /** {@code Ready.of(bits).isReadable()}: lookup plus one query, as a handler would use it. */
    @Benchmark
    public boolean readyOfIsReadable() {
        return Ready.of(readyBits).isReadable();
    }
}
