package org.epoll4j.net;

/**
 * A token-bucket limit: a sustained rate in bytes per second and a burst, the most bytes that may pass at once
 * after a quiet spell (the bucket's size). Used by {@link RateLimiter} (one connection) and {@link RateLimitGroup}
 * (many connections sharing one budget). Immutable.
 */
public final class RateLimit {
    /** Rates and bursts above this would overflow the refill arithmetic (milli-bytes per tick); far beyond any NIC anyway. */
    static final long MAX_RATE = Long.MAX_VALUE / 1_000_000L;

    private final long bytesPerSecond;
    private final long burst;

    private RateLimit(long bytesPerSecond, long burst) {
        this.bytesPerSecond = bytesPerSecond;
        this.burst = burst;
    }

    /**
     * A limit of {@code bytesPerSecond} sustained, with bursts of up to {@code burst} bytes.
     *
     * @param bytesPerSecond the sustained rate, at least 1
     * @param burst          the bucket's size, at least 1; it must also hold one tick's refill (checked where the
     *                       tick is known, by the limiter or group builder)
     * @return the limit
     * @throws IllegalArgumentException if either is out of range
     */
    public static RateLimit of(long bytesPerSecond, long burst) {
        if (bytesPerSecond < 1 || bytesPerSecond > MAX_RATE) {
            throw new IllegalArgumentException("rate limit: bytesPerSecond must be in [1, " + MAX_RATE + "], not "
                    + bytesPerSecond);
        }
        if (burst < 1 || burst > MAX_RATE) {
            throw new IllegalArgumentException("rate limit: burst must be in [1, " + MAX_RATE + "] bytes, not "
                    + burst);
        }
        return new RateLimit(bytesPerSecond, burst);
    }

    /** The sustained rate, bytes per second. */
    public long bytesPerSecond() {
        return bytesPerSecond;
    }

    /** The bucket's size: the most bytes that may pass at once. */
    public long burst() {
        return burst;
    }

    /** Bytes one tick of {@code tickMillis} adds, rounded up (what a bound on bytes passed per tick must allow). */
    long perTickCeil(long tickMillis) {
        return (bytesPerSecond * tickMillis + 999) / 1000;
    }

    /** Throws unless the bucket holds a whole tick's refill (else the burst, not the rate, would cap throughput). */
    void checkTick(long tickMillis, String what) {
        long perTick = perTickCeil(tickMillis);
        if (burst < perTick) {
            throw new IllegalArgumentException(what + ": burst " + burst + " B is below one tick's refill ("
                    + perTick + " B per " + tickMillis + " ms at " + bytesPerSecond + " B/s); raise the burst or "
                    + "shorten the tick");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RateLimit && ((RateLimit) o).bytesPerSecond == bytesPerSecond
                && ((RateLimit) o).burst == burst;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(bytesPerSecond) * 31 + Long.hashCode(burst);
    }

    @Override
    public String toString() {
        return "RateLimit[" + bytesPerSecond + " B/s, burst " + burst + " B]";
    }
}
