package org.epoll4j;

/**
 * Receives the readiness of one {@link Registration}. Runs on the reactor's thread; it must not block.
 *
 * <p>A handler that throws does not stop the reactor: the throwable goes to the reactor's error handler and the
 * registration is cancelled (its {@link #onClosed} sees the throwable).
 */
@FunctionalInterface
public interface Handler {
    /**
     * Called when epoll reports the registration's fd ready.
     *
     * @param registration the registration the event belongs to
     * @param ready        what is ready (a cached constant: do not keep it for identity)
     * @throws Exception any failure; the registration is then cancelled
     */
    void onReady(Registration registration, Ready ready) throws Exception;

    /**
     * Called exactly once when the registration ends, on the reactor's thread.
     *
     * <p>A {@link FdReusedException} means the fd was closed without {@link Registration#cancel()} and
     * {@link Reactor#register} has since been given the same fd number (the kernel reused it): that number now
     * belongs to someone else. The handler must not close, read or write it; it may release anything else it holds.
     *
     * @param registration the registration that ended
     * @param cause        {@code null} after {@link Registration#cancel()} (from any thread); the handler's throwable
     *                     when it failed; a {@link ClosedReactorException} when the reactor closed; a
     *                     {@link FdReusedException} when its fd number was found closed and reused by a newer
     *                     registration
     */
    default void onClosed(Registration registration, Throwable cause) {
    }
}
