package org.epoll4j.internal;

import java.nio.ByteBuffer;

/**
 * epoll_pwait2 (Linux 5.11+, glibc 2.35+): epoll_wait with a {@code struct timespec} timeout, so timers need not
 * round up to whole milliseconds. Older systems lack the symbol (or the kernel answers ENOSYS), so
 * {@link #AVAILABLE} says whether it was found and works, through the binding {@link LibC} uses.
 */
public final class EpollPwait2 {
    /** Whether epoll_pwait2 can be called here. */
    public static final boolean AVAILABLE;

    private static final Binding IMPL = LibC.impl();

    static {
        boolean ok;
        try {
            ok = IMPL.hasEpollPwait2() && works();
        } catch (Throwable e) {
            ok = false;
        }
        AVAILABLE = ok;
    }

    private EpollPwait2() {
    }

    private static boolean works() {
        int ep = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (ep < 0) {
            return false;
        }
        try {
            ByteBuffer ts = NativeMemory.allocate(16);
            ByteBuffer ev = NativeMemory.allocate(16);
            return epoll_pwait2(ep, NativeMemory.address(ev), 1, NativeMemory.address(ts), 0, 0) == 0;
        } finally {
            LibC.close(ep);
        }
    }

    /** epoll_pwait2(2); {@code timespec} and {@code sigmask} are addresses (0 for none). */
    public static int epoll_pwait2(int epfd, long events, int maxEvents, long timespec, long sigmask,
                                   long sigsetSize) {
        return IMPL.epoll_pwait2(epfd, events, maxEvents, timespec, sigmask, sigsetSize);
    }
}
