package org.epoll4j.internal;

import java.nio.ByteBuffer;

/**
 * The native {@code struct epoll_event} array that epoll_wait fills, read through a direct ByteBuffer view.
 *
 * <p>The struct is packed (12 bytes, data at offset 4) on x86_64 and naturally aligned (16 bytes, data at offset 8)
 * on aarch64; {@link NativePlatform#epollEventLayout(String)} chooses, and {@link #verifyLayout()} checks the choice
 * against the kernel once per process.
 */
public final class EventBuffer {
    /** Size of one {@code struct epoll_event} on this architecture. */
    public static final int EVENT_SIZE = layout().size;
    /** Offset of {@code data.u64} in the struct. */
    public static final int DATA_OFFSET = layout().dataOffset;

    private static volatile boolean layoutVerified;

    private static NativePlatform.EpollEventLayout layout() {
        NativePlatform.requireSupported();
        return NativePlatform.EPOLL_EVENT;
    }

    private ByteBuffer buffer;
    private long address;
    private int capacity;

    /** An array with room for {@code capacity} events. */
    public EventBuffer(int capacity) {
        allocate(capacity);
    }

    private void allocate(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("event capacity must be >= 1: " + capacity);
        }
        this.buffer = NativeMemory.allocate(capacity * EVENT_SIZE);
        this.address = NativeMemory.address(buffer);
        this.capacity = capacity;
    }

    /** Room for this many events. */
    public int capacity() {
        return capacity;
    }

    /** The native address to pass to epoll_wait. */
    public long address() {
        return address;
    }

    /** Replaces the array with a larger one (the old contents are not kept). */
    public void grow(int newCapacity) {
        if (newCapacity > capacity) {
            allocate(newCapacity);
        }
    }

    /** The event bits of entry {@code i}. */
    public int events(int i) {
        return buffer.getInt(i * EVENT_SIZE);
    }

    /** The {@code data.u64} of entry {@code i}. */
    public long data(int i) {
        return buffer.getLong(i * EVENT_SIZE + DATA_OFFSET);
    }

    /** Writes one entry, as epoll_ctl reads it (used to pass a single event to the kernel). */
    public void set(int i, int events, long data) {
        buffer.putInt(i * EVENT_SIZE, events);
        buffer.putLong(i * EVENT_SIZE + DATA_OFFSET, data);
    }

    /**
     * Registers eventfds with known tokens on a private epoll instance and checks that epoll_wait hands back those
     * tokens through this layout. Runs once per process; throws {@link IllegalStateException} on a mismatch, rather
     * than letting a wrong layout deliver events to the wrong handler.
     */
    public static void verifyLayout() {
        if (layoutVerified) {
            return;
        }
        synchronized (EventBuffer.class) {
            if (layoutVerified) {
                return;
            }
            String problem = check(LibC.impl());
            if (problem != null) {
                throw new IllegalStateException(problem);
            }
            layoutVerified = true;
        }
    }

    /**
     * The layout self-test through one binding: {@code null} if the kernel hands back the tokens this layout wrote,
     * else what went wrong. Package-visible so a test can run it through each binding.
     */
    static String check(Binding b) {
        long[] tokens = {0x0123456789ABCDEFL, 0x7EDCBA9876543210L, 0x00000001FFFFFFFFL};
        int ep = b.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (ep < 0) {
            return "epoll layout self-test (" + b + "): epoll_create1: " + Errno.describe(b.errno());
        }
        int[] fds = new int[tokens.length];
        java.util.Arrays.fill(fds, -1);
        try {
            EventBuffer one = new EventBuffer(1);
            ByteBuffer counter = NativeMemory.allocate(8);
            counter.putLong(0, 1);
            for (int i = 0; i < tokens.length; i++) {
                fds[i] = b.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
                one.set(0, LibC.EPOLLIN, tokens[i]);
                if (fds[i] < 0 || b.epoll_ctl(ep, LibC.EPOLL_CTL_ADD, fds[i], one.address()) != 0
                        || b.write(fds[i], NativeMemory.address(counter), 8) != 8) {
                    return "epoll layout self-test (" + b + "): " + Errno.describe(b.errno());
                }
            }
            EventBuffer out = new EventBuffer(tokens.length + 1);
            int n = b.epoll_wait(ep, out.address(), out.capacity(), 1000);
            java.util.Set<Long> want = new java.util.HashSet<>();
            for (long t : tokens) {
                want.add(t);
            }
            java.util.Set<Long> got = new java.util.HashSet<>();
            for (int i = 0; i < Math.max(n, 0); i++) {
                got.add(out.data(i));
                if ((out.events(i) & LibC.EPOLLIN) == 0) {
                    got.add(-1L);
                }
            }
            return got.equals(want) ? null : "struct epoll_event layout mismatch on " + System.getProperty("os.arch")
                    + " (size " + EVENT_SIZE + ", data at " + DATA_OFFSET + ", binding " + b + "): expected tokens "
                    + want + ", decoded " + got;
        } finally {
            for (int fd : fds) {
                if (fd >= 0) {
                    b.close(fd);
                }
            }
            b.close(ep);
        }
    }
}
