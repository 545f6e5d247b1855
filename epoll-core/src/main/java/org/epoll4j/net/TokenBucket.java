package org.epoll4j.net;

/**
 * A token bucket refilled in whole ticks, lazily: whenever it is used it credits the ticks elapsed since it last
 * did (so an idle bucket needs no timer). The refill per tick is {@code rate * tick}, with the fraction of a byte
 * carried to the next tick. Loop thread only.
 */
final class TokenBucket {
    private final RateLimit limit;
    private final long tickNanos;
    /** Milli-bytes one tick adds. */
    private final long perTickMilli;
    long tokens;
    private long lastTick;
    private long carryMilli;
    /** Ticks credited so far (each adds at most {@link RateLimit#perTickCeil} bytes). */
    long ticks;

    TokenBucket(RateLimit limit, long tickMillis, long now) {
        this.limit = limit;
        this.tickNanos = tickMillis * 1_000_000L;
        this.perTickMilli = limit.bytesPerSecond() * tickMillis;
        this.tokens = limit.burst();
        this.lastTick = now;
    }

    void refill(long now) {
        long n = (now - lastTick) / tickNanos;
        if (n <= 0) {
            return;
        }
        lastTick += n * tickNanos;
        if (tokens >= limit.burst()) {
            carryMilli = 0; // full: idle ticks add nothing and are not counted
            return;
        }
        // no more ticks than it takes to fill the bucket (keeps the arithmetic in range and the tick count honest)
        long need = (limit.burst() - tokens) * 1000 - carryMilli;
        long useful = Math.min(n, (need + perTickMilli - 1) / perTickMilli);
        ticks += useful;
        long milli = carryMilli + useful * perTickMilli;
        tokens += milli / 1000;
        carryMilli = milli % 1000;
        if (tokens >= limit.burst()) {
            tokens = limit.burst();
            carryMilli = 0;
        }
    }
}
