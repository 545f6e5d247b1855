package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable, typed set of socket option values, applied to a socket with {@link #applyTo(int)}.
 *
 * <p>Values are validated when they are added ({@link #with}), so a set that exists is a set the kernel accepts on a
 * TCP socket. {@code with} and {@link #merge} return new sets; a set is safe to share between threads and reactors.
 *
 * <pre>{@code
 * SockOpts opts = SockOpts.empty()
 *         .with(SockOpt.TCP_NODELAY, true)
 *         .with(SockOpt.SO_KEEPALIVE, true)
 *         .with(SockOpt.TCP_KEEPIDLE, Duration.ofSeconds(30));
 * opts.applyTo(fd);
 * }</pre>
 */
public final class SockOpts {
    private static final SockOpts EMPTY = new SockOpts(new Object[SockOpt.COUNT], 0);

    /** Per-thread scratch space: value at offset 0 (up to 8 bytes), socklen_t at offset 8. */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        final ByteBuffer buf = NativeMemory.allocate(16);
        final long addr = NativeMemory.address(buf);
    }

    /** Indexed by option ordinal; null where unset. Never mutated after construction. */
    private final Object[] values;
    private final int size;

    private SockOpts(Object[] values, int size) {
        this.values = values;
        this.size = size;
    }

    /** The set with no options. */
    public static SockOpts empty() {
        return EMPTY;
    }

    /**
     * A new set with {@code option} set to {@code value} (replacing any value it had); this set is unchanged.
     *
     * @throws NullPointerException     if {@code option} or {@code value} is null (the message names the option)
     * @throws IllegalArgumentException if the value is out of range, e.g. {@code TCP_KEEPCNT must be 1..127: 0}
     */
    public <T> SockOpts with(SockOpt<T> option, T value) {
        Objects.requireNonNull(option, "option");
        T v = option.check(value);
        int i = option.ordinal();
        Object old = values[i];
        if (v.equals(old)) {
            return this;
        }
        Object[] copy = values.clone();
        copy[i] = v;
        return new SockOpts(copy, old == null ? size + 1 : size);
    }

    /** The value set for {@code option}, or {@code null} if it is unset. */
    public <T> T get(SockOpt<T> option) {
        return option.type().cast(values[option.ordinal()]);
    }

    /** Whether {@code option} has a value in this set. */
    public boolean contains(SockOpt<?> option) {
        return values[option.ordinal()] != null;
    }

    /** Whether no option is set. */
    public boolean isEmpty() {
        return size == 0;
    }

    /**
     * A new set with this set's values and {@code overrides}' values; where both set an option, {@code overrides}
     * wins. Neither set is changed.
     */
    public SockOpts merge(SockOpts overrides) {
        Objects.requireNonNull(overrides, "overrides");
        if (overrides.size == 0) {
            return this;
        }
        if (size == 0) {
            return overrides;
        }
        Object[] copy = values.clone();
        int n = 0;
        for (int i = 0; i < copy.length; i++) {
            if (overrides.values[i] != null) {
                copy[i] = overrides.values[i];
            }
            if (copy[i] != null) {
                n++;
            }
        }
        return new SockOpts(copy, n);
    }

    /**
     * Sets every option of this set on {@code fd} with {@code setsockopt(2)}, in {@link SockOpt#values()}
     * order, stopping at the first failure. Options that matter before {@code bind(2)} ({@code SO_REUSEADDR},
     * {@code SO_REUSEPORT}) must be applied before binding. Allocates nothing: it uses a per-thread native buffer.
     *
     * @throws EpollException           naming the call, e.g.
     *                                  {@code setsockopt(fd=12, TCP_KEEPIDLE=30s): EBADF (Bad file descriptor)}
     * @throws IllegalArgumentException if {@code fd} is negative
     */
    public void applyTo(int fd) throws EpollException {
        checkFd(fd);
        if (size == 0) {
            return;
        }
        Scratch s = SCRATCH.get();
        Object[] vs = values;
        for (int i = 0; i < vs.length; i++) {
            Object v = vs[i];
            if (v != null) {
                set(fd, SockOpt.byOrdinal(i), v, s);
            }
        }
    }

    private static <T> void set(int fd, SockOpt<T> option, Object value, Scratch s) throws EpollException {
        T v = option.type().cast(value);
        int len = option.encode(s.buf, v);
        if (LibC.setsockopt(fd, option.level(), option.optname(), s.addr, len) != 0) {
            int errno = LibC.errno();
            throw new EpollException("setsockopt(fd=" + fd + ", " + option.name() + "=" + option.format(v) + ")",
                    errno);
        }
    }

    /**
     * Reads {@code option}'s current value on {@code fd} with {@code getsockopt(2)}.
     *
     * <p>{@code SO_RCVBUF} and {@code SO_SNDBUF} read back as the kernel stores them: about double the value set
     * (capped by {@code net.core.rmem_max}/{@code wmem_max}, with a minimum). {@code SO_LINGER} reads
     * {@link SockOpt#LINGER_OFF} when lingering is off.
     *
     * @throws EpollException           naming the call, e.g. {@code getsockopt(fd=12, TCP_NODELAY): EBADF (...)}
     * @throws IllegalArgumentException if {@code fd} is negative
     */
    public static <T> T read(int fd, SockOpt<T> option) throws EpollException {
        Objects.requireNonNull(option, "option");
        checkFd(fd);
        Scratch s = SCRATCH.get();
        s.buf.putLong(0, 0L);
        s.buf.putInt(8, option.size());
        if (LibC.getsockopt(fd, option.level(), option.optname(), s.addr, s.addr + 8) != 0) {
            int errno = LibC.errno();
            throw new EpollException("getsockopt(fd=" + fd + ", " + option.name() + ")", errno);
        }
        return option.decode(s.buf);
    }

    private static void checkFd(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("fd must be >= 0: " + fd);
        }
    }

    /** Two sets are equal when they hold the same options with equal values. */
    @Override
    public boolean equals(Object o) {
        return o instanceof SockOpts other && Arrays.equals(values, other.values);
    }

    /** A hash consistent with {@link #equals}. */
    @Override
    public int hashCode() {
        return Arrays.hashCode(values);
    }

    /** The set values in application order, e.g. {@code SockOpts{TCP_NODELAY=true, TCP_KEEPIDLE=30s}}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("SockOpts{");
        String sep = "";
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                SockOpt<?> o = SockOpt.byOrdinal(i);
                sb.append(sep).append(o.name()).append('=').append(o.format(values[i]));
                sep = ", ";
            }
        }
        return sb.append('}').toString();
    }
}
