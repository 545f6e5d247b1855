package org.epoll4j.net;

import org.epoll4j.internal.LibC;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;

/**
 * A typed socket option: its name, its Java value type, the {@code setsockopt(2)} level and option name it maps to,
 * the values it accepts, and how its value is encoded ({@code int} or {@code struct linger}) and decoded.
 *
 * <p>The set is closed: the constants below are the only instances. Values are put into a {@link SockOpts} set,
 * which validates them and applies them to a socket; {@link SockOpts#read(int, SockOpt)} reads one back.
 *
 * <p>{@code SO_LINGER} is a {@link Duration}: whole seconds {@code 0..32767} turn lingering on with that timeout
 * ({@link Duration#ZERO} means an abortive close: {@code close(2)} discards unsent data and sends RST), and
 * {@link #LINGER_OFF} turns lingering off (the default: close returns at once and the kernel sends the rest in the
 * background).
 *
 * @param <T> the type of the option's value
 */
public final class SockOpt<T> {
    /**
     * The {@code SO_LINGER} value that turns lingering off ({@code l_onoff = 0}). It is a negative duration (-1 s)
     * so it can never be mistaken for a timeout; no other negative duration is accepted.
     */
    public static final Duration LINGER_OFF = Duration.ofSeconds(-1);

    private enum Kind { BOOLEAN, INT, SECONDS, MILLIS, LINGER }

    /** Disable Nagle's algorithm: small writes go out at once. */
    public static final SockOpt<Boolean> TCP_NODELAY =
            new SockOpt<>(0, "TCP_NODELAY", Boolean.class, LibC.IPPROTO_TCP, LibC.TCP_NODELAY, Kind.BOOLEAN, 0, 1);
    /** Send TCP keep-alive probes on an idle connection. */
    public static final SockOpt<Boolean> SO_KEEPALIVE =
            new SockOpt<>(1, "SO_KEEPALIVE", Boolean.class, LibC.SOL_SOCKET, LibC.SO_KEEPALIVE, Kind.BOOLEAN, 0, 1);
    /** Idle time before the first keep-alive probe: whole seconds {@code 1..32767}. */
    public static final SockOpt<Duration> TCP_KEEPIDLE =
            new SockOpt<>(2, "TCP_KEEPIDLE", Duration.class, LibC.IPPROTO_TCP, LibC.TCP_KEEPIDLE, Kind.SECONDS, 1, 32767);
    /** Time between keep-alive probes: whole seconds {@code 1..32767}. */
    public static final SockOpt<Duration> TCP_KEEPINTVL =
            new SockOpt<>(3, "TCP_KEEPINTVL", Duration.class, LibC.IPPROTO_TCP, LibC.TCP_KEEPINTVL, Kind.SECONDS, 1, 32767);
    /** Unanswered keep-alive probes before the connection is dropped: {@code 1..127}. */
    public static final SockOpt<Integer> TCP_KEEPCNT =
            new SockOpt<>(4, "TCP_KEEPCNT", Integer.class, LibC.IPPROTO_TCP, LibC.TCP_KEEPCNT, Kind.INT, 1, 127);
    /** Allow binding a local address still in TIME_WAIT. Set it before {@code bind(2)}. */
    public static final SockOpt<Boolean> SO_REUSEADDR =
            new SockOpt<>(5, "SO_REUSEADDR", Boolean.class, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, Kind.BOOLEAN, 0, 1);
    /** Allow several sockets to bind the same address and port (the kernel balances between them). Before bind. */
    public static final SockOpt<Boolean> SO_REUSEPORT =
            new SockOpt<>(6, "SO_REUSEPORT", Boolean.class, LibC.SOL_SOCKET, LibC.SO_REUSEPORT, Kind.BOOLEAN, 0, 1);
    /**
     * Receive buffer size in bytes, {@code 1..2147483647}. The kernel caps it at {@code net.core.rmem_max}, doubles it
     * for bookkeeping overhead and enforces a minimum, so reading it back gives about twice the value set.
     */
    public static final SockOpt<Integer> SO_RCVBUF =
            new SockOpt<>(7, "SO_RCVBUF", Integer.class, LibC.SOL_SOCKET, LibC.SO_RCVBUF, Kind.INT, 1, Integer.MAX_VALUE);
    /**
     * Send buffer size in bytes, {@code 1..2147483647}. The kernel caps it at {@code net.core.wmem_max}, doubles it
     * for bookkeeping overhead and enforces a minimum, so reading it back gives about twice the value set.
     */
    public static final SockOpt<Integer> SO_SNDBUF =
            new SockOpt<>(8, "SO_SNDBUF", Integer.class, LibC.SOL_SOCKET, LibC.SO_SNDBUF, Kind.INT, 1, Integer.MAX_VALUE);
    /**
     * Linger on close: whole seconds {@code 0..32767} ({@link Duration#ZERO} = abortive close with RST), or
     * {@link #LINGER_OFF}. A positive value makes {@code close(2)} block up to that long even on a non-blocking
     * socket (Linux ignores {@code O_NONBLOCK} here), so on a reactor thread prefer {@code ZERO} or {@code LINGER_OFF}.
     */
    public static final SockOpt<Duration> SO_LINGER =
            new SockOpt<>(9, "SO_LINGER", Duration.class, LibC.SOL_SOCKET, LibC.SO_LINGER, Kind.LINGER, 0, 32767);
    /**
     * How long transmitted data may stay unacknowledged before the connection is dropped: whole milliseconds
     * {@code 0..2147483647}; {@link Duration#ZERO} means the system default.
     */
    public static final SockOpt<Duration> TCP_USER_TIMEOUT =
            new SockOpt<>(10, "TCP_USER_TIMEOUT", Duration.class, LibC.IPPROTO_TCP, LibC.TCP_USER_TIMEOUT,
                    Kind.MILLIS, 0, Integer.MAX_VALUE);

