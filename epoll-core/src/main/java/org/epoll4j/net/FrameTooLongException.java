package org.epoll4j.net;

import java.io.IOException;

/**
 * A peer sent a frame (a line, a length-prefixed message) longer than the decoder's limit. The decoding handlers
 * close the connection with this exception as the cause ({@link ConnectionHandler#onClose}).
 */
public final class FrameTooLongException extends IOException {
    private static final long serialVersionUID = 1L;

    private final long limit;

    /**
     * @param message what was too long, naming the limit
     * @param limit   the limit in bytes
     */
    public FrameTooLongException(String message, long limit) {
        super(message);
        this.limit = limit;
    }

    /** The limit that was exceeded, in bytes. */
    public long limit() {
        return limit;
    }
}
