package org.epoll4j.net;

import javax.net.ssl.SSLException;

/**
 * The peer closed its TCP connection without sending TLS close_notify first: what it sent may have been cut short
 * by an attacker or a crash, so this is never reported as a clean close.
 */
public final class TlsTruncationException extends SSLException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what happened, naming the connection
     */
    public TlsTruncationException(String message) {
        super(message);
    }
}
