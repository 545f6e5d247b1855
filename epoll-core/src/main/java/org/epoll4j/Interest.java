package org.epoll4j;

import org.epoll4j.internal.LibC;

/**
 * What a registration wants to hear about: readable, writable, the peer's half-close (read hangup) and priority
 * data. Errors and hangups are always reported. Every combination is a cached constant, so changing interest never
 * allocates.
 */
public final class Interest {
    private static final int IN = LibC.EPOLLIN;
    private static final int PRI_BIT = LibC.EPOLLPRI;
    private static final int OUT = LibC.EPOLLOUT;
    private static final int RDHUP = LibC.EPOLLRDHUP;
    private static final int ALL = IN | PRI_BIT | OUT | RDHUP;
    private static final Interest[] CACHE = new Interest[16];

    static {
        for (int i = 0; i < CACHE.length; i++) {
            int bits = (i & 0x7) | ((i & 0x8) != 0 ? RDHUP : 0);
            CACHE[i] = new Interest(bits);
        }
    }

    /** Nothing but errors and hangups. */
    public static final Interest NONE = CACHE[0];
    /** Readable (EPOLLIN). */
    public static final Interest READ = of(IN);
    /** Writable (EPOLLOUT). */
    public static final Interest WRITE = of(OUT);
    /** Readable or writable. */
    public static final Interest READ_WRITE = of(IN | OUT);
    /** The peer shut down its writing side (EPOLLRDHUP). */
    public static final Interest READ_HANGUP = of(RDHUP);
    /** Urgent / priority data (EPOLLPRI). */
    public static final Interest PRIORITY = of(PRI_BIT);

    private final int bits;

    private Interest(int bits) {
        this.bits = bits;
    }

    private static int index(int bits) {
        return (bits & 0x7) | ((bits & RDHUP) != 0 ? 0x8 : 0);
    }

    /**
     * The interest for raw epoll bits.
     *
     * @throws IllegalArgumentException if bits other than EPOLLIN, EPOLLPRI, EPOLLOUT and EPOLLRDHUP are set
     */
    public static Interest of(int epollBits) {
        if ((epollBits & ~ALL) != 0) {
            throw new IllegalArgumentException("not interest bits: 0x" + Integer.toHexString(epollBits & ~ALL)
                    + " (allowed: EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLLRDHUP)");
        }
        return CACHE[index(epollBits)];
    }

    /** This interest plus {@code other}. */
    public Interest with(Interest other) {
        return CACHE[index(bits | other.bits)];
    }

    /** This interest less {@code other}. */
    public Interest without(Interest other) {
        return CACHE[index(bits & ~other.bits)];
    }

    /** Whether every bit of {@code other} is in this interest. */
    public boolean contains(Interest other) {
        return (bits & other.bits) == other.bits;
    }

    /** Includes readable. */
    public boolean isRead() {
        return (bits & IN) != 0;
    }

    /** Includes writable. */
    public boolean isWrite() {
        return (bits & OUT) != 0;
    }

    /** Includes the peer's half-close. */
    public boolean isReadHangup() {
        return (bits & RDHUP) != 0;
    }

    /** Includes priority data. */
    public boolean isPriority() {
        return (bits & PRI_BIT) != 0;
    }

    /** The epoll event bits. */
    public int bits() {
        return bits;
    }

    @Override
    public String toString() {
        if (bits == 0) {
            return "Interest[NONE]";
        }
        StringBuilder sb = new StringBuilder("Interest[");
        if (isRead()) {
            sb.append("READ|");
        }
        if (isWrite()) {
            sb.append("WRITE|");
        }
        if (isReadHangup()) {
            sb.append("READ_HANGUP|");
        }
        if (isPriority()) {
            sb.append("PRIORITY|");
        }
        sb.setLength(sb.length() - 1);
        return sb.append(']').toString();
    }
}
