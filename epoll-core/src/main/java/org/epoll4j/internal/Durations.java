package org.epoll4j.internal;

import java.time.Duration;

/** Durations as nanoseconds for deadline arithmetic, the one place that caps them. */
public final class Durations {
    /**
     * About 73 years: no timeout is longer ("never"), and a sum of two such values, or {@code System.nanoTime()}
     * plus one, cannot overflow a long.
     */
    public static final long MAX_NANOS = Long.MAX_VALUE / 4;

    private Durations() {
    }

    /**
     * {@code d} in nanoseconds, saturated to {@code [-MAX_NANOS, MAX_NANOS]}: a huge {@link Duration} neither
     * overflows {@code toNanos()} nor a deadline computed from it.
     *
     * @param d any duration
     * @return nanoseconds, capped
     */
    public static long saturatedNanos(Duration d) {
        if (d.getSeconds() >= MAX_NANOS / 1_000_000_000L) {
            return MAX_NANOS;
        }
        if (d.getSeconds() <= -MAX_NANOS / 1_000_000_000L) {
            return -MAX_NANOS;
        }
        return d.toNanos();
    }
}
