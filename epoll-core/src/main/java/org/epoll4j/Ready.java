package org.epoll4j;

import org.epoll4j.internal.LibC;

/**
 * The readiness epoll reported for one registration in one wait. All 64 combinations are cached constants: handing
 * one to a handler allocates nothing.
 */
public final class Ready {
    private static final int MASK = LibC.EPOLLIN | LibC.EPOLLPRI | LibC.EPOLLOUT | LibC.EPOLLERR | LibC.EPOLLHUP;
    private static final Ready[] CACHE = new Ready[64];

    static {
        for (int i = 0; i < CACHE.length; i++) {
            CACHE[i] = new Ready((i & MASK) | ((i & 0x20) != 0 ? LibC.EPOLLRDHUP : 0));
        }
    }

    private final int bits;

    private Ready(int bits) {
        this.bits = bits;
    }

    /** The cached value for raw epoll event bits (bits epoll4j does not model are ignored). */
    public static Ready of(int epollBits) {
        return CACHE[(epollBits & MASK) | ((epollBits & LibC.EPOLLRDHUP) != 0 ? 0x20 : 0)];
    }

    /** Data (or a pending accept, or end of stream) can be read without blocking: EPOLLIN. */
    public boolean isReadable() {
        return (bits & LibC.EPOLLIN) != 0;
    }

    /** Writing will not block: EPOLLOUT. */
    public boolean isWritable() {
        return (bits & LibC.EPOLLOUT) != 0;
    }

    /** The peer shut down its writing side; reads will reach end of stream once drained: EPOLLRDHUP. */
    public boolean isReadHangup() {
        return (bits & LibC.EPOLLRDHUP) != 0;
    }

    /** Both directions are closed (EPOLLHUP); always reported, whatever the interest. */
    public boolean isHangup() {
        return (bits & LibC.EPOLLHUP) != 0;
    }

    /** An error is pending on the fd (EPOLLERR); always reported, whatever the interest. */
    public boolean isError() {
        return (bits & LibC.EPOLLERR) != 0;
    }

    /** Priority data is readable: EPOLLPRI. */
    public boolean isPriority() {
        return (bits & LibC.EPOLLPRI) != 0;
    }

    /** The epoll event bits. */
    public int bits() {
        return bits;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Ready[");
        if (isReadable()) {
            sb.append("READABLE|");
        }
        if (isWritable()) {
            sb.append("WRITABLE|");
        }
        if (isReadHangup()) {
            sb.append("READ_HANGUP|");
        }
        if (isHangup()) {
            sb.append("HANGUP|");
        }
        if (isError()) {
            sb.append("ERROR|");
        }
        if (isPriority()) {
            sb.append("PRIORITY|");
        }
        if (sb.charAt(sb.length() - 1) == '|') {
            sb.setLength(sb.length() - 1);
        }
        return sb.append(']').toString();
    }
}
