package org.epoll4j.jmh;

import org.epoll4j.Interest;
import org.epoll4j.Reactor;
import org.epoll4j.TriggerMode;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.jmh.sys.EventFds;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Dispatch rate with K registrations ready at once: K LEVEL-registered eventfds whose counters are never drained,
 * so one {@code reactor.poll(Duration.ZERO)} is one epoll_wait returning K events and K handler calls. The
 * primary score is polls per µs; the {@code events} counter is handler calls per µs, the dispatch rate.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class ReactorDispatchManyBenchmark {
    @Param({"1", "16", "256"})
    public int k;

    private Reactor reactor;
    private EventFds fds;
    private long handled;

    /** Handler calls, reported as a rate next to the poll rate. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counters {
        /** Events dispatched to handlers. */
        public long events;

        @Setup(Level.Iteration)
        public void reset() {
            events = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        reactor = Reactor.builder().eventCapacity(Math.max(64, k)).build();
        fds = new EventFds(k);
        for (int fd : fds.fds()) {
            reactor.register(fd, Interest.READ, TriggerMode.LEVEL, (reg, ready) -> handled++);
        }
        // every eventfd readable, not only the last
        ByteBuffer v = NativeMemory.allocate(8).putLong(0, 1L);
        long addr = NativeMemory.address(v);
        for (int fd : fds.fds()) {
            if (fd != fds.readyFd() && LibC.write(fd, addr, 8) != 8) {
                throw new IllegalStateException("eventfd write: errno " + LibC.errno());
            }
        }
        int got = reactor.poll(Duration.ZERO);
        if (got != k) {
            throw new IllegalStateException("one poll dispatched " + got + " events, expected k=" + k);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        reactor.close();
        fds.close();
    }

    /** One loop iteration dispatching K events. */
    @Benchmark
    public int pollDispatchK(Counters c) throws Exception {
        int n = reactor.poll(Duration.ZERO);
        c.events += n;
        return n;
    }
}
