package org.epoll4j.jmh;

import org.epoll4j.internal.EventBuffer;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;
import java.util.function.IntBinaryOperator;
import java.util.function.IntSupplier;
import java.util.function.IntUnaryOperator;

/**
 * The descriptors and buffers that {@link LibCBenchmark} and {@link JnaDirectBenchmark} call libc on, opened and
 * closed through the calls each passes in, its own path to libc (so {@code JnaDirectBenchmark} never initialises
 * {@link LibC}'s binding). The fields live here, not in a separate state object, so the measured methods read them
 * without an extra indirection.
 */
abstract class SyscallFixture {
    int epfd;
    EventBuffer events;
    final int[] pair = new int[2];
    int emptyFd;
    ByteBuffer buf;
    long bufAddr;
    int modEpfd;
    int modFd;
    EventBuffer interestA;
    EventBuffer interestB;
    boolean flip;

    /** A libc call shaped {@code int f(int, int, int, long)}: socketpair and epoll_ctl. */
    @FunctionalInterface
    interface IntIntIntLongCall {
        int call(int a, int b, int c, long d);
    }

    /** Opens everything through the given calls; called from the subclass's trial setup. */
    final void openFds(IntUnaryOperator epollCreate1, IntIntIntLongCall socketpair, IntBinaryOperator eventfd,
            IntIntIntLongCall epollCtl, IntSupplier errno) {
        epfd = check(errno, epollCreate1.applyAsInt(LibC.EPOLL_CLOEXEC), "epoll_create1");
        events = new EventBuffer(64);
        ByteBuffer fds = NativeMemory.allocate(8);
        check(errno, socketpair.call(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0,
                NativeMemory.address(fds)), "socketpair");
        pair[0] = fds.getInt(0);
        pair[1] = fds.getInt(4);
        // An empty non-blocking eventfd: every read fails with EAGAIN.
        emptyFd = check(errno, eventfd.applyAsInt(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC), "eventfd");
        buf = NativeMemory.allocate(64);
        bufAddr = NativeMemory.address(buf);
        // An eventfd registered on its own epoll instance (epfd stays empty) whose interest set epollCtlMod switches back and forth.
        modFd = check(errno, eventfd.applyAsInt(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC), "eventfd");
        interestA = new EventBuffer(1);
        interestA.set(0, LibC.EPOLLIN, modFd);
        interestB = new EventBuffer(1);
        interestB.set(0, LibC.EPOLLIN | LibC.EPOLLOUT, modFd);
        modEpfd = check(errno, epollCreate1.applyAsInt(LibC.EPOLL_CLOEXEC), "epoll_create1");
        check(errno, epollCtl.call(modEpfd, LibC.EPOLL_CTL_ADD, modFd, interestA.address()), "epoll_ctl ADD");
    }

    /** Closes everything {@link #openFds()} opened; called from the subclass's trial teardown. */
    final void closeFds(IntUnaryOperator close) {
        close.applyAsInt(epfd);
        close.applyAsInt(pair[0]);
        close.applyAsInt(pair[1]);
        close.applyAsInt(emptyFd);
        close.applyAsInt(modEpfd);
        close.applyAsInt(modFd);
    }

    private static int check(IntSupplier errno, int rc, String call) {
        if (rc < 0) {
            throw new IllegalStateException(call + " failed: errno " + errno.getAsInt());
        }
        return rc;
    }
}
