package org.epoll4j.examples.http;

/**
 * The limits and timeouts every connection of the server runs with.
 *
 * @param maxHeaderBytes     the most bytes a request head (request line, fields, blank line) may take; also the most
 *                           a connection ever buffers
 * @param maxBodyBytes       the largest Content-Length accepted (413 above it)
 * @param headerTimeoutNanos how long a connection may take to send a complete head, counted from its first byte
 *                           (from the connection's opening for the first request)
 * @param idleTimeoutNanos   how long a connection may go without a read (and without its output moving) between
 *                           or during requests before it is closed, counted from its last read
 * @param files              the static files, or null without {@code --root}
 * @param accessLog          the access log, or null without {@code --access-log}
 */
record HttpSettings(int maxHeaderBytes, long maxBodyBytes, long headerTimeoutNanos, long idleTimeoutNanos,
                    StaticFiles files, AccessLog accessLog) {
    /** Settings without an access log. */
    HttpSettings(int maxHeaderBytes, long maxBodyBytes, long headerTimeoutNanos, long idleTimeoutNanos,
                 StaticFiles files) {
        this(maxHeaderBytes, maxBodyBytes, headerTimeoutNanos, idleTimeoutNanos, files, null);
    }

    /** The longest a lingering close waits for the peer's FIN after the server's last response. */
    long lingerNanos() {
        return Math.min(headerTimeoutNanos, 2_000_000_000L);
    }
}
