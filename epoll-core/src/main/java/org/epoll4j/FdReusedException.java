package org.epoll4j;

import org.epoll4j.internal.Errno;

/**
 * The cause a registration ends with when its fd was closed without {@link Registration#cancel()} and the same fd
 * number was registered again (by this reactor's {@link Reactor#register}). The fd number now belongs to someone
 * else: a handler that receives this in {@link Handler#onClosed} must not close, read or write that fd number.
 */
public final class FdReusedException extends EpollException {
    private static final long serialVersionUID = 1L;

    private final int fd;

    /**
     * @param fd the fd number that was closed and reused
     */
    public FdReusedException(int fd) {
        super("fd " + fd + " closed without cancel() and reused", Errno.EBADF);
        this.fd = fd;
    }

    /** The fd number that was reused; it no longer belongs to the ended registration. */
    public int fd() {
        return fd;
    }
}
