package org.epoll4j;

/**
 * How epoll reports readiness.
 *
 * <p>{@link #LEVEL} is the flashing light: as long as unread bytes remain (or buffer space is free) every wait reports
 * the fd again. {@link #EDGE} is the doorbell: it rings once per change, so a handler must consume everything (or
 * remember that it did not) before returning, and the fd must be non-blocking.
 */
public enum TriggerMode {
    /** Report while the condition holds. */
    LEVEL,
    /** Report once per change (EPOLLET). Requires a non-blocking fd. */
    EDGE
}
