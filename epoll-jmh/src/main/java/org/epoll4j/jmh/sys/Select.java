package org.epoll4j.jmh.sys;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * JNA direct mapping of select(2), which epoll-core's {@code LibC} does not bind (the library never uses it). Only
 * the benchmarks call it, and only through {@link #select(int, FdSet, long)}, which refuses any fd set that could
 * make the kernel read or write past the 128-byte {@code fd_set}.
 */
public final class Select {
    /** glibc's fixed {@code fd_set} size in bits: select cannot watch an fd number at or above this. */
    public static final int FD_SETSIZE = 1024;

    static {
        Native.register(Select.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private Select() {
    }

    private static native int select(int nfds, long readfds, long writefds, long exceptfds, long timeout);

    /**
     * select(2) for readability only.
     *
     * @param nfds        highest watched fd plus one; at most {@link #FD_SETSIZE}
     * @param readfds     the set, overwritten by the kernel with the ready subset
     * @param timevalAddr address of a {@code struct timeval} (16 bytes), or 0 to block
     * @return the number of ready fds, or -1 (then read errno)
     * @throws IllegalArgumentException if {@code nfds} is outside 0..FD_SETSIZE: the kernel would read and write
     *                                  {@code nfds} bits, past the end of the set
     */
    public static int select(int nfds, FdSet readfds, long timevalAddr) {
        if (nfds < 0 || nfds > FD_SETSIZE) {
            throw new IllegalArgumentException("select(nfds=" + nfds + "): nfds must be 0.." + FD_SETSIZE
                    + " (FD_SETSIZE); fd " + (nfds - 1) + " cannot be watched by select(2): use poll or epoll");
        }
        return select(nfds, readfds.address(), 0L, 0L, timevalAddr);
    }
}