    // ---- the latency and deployment options Netty's epoll transport has (issue 22); Linux numbers, given here ----
    private static final int IPPROTO_IP = 0;

    /**
     * TCP Fast Open on a listener: the length of the queue of connections not yet accepted whose SYN carried data,
     * {@code 0..65535} (0 = off). Apply before {@code listen}; the system must allow it ({@code net.ipv4.tcp_fastopen}
     * bit 2, default 1 = clients only).
     */
    public static final SockOpt<Integer> TCP_FASTOPEN =
            new SockOpt<>(11, "TCP_FASTOPEN", Integer.class, LibC.IPPROTO_TCP, 23, Kind.INT, 0, 65535);
    /**
     * TCP Fast Open on a client: the first write travels in the SYN where the server's cookie is cached. Apply before
     * {@code connect}.
     */
    public static final SockOpt<Boolean> TCP_FASTOPEN_CONNECT =
            new SockOpt<>(12, "TCP_FASTOPEN_CONNECT", Boolean.class, LibC.IPPROTO_TCP, 30, Kind.BOOLEAN, 0, 1);
    /**
     * On a listener: accept wakes only when data has arrived, or after this many whole seconds {@code 0..32767}
     * (0 = off). The kernel counts in SYN-ACK retransmissions, so reading it back gives the next step up.
     */
    public static final SockOpt<Duration> TCP_DEFER_ACCEPT =
            new SockOpt<>(13, "TCP_DEFER_ACCEPT", Duration.class, LibC.IPPROTO_TCP, 9, Kind.SECONDS, 0, 32767);
    /**
     * Acknowledge at once instead of delaying ACKs. Not sticky: the kernel may return to delayed ACKs by itself, so
     * latency-sensitive code sets it again after reads.
     */
    public static final SockOpt<Boolean> TCP_QUICKACK =
            new SockOpt<>(14, "TCP_QUICKACK", Boolean.class, LibC.IPPROTO_TCP, 12, Kind.BOOLEAN, 0, 1);
    /**
     * The socket reports writable only while fewer than this many bytes are unsent in the kernel, {@code 0..2^31-1}:
     * bounds what the kernel holds beyond the connection's own write queue.
     */
    public static final SockOpt<Integer> TCP_NOTSENT_LOWAT =
            new SockOpt<>(15, "TCP_NOTSENT_LOWAT", Integer.class, LibC.IPPROTO_TCP, 25, Kind.INT, 0, Integer.MAX_VALUE);
    /** The IPv4 type-of-service byte (DSCP and ECN bits) of outgoing packets, {@code 0..255}. IPv4 sockets. */
    public static final SockOpt<Integer> IP_TOS =
            new SockOpt<>(16, "IP_TOS", Integer.class, IPPROTO_IP, 1, Kind.INT, 0, 255);
    /** An IPv6 socket accepts IPv6 only (no v4-mapped addresses). Apply before {@code bind}. IPv6 sockets. */
    public static final SockOpt<Boolean> IPV6_V6ONLY =
            new SockOpt<>(17, "IPV6_V6ONLY", Boolean.class, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY, Kind.BOOLEAN, 0, 1);
    /** Bind an IPv4 address that is not (yet) configured on any interface. Apply before {@code bind}. */
    public static final SockOpt<Boolean> IP_FREEBIND =
            new SockOpt<>(18, "IP_FREEBIND", Boolean.class, IPPROTO_IP, 15, Kind.BOOLEAN, 0, 1);
    /** Transparent proxying (TPROXY): bind and accept foreign addresses. Needs {@code CAP_NET_ADMIN}. */
    public static final SockOpt<Boolean> IP_TRANSPARENT =
            new SockOpt<>(19, "IP_TRANSPARENT", Boolean.class, IPPROTO_IP, 19, Kind.BOOLEAN, 0, 1);
    /**
     * Busy-poll the device queue on blocking reads for up to this many microseconds, {@code 0..2^31-1}. Above
     * {@code net.core.busy_read} it needs {@code CAP_NET_ADMIN}. For epoll, see {@code Reactor.Builder.busyPoll}.
     */
    public static final SockOpt<Integer> SO_BUSY_POLL =
            new SockOpt<>(20, "SO_BUSY_POLL", Integer.class, LibC.SOL_SOCKET, 46, Kind.INT, 0, Integer.MAX_VALUE);
    /** Prefer busy polling over the device's interrupts (Linux 5.11+). */
    public static final SockOpt<Boolean> SO_PREFER_BUSY_POLL =
            new SockOpt<>(21, "SO_PREFER_BUSY_POLL", Boolean.class, LibC.SOL_SOCKET, 69, Kind.BOOLEAN, 0, 1);
    /**
     * The CPU whose receive queue handles this socket, {@code 0..2^31-1}: read it on an accepted socket to hand the
     * connection to the reactor pinned to that CPU; set it on a listener of an SO_REUSEPORT group to steer.
     */
    public static final SockOpt<Integer> SO_INCOMING_CPU =
            new SockOpt<>(22, "SO_INCOMING_CPU", Integer.class, LibC.SOL_SOCKET, 49, Kind.INT, 0, Integer.MAX_VALUE);

