package org.epoll4j;

/**
 * A {@link Handler} split into one method per kind of readiness; override the ones you need.
 *
 * <p>For one event the methods run in this order, each only while the registration is still valid: readable,
 * writable, read hangup, hangup, error. Reading first means data that arrived just before a hangup is not lost.
 */
public abstract class HandlerAdapter implements Handler {
    /** Creates an adapter whose methods all do nothing. */
    protected HandlerAdapter() {
    }

    @Override
    public final void onReady(Registration registration, Ready ready) throws Exception {
        if (ready.isReadable()) {
            onReadable(registration);
        }
        if (ready.isWritable() && registration.isValid()) {
            onWritable(registration);
        }
        if (ready.isReadHangup() && registration.isValid()) {
            onReadHangup(registration);
        }
        if (ready.isHangup() && registration.isValid()) {
            onHangup(registration);
        }
        if (ready.isError() && registration.isValid()) {
            onError(registration);
        }
    }

    /**
     * The fd is readable (EPOLLIN).
     *
     * @param registration the ready registration
     * @throws Exception any failure; the registration is then cancelled
     */
    public void onReadable(Registration registration) throws Exception {
    }

    /**
     * The fd is writable (EPOLLOUT).
     *
     * @param registration the ready registration
     * @throws Exception any failure; the registration is then cancelled
     */
    public void onWritable(Registration registration) throws Exception {
    }

    /**
     * The peer shut down its writing side (EPOLLRDHUP).
     *
     * @param registration the ready registration
     * @throws Exception any failure; the registration is then cancelled
     */
    public void onReadHangup(Registration registration) throws Exception {
    }

    /**
     * Both directions are closed (EPOLLHUP).
     *
     * @param registration the ready registration
     * @throws Exception any failure; the registration is then cancelled
     */
    public void onHangup(Registration registration) throws Exception {
    }

    /**
     * An error is pending (EPOLLERR).
     *
     * @param registration the ready registration
     * @throws Exception any failure; the registration is then cancelled
     */
    public void onError(Registration registration) throws Exception {
    }
}
