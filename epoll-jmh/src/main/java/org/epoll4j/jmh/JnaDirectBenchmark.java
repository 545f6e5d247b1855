package org.epoll4j.jmh;

import org.epoll4j.internal.EventBuffer;
import org.epoll4j.internal.JnaNatives;
import org.epoll4j.internal.LibC;
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

import java.util.concurrent.TimeUnit;

/**
 * {@link LibCBenchmark}'s calls made on JNA's {@code static native} methods directly ({@link JnaNatives}), as
 * {@code LibC} itself was before it delegated to a binding: the baseline that shows what {@code LibC}'s
 * static-final indirection costs on the JNA path (it should cost nothing: the JIT inlines through it).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class JnaDirectBenchmark extends SyscallFixture {
    @Setup(Level.Trial)
    public void setUp() {
        openFds(JnaNatives::epoll_create1, JnaNatives::socketpair, JnaNatives::eventfd, JnaNatives::epoll_ctl,
                JnaNatives::errno);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        closeFds(JnaNatives::close);
    }

    /** epoll_wait on an epoll instance with nothing registered, timeout 0: returns 0. */
    @Benchmark
    public int epollWaitNothingReady() {
        return JnaNatives.epoll_wait(epfd, events.address(), events.capacity(), 0);
    }

    /** write 64 bytes into one end of a UNIX socketpair and read them back from the other. */
    @Benchmark
    public long socketpairWriteRead64() {
        long w = JnaNatives.write(pair[0], bufAddr, 64);
        long r = JnaNatives.read(pair[1], bufAddr, 64);
        if (w != 64 || r != 64) {
            throw new IllegalStateException("short transfer: write " + w + ", read " + r);
        }
        return r;
    }

    /** read() on an empty non-blocking eventfd: -1, and errno EAGAIN read after the failure. */
    @Benchmark
    public int readEagain() {
        long r = JnaNatives.read(emptyFd, bufAddr, 8);
        return r < 0 ? JnaNatives.errno() : (int) r;
    }

    /**
     * epoll_ctl(EPOLL_CTL_MOD) on one registered eventfd, alternating its interest between EPOLLIN and
     * EPOLLIN|EPOLLOUT (what a LEVEL-triggered writer does when its queue fills and drains).
     */
    @Benchmark
    public int epollCtlMod() {
        EventBuffer next = (flip = !flip) ? interestB : interestA;
        int rc = JnaNatives.epoll_ctl(modEpfd, LibC.EPOLL_CTL_MOD, modFd, next.address());
        if (rc != 0) {
            throw new IllegalStateException("epoll_ctl MOD failed: errno " + JnaNatives.errno());
        }
        return rc;
    }

    /**
     * send 64 bytes with MSG_DONTWAIT into one end of a UNIX socketpair and recv them with MSG_DONTWAIT from the
     * other: the flag guarantees neither call waits, so the FFM binding uses critical downcalls.
     */
    @Benchmark
    public long socketpairSendRecv64Dontwait() {
        long w = JnaNatives.send(pair[0], bufAddr, 64, LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
        long r = JnaNatives.recv(pair[1], bufAddr, 64, LibC.MSG_DONTWAIT);
        if (w != 64 || r != 64) {
            throw new IllegalStateException("short transfer: send " + w + ", recv " + r);
        }
        return r;
    }

    /** recv(MSG_DONTWAIT) on an empty socket: -1, and errno EAGAIN read after the failure (critical on FFM). */
    @Benchmark
    public int recvEagainDontwait() {
        long r = JnaNatives.recv(pair[1], bufAddr, 8, LibC.MSG_DONTWAIT);
        return r < 0 ? JnaNatives.errno() : (int) r;
    }
}