    private static final SockOpt<?>[] ALL = {
            TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, SO_REUSEADDR, SO_REUSEPORT,
            SO_RCVBUF, SO_SNDBUF, SO_LINGER, TCP_USER_TIMEOUT, TCP_FASTOPEN, TCP_FASTOPEN_CONNECT, TCP_DEFER_ACCEPT,
            TCP_QUICKACK, TCP_NOTSENT_LOWAT, IP_TOS, IPV6_V6ONLY, IP_FREEBIND, IP_TRANSPARENT, SO_BUSY_POLL,
            SO_PREFER_BUSY_POLL, SO_INCOMING_CPU};
    private static final List<SockOpt<?>> VALUES = List.of(ALL);

    /** Number of options; {@link #ordinal} is in {@code 0..COUNT-1}. */
    static final int COUNT = ALL.length;

    private final int ordinal;
    private final String name;
    private final Class<T> type;
    private final int level;
    private final int optname;
    private final Kind kind;
    private final long min;
    private final long max;
    private final String allowed;

    private SockOpt(int ordinal, String name, Class<T> type, int level, int optname, Kind kind, long min,
                         long max) {
        this.ordinal = ordinal;
        this.name = name;
        this.type = type;
        this.level = level;
        this.optname = optname;
        this.kind = kind;
        this.min = min;
        this.max = max;
        this.allowed = switch (kind) {
            case BOOLEAN -> "true or false";
            case INT -> min + ".." + max;
            case SECONDS -> "whole seconds " + min + ".." + max;
            case MILLIS -> "whole milliseconds " + min + ".." + max;
            case LINGER -> "whole seconds " + min + ".." + max + " or SockOpt.LINGER_OFF";
        };
    }

    /** Every option, in the order {@link SockOpts#applyTo(int)} applies them. */
    public static List<SockOpt<?>> values() {
        return VALUES;
    }

