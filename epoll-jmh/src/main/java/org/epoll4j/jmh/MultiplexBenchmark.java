package org.epoll4j.jmh;

import org.epoll4j.internal.EventBuffer;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.jmh.sys.EventFds;
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
 * The seed article's claim, measured: poll(2)'s cost grows with the number of watched fds, epoll_wait's with the
 * number of ready ones. N eventfds are watched, exactly one is readable; one op is one non-blocking wait (timeout
 * 0) plus finding the ready fd, as a loop does it: epoll returns it in the event array; poll makes the kernel
 * copy in and check all N {@code struct pollfd}s and the caller scan all N {@code revents}.
 *
 * <p>{@link #pollBuildSet} is the cost epoll does not pay at all: filling the N-entry pollfd array from the
 * caller's fd list (a poll loop does it whenever its set changes; many rebuild it every call). select(2) is in
 * {@link SelectBenchmark} (it stops at FD_SETSIZE). N = 10,000 needs {@code ulimit -n} of at least 10,064.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class MultiplexBenchmark {
    private static final int POLLFD_SIZE = 8; // int fd; short events; short revents

    @Param({"10", "100", "1000", "10000"})
    public int n;

    private EventFds set;
    private int[] fds;
    private int epfd;
    private EventBuffer events;
    private ByteBuffer pollfds;
    private long pollfdsAddr;

    @Setup(Level.Trial)
    public void setUp() {
        set = new EventFds(n);
        fds = set.fds();
        epfd = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (epfd < 0) {
            throw new IllegalStateException("epoll_create1: errno " + LibC.errno());
        }
        EventBuffer ctl = new EventBuffer(1);
        for (int fd : fds) {
            ctl.set(0, LibC.EPOLLIN, fd);
            if (LibC.epoll_ctl(epfd, LibC.EPOLL_CTL_ADD, fd, ctl.address()) != 0) {
                throw new IllegalStateException("epoll_ctl ADD " + fd + ": errno " + LibC.errno());
            }
        }
        events = new EventBuffer(64);
        pollfds = NativeMemory.allocate(n * POLLFD_SIZE);
        pollfdsAddr = NativeMemory.address(pollfds);
        pollBuildSet();
        // Each method must find exactly the one ready fd, or it measures something else.
        expectReady("epollWait", epollWait());
        expectReady("poll", poll());
    }

    private void expectReady(String what, int got) {
        if (got != set.readyFd()) {
            throw new IllegalStateException(what + " found fd " + got + ", expected the ready fd " + set.readyFd());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        LibC.close(epfd);
        set.close();
    }

    /** epoll_wait(timeout 0) on N registered fds, one ready: returns it. */
    @Benchmark
    public int epollWait() {
        int r = LibC.epoll_wait(epfd, events.address(), events.capacity(), 0);
        return r == 1 ? (int) events.data(0) : -r - 2;
    }

    /** poll(timeout 0) on the N-entry pollfd array, then the scan of all N revents for the ready one. */
    @Benchmark
    public int poll() {
        int r = LibC.poll(pollfdsAddr, n, 0);
        if (r != 1) {
            return -r - 2;
        }
        ByteBuffer p = pollfds;
        for (int i = 0, off = 6; i < n; i++, off += POLLFD_SIZE) {
            if (p.getShort(off) != 0) {
                return p.getInt(off - 6);
            }
        }
        return -1;
    }

    /** Fill the N pollfds (fd, POLLIN, revents 0) from the fd list: the interest set poll needs, epoll keeps. */
    @Benchmark
    public long pollBuildSet() {
        ByteBuffer p = pollfds;
        int[] f = fds;
        for (int i = 0, off = 0; i < f.length; i++, off += POLLFD_SIZE) {
            p.putInt(off, f[i]);
            p.putShort(off + 4, LibC.POLLIN);
            p.putShort(off + 6, (short) 0);
        }
        return pollfdsAddr;
    }
}
