package org.epoll4j.internal;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

import java.nio.ByteBuffer;

/**
 * epoll_pwait2 (Linux 5.11+, glibc 2.35+): epoll_wait with a {@code struct timespec} timeout, so timers need not
 * round up to whole milliseconds. Bound separately from {@link LibC} because older systems lack the symbol;
 * {@link #AVAILABLE} says whether it was found and works.
 */
public final class EpollPwait2 {
    /** Whether epoll_pwait2 can be called here. */
    public static final boolean AVAILABLE;

    static {
        boolean ok;
        try {
            Native.register(EpollPwait2.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
            int ep = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
            ByteBuffer ts = NativeMemory.allocate(16);
            ByteBuffer ev = NativeMemory.allocate(16);
            ok = ep >= 0 && epoll_pwait2(ep, NativeMemory.address(ev), 1, NativeMemory.address(ts), 0, 0) == 0;
            LibC.close(ep);
        } catch (Throwable e) {
            ok = false; // UnsatisfiedLinkError on an older glibc
        }
        AVAILABLE = ok;
    }

    private EpollPwait2() {
    }

    /** epoll_pwait2(2); {@code timespec} and {@code sigmask} are addresses (0 for none). */
    public static native int epoll_pwait2(int epfd, long events, int maxEvents, long timespec, long sigmask,
                                          long sigsetSize);
}
