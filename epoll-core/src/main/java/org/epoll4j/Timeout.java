package org.epoll4j;

/** A task scheduled on a {@link Reactor}'s timer; it can be cancelled until it runs. */
public interface Timeout {
    /**
     * Cancels the task if it has not run yet. Safe from any thread.
     *
     * @return {@code true} if this call cancelled it; {@code false} if it already ran or was already cancelled
     */
    boolean cancel();

    /** Whether {@link #cancel()} took effect. */
    boolean isCancelled();

    /** Whether the task has run (or is running). */
    boolean isExpired();
}
