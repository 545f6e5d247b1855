package org.epoll4j;

import org.epoll4j.internal.Errno;

import java.io.IOException;

/**
 * A failed system call. The message names the call, the arguments that matter and the errno's symbolic name and
 * text, e.g. {@code epoll_ctl(ADD, fd=12): EBADF (Bad file descriptor)}.
 */
public class EpollException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    /**
     * @param call  the call with its relevant arguments, e.g. {@code "epoll_ctl(ADD, fd=12)"}
     * @param errno the errno the call failed with
     */
    public EpollException(String call, int errno) {
        super(call + ": " + Errno.describe(errno));
        this.call = call;
        this.errno = errno;
    }

    /** The call and its arguments, without the error. */
    public String call() {
        return call;
    }

    /** The numeric errno. */
    public int errno() {
        return errno;
    }

    /** The errno's symbolic name, e.g. {@code ECONNRESET}. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
