package org.epoll4j;

/**
 * A task scheduled on a {@link Reactor}'s timer; it can be cancelled until it runs.
 *
 * <p>Every timeout ends: it either runs ({@link #isExpired()}) or is cancelled ({@link #isCancelled()}), by
 * {@link #cancel()} or because its reactor closed before it was due (a reactor's close does not run pending timers).
 */
public interface Timeout {
    /**
     * Cancels the task if it has not run yet. Safe from any thread.
     *
     * @return {@code true} if this call cancelled it; {@code false} if it already ran or was already cancelled
     *         (including by its reactor's close)
     */
    boolean cancel();

    /** Whether the task was cancelled: by {@link #cancel()}, or by its reactor closing before it was due. */
    boolean isCancelled();

    /** Whether the task has run (or is running). */
    boolean isExpired();
}
