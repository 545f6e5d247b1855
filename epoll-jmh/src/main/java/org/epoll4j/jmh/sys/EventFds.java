package org.epoll4j.jmh.sys;

import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;

/**
 * N non-blocking eventfds of which exactly one, the last opened (the highest fd number), is readable: its counter is
 * set to 1 and never read, so every wait reports it and only it. The watched set of the poll/select/epoll benchmarks.
 */
public final class EventFds implements AutoCloseable {
    private final int[] fds;

    /**
     * Opens {@code n} eventfds.
     *
     * @param n how many
     * @throws IllegalStateException if the fd limit is too low (with the fix) or eventfd fails
     */
    public EventFds(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("n must be >= 1: " + n);
        }
        FdLimit.require(n + 64L, n + " watched eventfds");
        fds = new int[n];
        int opened = 0;
        try {
            for (; opened < n; opened++) {
                int fd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
                if (fd < 0) {
                    throw new IllegalStateException("eventfd #" + opened + " failed: errno " + LibC.errno());
                }
                fds[opened] = fd;
            }
            ByteBuffer one = NativeMemory.allocate(8).putLong(0, 1L);
            if (LibC.write(readyFd(), NativeMemory.address(one), 8) != 8) {
                throw new IllegalStateException("eventfd write failed: errno " + LibC.errno());
            }
        } catch (RuntimeException e) {
            for (int i = 0; i < opened; i++) {
                LibC.close(fds[i]);
            }
            throw e;
        }
    }

    /** The fd numbers, in opening order. */
    public int[] fds() {
        return fds;
    }

    /** How many. */
    public int size() {
        return fds.length;
    }

    /** The one readable fd. */
    public int readyFd() {
        return fds[fds.length - 1];
    }

    /** The highest fd number. */
    public int maxFd() {
        int max = -1;
        for (int fd : fds) {
            max = Math.max(max, fd);
        }
        return max;
    }

    @Override
    public void close() {
        for (int fd : fds) {
            LibC.close(fd);
        }
    }
}
