package org.epoll4j.jmh.sys;

import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;

/**
 * A native {@code fd_set} (glibc x86_64: {@link Select#FD_SETSIZE} bits as sixteen 64-bit words, bit {@code fd % 64}
 * of word {@code fd / 64}). Every accessor refuses fd numbers outside 0..FD_SETSIZE-1 instead of touching memory
 * past the set: C's {@code FD_SET(1024, &set)} silently corrupts whatever follows it.
 */
public final class FdSet {
    private static final int WORDS = Select.FD_SETSIZE / 64;

    private final ByteBuffer bits = NativeMemory.allocate(WORDS * 8);
    private final long address = NativeMemory.address(bits);

    /** The native address, for select(2). */
    public long address() {
        return address;
    }

    /** FD_ZERO. */
    public void clear() {
        for (int i = 0; i < WORDS; i++) {
            bits.putLong(i * 8, 0L);
        }
    }

    /**
     * FD_SET.
     *
     * @param fd the fd number
     * @throws IllegalArgumentException if {@code fd} is negative or at least FD_SETSIZE
     */
    public void set(int fd) {
        int i = check(fd) >>> 6;
        bits.putLong(i * 8, bits.getLong(i * 8) | (1L << (fd & 63)));
    }

    /**
     * FD_ISSET.
     *
     * @param fd the fd number
     * @return whether its bit is set
     * @throws IllegalArgumentException if {@code fd} is negative or at least FD_SETSIZE
     */
    public boolean isSet(int fd) {
        int i = check(fd) >>> 6;
        return (bits.getLong(i * 8) & (1L << (fd & 63))) != 0;
    }

    /** The first set fd below {@code nfds}, scanning word by word as a select loop does; -1 if none. */
    public int firstSet(int nfds) {
        int words = Math.min(WORDS, (nfds + 63) >>> 6);
        for (int i = 0; i < words; i++) {
            long w = bits.getLong(i * 8);
            if (w != 0) {
                int fd = (i << 6) + Long.numberOfTrailingZeros(w);
                return fd < nfds ? fd : -1;
            }
        }
        return -1;
    }

    /** Copies {@code other} into this set, as C's {@code readfds = master;} does before every select call. */
    public void copyFrom(FdSet other) {
        for (int i = 0; i < WORDS; i++) {
            bits.putLong(i * 8, other.bits.getLong(i * 8));
        }
    }

    private static int check(int fd) {
        if (fd < 0 || fd >= Select.FD_SETSIZE) {
            throw new IllegalArgumentException("fd " + fd + " is outside 0.." + (Select.FD_SETSIZE - 1)
                    + ": select(2)'s fd_set holds FD_SETSIZE=" + Select.FD_SETSIZE + " bits and setting this one would"
                    + " write past it (memory corruption); use poll or epoll for fd numbers this high");
        }
        return fd;
    }
}
