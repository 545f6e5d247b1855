package org.epoll4j.jmh;

import org.epoll4j.internal.NativeMemory;
import org.epoll4j.jmh.sys.EventFds;
import org.epoll4j.jmh.sys.FdSet;
import org.epoll4j.jmh.sys.Select;
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
import java.util.concurrent.TimeUnit;

/**
 * select(2) on the same workload as {@link MultiplexBenchmark}: N eventfds, one readable, timeout 0. select stops at
 * FD_SETSIZE = 1024 fd numbers, so N stops at 1,000 (the JVM's own fds take the lowest numbers; setup fails
 * clearly if the N fds do not all land below 1024). Past FD_SETSIZE the binding refuses: {@link FdSet#set} and
 * {@link Select#select(int, FdSet, long)} throw instead of letting the kernel or the caller write past the 128-byte
 * set; setup checks that refusal on every run.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SelectBenchmark {
    @Param({"10", "100", "1000"})
    public int n;

    private EventFds set;
    private int[] fds;
    private int nfds;
    private final FdSet master = new FdSet();
    private final FdSet work = new FdSet();
    private final FdSet built = new FdSet();
    private final ByteBuffer timeval = NativeMemory.allocate(16); // {0 s, 0 µs}: do not block
    private final long timevalAddr = NativeMemory.address(timeval);

    @Setup(Level.Trial)
    public void setUp() {
        set = new EventFds(n);
        fds = set.fds();
        if (set.maxFd() >= Select.FD_SETSIZE) {
            int max = set.maxFd();
            set.close();
            throw new IllegalStateException("SelectBenchmark n=" + n + ": the eventfds reach fd " + max
                    + ", past FD_SETSIZE-1 = " + (Select.FD_SETSIZE - 1) + "; select(2) cannot watch them");
        }
        nfds = set.maxFd() + 1;
        master.clear();
        for (int fd : fds) {
            master.set(fd);
        }
        expectRefused(() -> work.set(Select.FD_SETSIZE), "FdSet.set(FD_SETSIZE)");
        expectRefused(() -> Select.select(Select.FD_SETSIZE + 1, work, timevalAddr), "select(FD_SETSIZE + 1)");
        int got = select();
        if (got != set.readyFd()) {
            throw new IllegalStateException("select found fd " + got + ", expected the ready fd " + set.readyFd());
        }
    }

    private static void expectRefused(Runnable call, String what) {
        try {
            call.run();
        } catch (IllegalArgumentException expected) {
            return;
        }
        throw new IllegalStateException(what + " was not refused: the FD_SETSIZE guard is broken");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        set.close();
    }

    /**
     * The select loop's turn: copy the master set (the kernel overwrites it), select(timeout 0), scan the bits for
     * the ready fd.
     */
    @Benchmark
    public int select() {
        work.copyFrom(master);
        int r = Select.select(nfds, work, timevalAddr);
        return r == 1 ? work.firstSet(nfds) : -r - 2;
    }

    /** FD_ZERO plus N FD_SETs from the fd list: building the set when it changed, which epoll never does. */
    @Benchmark
    public long selectBuildSet() {
        FdSet s = built;
        s.clear();
        for (int fd : fds) {
            s.set(fd);
        }
        return s.address();
    }
}
