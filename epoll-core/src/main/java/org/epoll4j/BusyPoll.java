package org.epoll4j;

import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Per-epoll-instance busy polling (Linux 6.9+, {@code EPIOCSPARAMS}): while its loop waits, the kernel polls the
 * NAPI queues of the sockets it watches for up to {@link #time()} instead of sleeping until an interrupt, trading CPU
 * for latency. It helps only where the sockets' packets come from a NAPI-capable network card, ideally with
 * {@code SO_PREFER_BUSY_POLL} and the card's interrupts deferred ({@code gro_flush_timeout},
 * {@code napi_defer_hard_irqs}); loopback traffic has no NAPI queue, so it shows nothing there.
 *
 * <p>Set it with {@link Reactor.Builder#busyPoll(BusyPoll)}; {@link Reactor#busyPoll()} reads back what the kernel
 * holds ({@code EPIOCGPARAMS}). A kernel without the ioctl ({@code ENOTTY}, {@code EINVAL}) leaves the reactor as it
 * would be without it, and {@link Reactor#busyPoll()} is then empty.
 */
public final class BusyPoll {
    /** {@code _IOW(0x8A, 0x01, struct epoll_params)}. */
    static final long EPIOCSPARAMS = 0x40088A01L;
    /** {@code _IOR(0x8A, 0x02, struct epoll_params)}. */
    static final long EPIOCGPARAMS = 0x80088A02L;
    /** The kernel's NAPI_POLL_WEIGHT: a larger budget needs CAP_NET_ADMIN. */
    public static final int DEFAULT_BUDGET = 64;

    private final Duration time;
    private final int budget;
    private final boolean prefer;

    private BusyPoll(Duration time, int budget, boolean prefer) {
        this.time = time;
        this.budget = budget;
        this.prefer = prefer;
    }

    /**
     * @param time   how long each wait busy-polls before it sleeps: whole microseconds, {@code 0..2^31-1}
     * @param budget packets per poll, {@code 0..65535}; above {@value #DEFAULT_BUDGET} needs CAP_NET_ADMIN
     * @param prefer whether to prefer busy polling over the card's interrupts ({@code prefer_busy_poll})
     * @return the settings
     * @throws IllegalArgumentException naming a value out of range
     */
    public static BusyPoll of(Duration time, int budget, boolean prefer) {
        Objects.requireNonNull(time, "time");
        long micros = time.toNanos() / 1000;
        if (time.isNegative() || micros > Integer.MAX_VALUE || micros * 1000 != time.toNanos()) {
            throw new IllegalArgumentException("busy poll time must be whole microseconds in 0.." + Integer.MAX_VALUE
                    + " us: " + time);
        }
        if (budget < 0 || budget > 0xFFFF) {
            throw new IllegalArgumentException("busy poll budget must be in 0..65535: " + budget);
        }
        return new BusyPoll(time, budget, prefer);
    }

    /** @return how long each wait busy-polls */
    public Duration time() {
        return time;
    }

    /** @return packets per poll */
    public int budget() {
        return budget;
    }

    /** @return whether busy polling is preferred over interrupts */
    public boolean prefer() {
        return prefer;
    }

    /** Applies {@code params} to {@code epfd}: false where the kernel lacks the ioctl. */
    static boolean apply(int epfd, BusyPoll params) throws EpollException {
        ByteBuffer b = NativeMemory.allocate(8); // struct epoll_params { u32 usecs; u16 budget; u8 prefer; u8 pad; }
        b.putInt(0, (int) (params.time.toNanos() / 1000));
        b.putShort(4, (short) params.budget);
        b.put(6, (byte) (params.prefer ? 1 : 0));
        if (LibC.ioctl(epfd, EPIOCSPARAMS, NativeMemory.address(b)) == 0) {
            return true;
        }
        int errno = LibC.errno();
        if (errno == Errno.ENOTTY || errno == Errno.EINVAL) {
            return false;
        }
        throw new EpollException("ioctl(epfd=" + epfd + ", EPIOCSPARAMS, " + params + ")"
                + (errno == Errno.EPERM ? " (a budget above " + DEFAULT_BUDGET + " needs CAP_NET_ADMIN)" : ""), errno);
    }

    /** What the kernel holds for {@code epfd}; empty where it lacks the ioctl. */
    static Optional<BusyPoll> read(int epfd) throws EpollException {
        ByteBuffer b = NativeMemory.allocate(8);
        if (LibC.ioctl(epfd, EPIOCGPARAMS, NativeMemory.address(b)) != 0) {
            int errno = LibC.errno();
            if (errno == Errno.ENOTTY || errno == Errno.EINVAL) {
                return Optional.empty();
            }
            throw new EpollException("ioctl(epfd=" + epfd + ", EPIOCGPARAMS)", errno);
        }
        return Optional.of(new BusyPoll(Duration.ofNanos(1000L * Integer.toUnsignedLong(b.getInt(0))),
                Short.toUnsignedInt(b.getShort(4)), b.get(6) != 0));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BusyPoll && ((BusyPoll) o).time.equals(time) && ((BusyPoll) o).budget == budget
                && ((BusyPoll) o).prefer == prefer;
    }

    @Override
    public int hashCode() {
        return Objects.hash(time, budget, prefer);
    }

    @Override
    public String toString() {
        return "BusyPoll[" + time.toNanos() / 1000 + " us, budget " + budget + (prefer ? ", prefer" : "") + "]";
    }
}
