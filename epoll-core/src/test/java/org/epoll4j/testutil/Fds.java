package org.epoll4j.testutil;

import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;

/** Small helpers to make and use the fds tests need (eventfds, pipes, socketpairs) through {@link LibC}. */
public final class Fds {
    private static final ThreadLocal<ByteBuffer> SCRATCH = ThreadLocal.withInitial(() -> NativeMemory.allocate(16));

    private Fds() {
    }

    /** A non-blocking, close-on-exec eventfd with counter 0. */
    public static int eventfd() {
        return check(LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC), "eventfd");
    }

    /** A blocking eventfd. */
    public static int blockingEventfd() {
        return check(LibC.eventfd(0, LibC.EFD_CLOEXEC), "eventfd");
    }

    /** A non-blocking pipe: {read end, write end}. */
    public static int[] pipe() {
        return pair(true, "pipe2");
    }

    /** A non-blocking AF_UNIX SOCK_STREAM socketpair. */
    public static int[] socketpair() {
        return pair(false, "socketpair");
    }

    private static int[] pair(boolean pipe, String call) {
        ByteBuffer b = SCRATCH.get();
        int flags = LibC.O_NONBLOCK | LibC.O_CLOEXEC;
        int rc = pipe ? LibC.pipe2(NativeMemory.address(b), flags)
                : LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | flags, 0, NativeMemory.address(b));
        check(rc, call);
        return new int[] {b.getInt(0), b.getInt(4)};
    }

    /** Adds {@code n} to an eventfd's counter. */
    public static void signal(int eventfd, long n) {
        ByteBuffer b = SCRATCH.get();
        b.putLong(0, n);
        if (LibC.write(eventfd, NativeMemory.address(b), 8) != 8) {
            throw new IllegalStateException("eventfd write: " + Errno.describe(LibC.errno()));
        }
    }

    /** Reads (and so resets) an eventfd's counter; 0 if it was already 0. */
    public static long drain(int eventfd) {
        ByteBuffer b = SCRATCH.get();
        long n = LibC.read(eventfd, NativeMemory.address(b), 8);
        if (n == 8) {
            return b.getLong(0);
        }
        if (LibC.errno() == Errno.EAGAIN) {
            return 0;
        }
        throw new IllegalStateException("eventfd read: " + Errno.describe(LibC.errno()));
    }

    /** Writes {@code bytes} to {@code fd}, which must take them all at once. */
    public static void writeFully(int fd, byte[] bytes) {
        ByteBuffer b = NativeMemory.allocate(Math.max(1, bytes.length));
        b.put(bytes);
        if (LibC.write(fd, NativeMemory.address(b), bytes.length) != bytes.length) {
            throw new IllegalStateException("short write: " + Errno.describe(LibC.errno()));
        }
    }

    /** Closes each fd that is not negative. */
    public static void close(int... fds) {
        for (int fd : fds) {
            if (fd >= 0) {
                LibC.close(fd);
            }
        }
    }

    private static int check(int rc, String call) {
        if (rc < 0) {
            throw new IllegalStateException(call + ": " + Errno.describe(LibC.errno()));
        }
        return rc;
    }
}
