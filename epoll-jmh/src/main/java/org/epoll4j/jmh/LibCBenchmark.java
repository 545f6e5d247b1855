package org.epoll4j.jmh;

import org.epoll4j.internal.EventBuffer;
import org.epoll4j.internal.LibC;
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

import java.util.concurrent.TimeUnit;

/**
 * The cost of single libc calls through {@link LibC} as epoll4j makes them (primitive arguments, addresses as
 * {@code long}, errno read only after a failure), once per binding: {@code jna} (JNA direct mapping) and {@code ffm}
 * (java.lang.foreign, Java 22+ only; on older Java that parameter fails at setup, so pass {@code -p binding=jna}).
 * {@link JnaDirectBenchmark} makes the same calls on JNA's natives without {@link LibC}'s indirection.
 *
 * <p>Each parameter runs in its own fork (JMH forks per parameter set) and the binding is chosen there, before
 * anything touches {@link LibC}, through {@code epoll4j.binding}; setup checks that it took.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class LibCBenchmark extends SyscallFixture {
    @Param({"jna", "ffm"})
    public String binding;

    @Setup(Level.Trial)
    public void setUp() {
        System.setProperty("epoll4j.binding", binding);
        if (!LibC.binding().equals(binding)) {
            throw new IllegalStateException("asked for the " + binding + " binding, got " + LibC.binding()
                    + " (LibC was initialised before this setup?)");
        }
        openFds(LibC::epoll_create1, LibC::socketpair, LibC::eventfd, LibC::epoll_ctl,
                LibC::errno);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        closeFds(LibC::close);
    }

    /** epoll_wait on an epoll instance with nothing registered, timeout 0: returns 0. */
    @Benchmark
    public int epollWaitNothingReady() {
        return LibC.epoll_wait(epfd, events.address(), events.capacity(), 0);
    }

    /** write 64 bytes into one end of a UNIX socketpair and read them back from the other. */
    @Benchmark
    public long socketpairWriteRead64() {
        long w = LibC.write(pair[0], bufAddr, 64);
        long r = LibC.read(pair[1], bufAddr, 64);
        if (w != 64 || r != 64) {
            throw new IllegalStateException("short transfer: write " + w + ", read " + r);
        }
        return r;
    }

    /** read() on an empty non-blocking eventfd: -1, and errno EAGAIN read after the failure. */
    @Benchmark
    public int readEagain() {
        long r = LibC.read(emptyFd, bufAddr, 8);
        return r < 0 ? LibC.errno() : (int) r;
    }

    /**
     * epoll_ctl(EPOLL_CTL_MOD) on one registered eventfd, alternating its interest between EPOLLIN and
     * EPOLLIN|EPOLLOUT (what a LEVEL-triggered writer does when its queue fills and drains).
     */
    @Benchmark
    public int epollCtlMod() {
        EventBuffer next = (flip = !flip) ? interestB : interestA;
        int rc = LibC.epoll_ctl(modEpfd, LibC.EPOLL_CTL_MOD, modFd, next.address());
        if (rc != 0) {
            throw new IllegalStateException("epoll_ctl MOD failed: errno " + LibC.errno());
        }
        return rc;
    }

    /**
     * send 64 bytes with MSG_DONTWAIT into one end of a UNIX socketpair and recv them with MSG_DONTWAIT from the
     * other: the flag guarantees neither call waits, so the FFM binding uses critical downcalls.
     */
    @Benchmark
    public long socketpairSendRecv64Dontwait() {
        long w = LibC.send(pair[0], bufAddr, 64, LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
        long r = LibC.recv(pair[1], bufAddr, 64, LibC.MSG_DONTWAIT);
        if (w != 64 || r != 64) {
            throw new IllegalStateException("short transfer: send " + w + ", recv " + r);
        }
        return r;
    }

    /** recv(MSG_DONTWAIT) on an empty socket: -1, and errno EAGAIN read after the failure (critical on FFM). */
    @Benchmark
    public int recvEagainDontwait() {
        long r = LibC.recv(pair[1], bufAddr, 8, LibC.MSG_DONTWAIT);
        return r < 0 ? LibC.errno() : (int) r;
    }
}
