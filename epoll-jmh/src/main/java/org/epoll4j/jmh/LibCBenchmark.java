package org.epoll4j.jmh;

import org.epoll4j.internal.EventBuffer;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
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
public class LibCBenchmark {
    @Param({"jna", "ffm"})
    public String binding;

    private int epfd;
    private EventBuffer events;
    private int[] pair = new int[2];
    private int emptyFd;
    private ByteBuffer buf;
    private long bufAddr;
    private int modEpfd;
    private int modFd;
    private EventBuffer interestA;
    private EventBuffer interestB;
    private boolean flip;

    @Setup(Level.Trial)
    public void setUp() {
        System.setProperty("epoll4j.binding", binding);
        if (!LibC.binding().equals(binding)) {
            throw new IllegalStateException("asked for the " + binding + " binding, got " + LibC.binding()
                    + " (LibC was initialised before this setup?)");
        }
        epfd = check(LibC.epoll_create1(LibC.EPOLL_CLOEXEC), "epoll_create1");
        events = new EventBuffer(64);
        ByteBuffer fds = NativeMemory.allocate(8);
        check(LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0,
                NativeMemory.address(fds)), "socketpair");
        pair[0] = fds.getInt(0);
        pair[1] = fds.getInt(4);
        // An empty non-blocking eventfd: every read fails with EAGAIN.
        emptyFd = check(LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC), "eventfd");
        buf = NativeMemory.allocate(64);
        bufAddr = NativeMemory.address(buf);
        // An eventfd registered on its own epoll instance (epfd stays empty) whose interest set epollCtlMod switches back and forth.
        modFd = check(LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC), "eventfd");
        interestA = new EventBuffer(1);
        interestA.set(0, LibC.EPOLLIN, modFd);
        interestB = new EventBuffer(1);
        interestB.set(0, LibC.EPOLLIN | LibC.EPOLLOUT, modFd);
        modEpfd = check(LibC.epoll_create1(LibC.EPOLL_CLOEXEC), "epoll_create1");
        check(LibC.epoll_ctl(modEpfd, LibC.EPOLL_CTL_ADD, modFd, interestA.address()), "epoll_ctl ADD");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        LibC.close(epfd);
        LibC.close(pair[0]);
        LibC.close(pair[1]);
        LibC.close(emptyFd);
        LibC.close(modEpfd);
        LibC.close(modFd);
    }

    private static int check(int rc, String call) {
        if (rc < 0) {
            throw new IllegalStateException(call + " failed: errno " + LibC.errno());
        }
        return rc;
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