    /** The option's name, as in the C headers, e.g. {@code TCP_NODELAY}. */
    public String name() {
        return name;
    }

    /** The Java type of the option's value: {@code Boolean}, {@code Integer} or {@code Duration}. */
    public Class<T> type() {
        return type;
    }

    /** The option's name. */
    @Override
    public String toString() {
        return name;
    }

    // ---- package-private: used by SockOpts ----

    static SockOpt<?> byOrdinal(int ordinal) {
        return ALL[ordinal];
    }

    int ordinal() {
        return ordinal;
    }

    int level() {
        return level;
    }

    int optname() {
        return optname;
    }

    /** Bytes of the native value: 8 for {@code struct linger}, 4 for an {@code int}. */
    int size() {
        return kind == Kind.LINGER ? 8 : 4;
    }

    /**
     * Checks a value against the option's type and range.
     *
     * @throws NullPointerException     naming the option, for a null value
     * @throws IllegalArgumentException naming the option, the value and the allowed range
     */
    T check(Object value) {
        if (value == null) {
            throw new NullPointerException(name + " value must not be null");
        }
        if (!type.isInstance(value)) {
            throw new IllegalArgumentException(name + " takes " + type.getSimpleName() + " values, not "
                    + value.getClass().getName() + ": " + value);
        }
        T v = type.cast(value);
        boolean ok = switch (kind) {
            case BOOLEAN -> true;
            case INT -> {
                int i = (Integer) v;
                yield i >= min && i <= max;
            }
            case SECONDS -> wholeSecondsInRange((Duration) v);
            case MILLIS -> {
                Duration d = (Duration) v;
                yield !d.isNegative() && d.getNano() % 1_000_000 == 0 && d.getSeconds() <= max / 1000
                        && d.toMillis() <= max;
            }
            case LINGER -> LINGER_OFF.equals(v) || wholeSecondsInRange((Duration) v);
        };
        if (!ok) {
            throw new IllegalArgumentException(name + " must be " + allowed + ": " + format(v));
        }
        return v;
    }

    private boolean wholeSecondsInRange(Duration d) {
        return d.getNano() == 0 && d.getSeconds() >= min && d.getSeconds() <= max;
    }

    /** Writes an already checked value at offset 0 of {@code buf} and returns its length in bytes. */
    int encode(ByteBuffer buf, T value) {
        switch (kind) {
            case BOOLEAN -> buf.putInt(0, (Boolean) value ? 1 : 0);
            case INT -> buf.putInt(0, (Integer) value);
            case SECONDS -> buf.putInt(0, (int) ((Duration) value).getSeconds());
            case MILLIS -> buf.putInt(0, (int) ((Duration) value).toMillis());
            case LINGER -> {
                Duration d = (Duration) value;
                boolean on = !LINGER_OFF.equals(d);
                buf.putInt(0, on ? 1 : 0); // l_onoff
                buf.putInt(4, on ? (int) d.getSeconds() : 0); // l_linger
                return 8;
            }
        }
        return 4;
    }

    /** Reads the value getsockopt(2) left at offset 0 of {@code buf}. */
    T decode(ByteBuffer buf) {
        int i = buf.getInt(0);
        Object v = switch (kind) {
            case BOOLEAN -> i != 0;
            case INT -> i;
            case SECONDS -> Duration.ofSeconds(Integer.toUnsignedLong(i));
            case MILLIS -> Duration.ofMillis(Integer.toUnsignedLong(i));
            case LINGER -> i == 0 ? LINGER_OFF : Duration.ofSeconds(Integer.toUnsignedLong(buf.getInt(4)));
        };
        return type.cast(v);
    }

    /** The value as messages show it: {@code 30s}, {@code 1500ms}, {@code off} for {@link #LINGER_OFF}. */
    String format(Object value) {
        if (value instanceof Duration d) {
            if (kind == Kind.LINGER && LINGER_OFF.equals(d)) {
                return "off";
            }
            return formatDuration(d);
        }
        return String.valueOf(value);
    }

    static String formatDuration(Duration d) {
        if (d.getNano() == 0) {
            return d.getSeconds() + "s";
        }
        if (d.getNano() % 1_000_000 == 0 && Math.abs(d.getSeconds()) < Long.MAX_VALUE / 1000 - 1) {
            return d.toMillis() + "ms";
        }
        return d.toString();
    }
}
