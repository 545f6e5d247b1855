package org.epoll4j.net;

/** A write, shutdown or sendFile on a connection that is closed or whose output was shut down. */
public class ClosedConnectionException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** @param message what was attempted on which connection */
    public ClosedConnectionException(String message) {
        super(message);
    }
}
