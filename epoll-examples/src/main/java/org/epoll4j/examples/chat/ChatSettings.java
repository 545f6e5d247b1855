package org.epoll4j.examples.chat;

import java.time.Duration;

/**
 * The chat's per-user limits.
 *
 * @param floodRate   lines a user may send per second on average (a token bucket's refill rate); 0 = no limit
 * @param floodBurst  lines a user may send at once (the bucket's size)
 * @param maxUsers    the most users at once; more are turned away with a message
 * @param idleTimeout how long a user may send nothing before being disconnected; zero = never
 */
record ChatSettings(double floodRate, int floodBurst, int maxUsers, Duration idleTimeout) {
    /** No flood limit, no user cap, no idle timeout. */
    static final ChatSettings UNLIMITED = new ChatSettings(0, 1, Integer.MAX_VALUE, Duration.ZERO);
}
